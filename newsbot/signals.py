"""newsbot's own signals (Scrapy signals are plain objects compared by identity)."""

# Sent once per article page parsed, with extraction=, url=, spider=; crawl health listens.
article_extracted = object()
