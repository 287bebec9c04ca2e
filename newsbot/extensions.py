"""Crawl health: field fill rates, and a close reason that says when a crawl was broken."""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro

from newsbot.items import REQUIRED_FIELDS, ArticleItem
from newsbot.loaders import Extraction
from newsbot.monitors import PAGES_STAT, Baseline, baselines, fill_rate_stat, judge
from newsbot.signals import article_extracted
from newsbot.store import Store, StoreError

logger = logging.getLogger(__name__)

_SAMPLE_LIMIT = 20
# Not an item field: article pages that gave an item whose category is one of newsbot/data/categories.json.
KNOWN_CATEGORY = "known_category"


class CrawlHealth:
    """Watches every article page's extraction.

    - When the spider goes idle and at close: `newsbot/fill_rate/<field>` for every item field
      and `newsbot/fill_rate/known_category` (share of article pages).
    - During the crawl: once NEWSBOT_DEGRADED_MIN_PAGES pages were seen, if more than
      NEWSBOT_DEGRADED_THRESHOLD of them lack a required field, the crawl closes as
      `extraction_degraded` and the failing selectors are logged with sample URLs.
    - When the spider goes idle: `no_listings` if no listing page gave any card
      (site down or redesigned) and `too_many_errors` if most responses failed; else, once its
      work is done and if it saw NEWSBOT_DEGRADED_MIN_PAGES article pages, the fill rates of
      the optional fields (the keys of NEWSBOT_FILL_FLOORS) are judged by spidermon monitors
      (newsbot.monitors) against the store's history or the floors, and a field far below
      closes the crawl as `extraction_degraded` (one ERROR line per field). A crawl closed for
      any other reason (killed, CLOSESPIDER_*, a broken store) is not judged.
    """

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.threshold = settings.getfloat("NEWSBOT_DEGRADED_THRESHOLD", 0.2)
        self.min_pages = settings.getint("NEWSBOT_DEGRADED_MIN_PAGES", 20)
        self.error_threshold = settings.getfloat("NEWSBOT_ERROR_THRESHOLD", 0.5)
        # Defaults in settings.py.
        self.fill_floors = {field: float(floor) for field, floor in settings.getdict("NEWSBOT_FILL_FLOORS").items()}
        self.history_runs = settings.getint("NEWSBOT_FILL_HISTORY_RUNS")
        self.history_min_runs = settings.getint("NEWSBOT_FILL_HISTORY_MIN_RUNS")
        self.history_ratio = settings.getfloat("NEWSBOT_FILL_HISTORY_RATIO")
        self.db_path = settings.get("NEWSBOT_DB") or ""
        self.pages = 0
        self.degraded_pages = 0
        self.filled: Counter[str] = Counter()  # item field (and KNOWN_CATEGORY) -> article pages with it
        self.selector_misses: Counter[str] = Counter()  # selector -> article pages it found nothing on
        self.selector_samples: dict[str, list[str]] = {}
        self.closing = False
        self.baselines: dict[str, Baseline] | None = None  # read from the store once, when first judged

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
        if extraction.item is not None and "unknown_category" not in extraction.problems:
            self.filled[KNOWN_CATEGORY] += 1
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
        # The work is done (idle, and no other check closed it): the close reason is still ours to give.
        self.record_fill_rates()
        if self.pages >= self.min_pages and self.fill_floors and self.fill_rates_fail(spider):
            self.closing = True
            # The per-field lines say what broke; the selector misses (required fields, below
            # their own threshold) stay warnings, as on a healthy crawl.
            self.log_failed_selectors(logging.WARNING)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="extraction_degraded"))
            raise DontCloseSpider

    def fill_rates_fail(self, spider) -> bool:
        """Judge the watched fields' fill rates (spidermon's runner, see newsbot.monitors); True if
        one is far below its baseline (each is logged as an ERROR line by the suite's action)."""
        if self.baselines is None:
            history = self.history(spider.name)
            self.baselines = baselines(self.fill_floors, history, min_runs=self.history_min_runs,
                                       ratio=self.history_ratio, min_pages=self.min_pages)
        verdict = judge(self.crawler, self.crawler.stats.get_stats(), self.baselines)
        for error in verdict.errors:  # a bug in a check is said, but does not fail the crawl
            logger.error("Fill-rate check could not run: %s", error)
        if not verdict.failed:
            logger.info("Fill rates of %d article pages are as usual: %s", self.pages, ", ".join(
                f"{field} {self.crawler.stats.get_value(fill_rate_stat(field), 0):.0%} "
                f"(>= {b.threshold:.1%}, {'median of %d runs' % b.runs if b.median is not None else 'floor'})"
                for field, b in self.baselines.items()))
        return bool(verdict.failed)

    def history(self, spider_name: str) -> list[dict[str, Any]]:
        """Fill rates of the store's last complete runs of this spider (none without a store)."""
        if not self.db_path or self.history_runs <= 0:
            return []
        keys = [fill_rate_stat(field) for field in self.fill_floors]
        try:
            with Store(self.db_path, readonly=True) as store:
                return store.complete_run_stats(spider_name, keys, min_pages=self.min_pages,
                                                limit=self.history_runs)
        except (StoreError, sqlite3.Error) as exc:
            logger.warning("No crawl history for the fill-rate check (the floors apply): %s", exc)
            return []

    def close(self, spider, reason: str, message: str, *args) -> None:
        self.closing = True
        logger.error("Crawl is broken (%s): " + message, reason, *args)
        self.log_failed_selectors(logging.ERROR)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def log_failed_selectors(self, level: int) -> None:
        for selector, misses in self.selector_misses.most_common():
            logger.log(level, "Selector %r found nothing on %d of %d article page(s), e.g. %s",
                       selector, misses, self.pages, ", ".join(self.selector_samples[selector][:5]))

    def record_fill_rates(self) -> None:
        stats = self.crawler.stats
        stats.set_value(PAGES_STAT, self.pages)
        if self.pages:
            for field in (*ArticleItem.fields, KNOWN_CATEGORY):
                stats.set_value(fill_rate_stat(field), round(self.filled[field] / self.pages, 4))

    def spider_closed(self, spider, reason: str) -> None:
        # Connected before the SQLite pipeline's spider_closed (extensions are built before the
        # engine and its pipelines), so the run it records carries these stats; a 'finished' run
        # has them from spider_idle in any case.
        stats = self.crawler.stats
        self.record_fill_rates()
        for selector, misses in self.selector_misses.items():
            stats.set_value(f"newsbot/selector_missed/{selector}", misses)
        if not self.closing:
            # Below the threshold: a few odd pages (counted as drops or warnings), not a broken crawl,
            # so no log_count/ERROR for monitoring to page someone over.
            self.log_failed_selectors(logging.WARNING)
