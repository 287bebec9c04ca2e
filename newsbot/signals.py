"""newsbot's own signals: the crawl's parts report through them to newsbot.outcome.CrawlOutcome
and crawl health."""

# Sent once per article page parsed, with extraction=, url=, spider=; crawl health listens.
article_extracted = object()
# A page the crawl meant to store and will not: reason= (one of newsbot.stats.LOSS_REASONS), url=.
page_lost = object()
# The crawl is broken: reason= (one of newsbot.reasons.BROKEN), message= (None when the sender
# logged what broke), args=. The receiver answers True when it closes the crawl for that reason.
crawl_broken = object()
