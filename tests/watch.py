"""Test-only extension: what the scheduler held at most during a crawl (stats test/max_queued)."""

from __future__ import annotations

from scrapy import signals


class QueueWatch:
    def __init__(self, crawler):
        self.crawler = crawler
        self.most = 0
        crawler.signals.connect(self.request_scheduled, signals.request_scheduled)
        crawler.signals.connect(self.spider_closed, signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def request_scheduled(self, request, spider) -> None:
        # Sent before the request is queued: it is one more than the queue holds.
        self.most = max(self.most, len(self.crawler.engine.scheduler) + 1)

    def spider_closed(self, spider) -> None:
        self.crawler.stats.set_value("test/max_queued", self.most)
