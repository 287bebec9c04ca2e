"""Crawl health: field fill rates, and a close reason that says when a crawl was broken."""

from __future__ import annotations

import logging
from collections import Counter

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro

from newsbot.items import REQUIRED_FIELDS, ArticleItem
from newsbot.loaders import Extraction
from newsbot.signals import article_extracted

logger = logging.getLogger(__name__)

# Close reasons that mean the crawl's output cannot be trusted; `scrapy crawl` exits 1 on them.
BROKEN_REASONS = frozenset({"extraction_degraded", "too_many_errors", "no_listings", "store_unavailable"})
_SAMPLE_LIMIT = 20


class CrawlHealth:
    """Watches every article page's extraction.

    - At close: `newsbot/fill_rate/<field>` for every item field (share of article pages).
    - During the crawl: once NEWSBOT_DEGRADED_MIN_PAGES pages were seen, if more than
      NEWSBOT_DEGRADED_THRESHOLD of them lack a required field, the crawl closes as
      `extraction_degraded` and the failing selectors are logged with sample URLs.
    - When the spider goes idle: `no_listings` if no listing page gave any card
      (site down or redesigned) and `too_many_errors` if most responses failed.
    """

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.threshold = settings.getfloat("NEWSBOT_DEGRADED_THRESHOLD", 0.2)
        self.min_pages = settings.getint("NEWSBOT_DEGRADED_MIN_PAGES", 20)
        self.error_threshold = settings.getfloat("NEWSBOT_ERROR_THRESHOLD", 0.5)
        self.pages = 0
        self.degraded_pages = 0
        self.filled: Counter[str] = Counter()
        self.selector_misses: Counter[str] = Counter()  # selector -> article pages it found nothing on
        self.selector_samples: dict[str, list[str]] = {}
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "CrawlHealth":
        extension = cls(crawler)
        crawler.signals.connect(extension.article_extracted, signal=article_extracted)
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def article_extracted(self, extraction: Extraction, url: str, spider) -> None:
        self.pages += 1
        item = extraction.item or {}
        for field in ArticleItem.fields:
            if item.get(field) not in (None, "", [], {}):
                self.filled[field] += 1
        if any(item.get(field) in (None, "") for field in REQUIRED_FIELDS):
            self.degraded_pages += 1
        for selector in extraction.failed_selectors:
            self.selector_misses[selector] += 1
            urls = self.selector_samples.setdefault(selector, [])
            if len(urls) < _SAMPLE_LIMIT:
                urls.append(url)
        if (not self.closing and self.pages >= self.min_pages
                and self.degraded_pages / self.pages > self.threshold):
            self.close(spider, "extraction_degraded",
                       "%d of %d article pages lack a required field", self.degraded_pages, self.pages)

    def spider_idle(self, spider) -> None:
        if self.closing:
            return
        stats = self.crawler.stats
        if stats.get_value("newsbot/listing/pages", 0) == 0 and spider.name != "article":
            self.close(spider, "no_listings", "no listing page gave any article card")
            raise DontCloseSpider
        # Pages given up on (after retries) and pages whose parsing raised (a broken egg, a code bug);
        # a 503 that a retry absorbed is not a failure.
        failures = sum(stats.get_value(k, 0) for k in (
            "newsbot/pages/article_failed", "newsbot/listing/failed", "spider_exceptions/count"))
        attempted = failures + sum(stats.get_value(k, 0) for k in (
            "newsbot/pages/article", "newsbot/listing/pages", "newsbot/listing/empty"))
        if attempted and failures / attempted > self.error_threshold:
            self.close(spider, "too_many_errors", "%d of %d pages failed", failures, attempted)
            raise DontCloseSpider

    def close(self, spider, reason: str, message: str, *args) -> None:
        self.closing = True
        logger.error("Crawl is broken (%s): " + message, reason, *args)
        self.log_failed_selectors(logging.ERROR)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def log_failed_selectors(self, level: int) -> None:
        for selector, misses in self.selector_misses.most_common():
            logger.log(level, "Selector %r found nothing on %d of %d article page(s), e.g. %s",
                       selector, misses, self.pages, ", ".join(self.selector_samples[selector][:5]))

    def spider_closed(self, spider, reason: str) -> None:
        stats = self.crawler.stats
        stats.set_value("newsbot/article_pages", self.pages)
        if self.pages:
            for field in ArticleItem.fields:
                stats.set_value(f"newsbot/fill_rate/{field}", round(self.filled[field] / self.pages, 4))
        for selector, misses in self.selector_misses.items():
            stats.set_value(f"newsbot/selector_missed/{selector}", misses)
        if not self.closing:
            # Below the threshold: a few odd pages (counted as drops or warnings), not a broken crawl,
            # so no log_count/ERROR for monitoring to page someone over.
            self.log_failed_selectors(logging.WARNING)
