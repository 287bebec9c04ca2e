"""newsbot's own signals; a lost page or a broken crawl is reported through newsbot.outcome instead."""

# Sent once per article page parsed, with extraction=, url=, spider=; crawl health listens.
article_extracted = object()
