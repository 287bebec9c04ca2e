"""Crawl health (fill rates, the checks of newsbot.monitors' one suite) and the progress line."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import Counter
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from twisted.internet import task

from newsbot.config import config
from newsbot.items import REQUIRED_FIELDS, ArticleItem
from newsbot.loaders import Extraction, article_extracted
from newsbot import stats as keys
from newsbot.monitors import (Baseline, CrawlHealthSuite, HealthMonitor, Leak, LeakLimit, RequiredFields, baselines,
                              count, judge)
from newsbot.outcome import closing, report_broken
from newsbot.repeats import RepeatCounter
from newsbot.store import Store, StoreError

logger = logging.getLogger(__name__)

_SAMPLE_LIMIT = 5  # URLs named per selector that found nothing
# Not an item field: article pages that gave an item whose category key (unified over the page's
# linked editions) is one of newsbot/data/categories.json.
KNOWN_CATEGORY = "known_category"


class Progress:
    """The progress_line every NEWSBOT_PROGRESS_INTERVAL seconds while the crawl runs, read from the
    stats alone (the queue as the scheduler's enqueued less dequeued)."""

    def __init__(self, crawler: Crawler) -> None:
        self.interval = config(crawler).progress_interval
        if not self.interval:
            raise NotConfigured("NEWSBOT_PROGRESS_INTERVAL is 0")
        self.crawler = crawler
        self.started = 0.0
        self.task: task.LoopingCall | None = None
        self.page_limit = crawler.settings.getint("CLOSESPIDER_PAGECOUNT")
        self.item_limit = crawler.settings.getint("CLOSESPIDER_ITEMCOUNT")
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        return cls(crawler)

    def spider_opened(self, spider) -> None:
        self.started = time.monotonic()
        self.task = task.LoopingCall(self.log)
        self.task.start(self.interval, now=False)

    def spider_closed(self, spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()

    def log(self) -> None:
        logger.info("Progress: %s", progress_line(self.crawler.stats.get_stats(), time.monotonic() - self.started,
                                                  self.page_limit, self.item_limit))


def progress_line(stats: dict[str, Any], seconds: float, page_limit: int = 0, item_limit: int = 0) -> str:
    """"240 pages (35 queued), 180 new, 2 updated, 40 unchanged articles, 1 error; 4.0 pages/s,
    180 new/min; about 2 min left" from a crawl's stats after `seconds`."""
    pages = stats.get("response_received_count", 0)
    queued = max(0, stats.get("scheduler/enqueued", 0) - stats.get("scheduler/dequeued", 0))
    new = stats.get(keys.STORED_NEW, 0)
    errors = stats.get("log_count/ERROR", 0)
    minutes = max(seconds, 1e-9) / 60
    line = (f"{pages} pages ({queued} queued), {new} new, {stats.get(keys.STORED_UPDATED, 0)} updated, "
            f"{stats.get(keys.STORED_UNCHANGED, 0)} unchanged articles, {errors} error{'s' * (errors != 1)}; "
            f"{pages / minutes / 60:.1f} pages/s, {new / minutes:.0f} new/min")
    items = stats.get("item_scraped_count", 0)
    left = []  # seconds to each limit at the rate so far; the nearer one ends the crawl
    if page_limit and pages:
        left.append(max(0, page_limit - pages) * seconds / pages)
    if item_limit and items:
        left.append(max(0, item_limit - items) * seconds / items)
    if left:
        soonest = min(left)
        line += f"; about {round(soonest)} s left" if soonest < 90 else f"; about {round(soonest / 60)} min left"
    return line


class CrawlHealth:
    """Keeps what each article page's extraction gave as stats and runs newsbot.monitors.CrawlHealthSuite
    on them when the spider goes idle, while the close reason is still free, and the required fields
    also as pages come (docs/crawling.md, Crawl health)."""

    # Texts a story typically adds (real paragraphs, photos): what the leak counters are sized by. A
    # crawl whose stories add more only loosens the counts, which the judgement takes into account.
    TEXTS_PER_STORY = {"paragraph": 20, "image": 4}
    SHOWN_CHARS = 80

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.config = settings = config(crawler)
        self.pages = 0
        self.filled: Counter[str] = Counter()  # item field (and KNOWN_CATEGORY) -> article pages with it
        self.selector_misses: Counter[str] = Counter()  # selector -> article pages it found nothing on
        self.selector_samples: dict[str, list[str]] = {}
        self.unknown_categories: Counter[str] = Counter()  # category_slug -> article pages
        self.closed_it = False
        self.leak_limits = {kind: limit for kind, limit in (
            ("paragraph", LeakLimit(settings.leak_share, settings.leak_min_stories, "NEWSBOT_LEAK_SHARE")),
            ("image", LeakLimit(settings.leak_image_share, settings.leak_image_min_stories,
                                "NEWSBOT_LEAK_IMAGE_SHARE")),
        ) if limit.share < 1}
        self.leaks = {kind: RepeatCounter.for_share(limit.share, self.TEXTS_PER_STORY[kind],
                                                    samples=Leak.SAMPLES, keep_chars=self.SHOWN_CHARS)
                      for kind, limit in self.leak_limits.items()}
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
        if extraction.item is not None:
            if "unknown_category" in extraction.problems:
                self.unknown_categories[item.get("category_slug") or ""] += 1
            else:
                self.filled[KNOWN_CATEGORY] += 1
            story = item.get("url") or url
            texts = {"paragraph": (item.get("body") or "").split("\n\n"),
                     "image": [image["url"] for image in item.get("images") or ()]}
            for kind, counter in self.leaks.items():
                counter.add(story, texts[kind])
        for selector in extraction.failed_selectors:
            self.selector_misses[selector] += 1
            urls = self.selector_samples.setdefault(selector, [])
            if len(urls) < _SAMPLE_LIMIT:
                urls.append(url)
        degraded = any(item.get(field) in (None, "") for field in REQUIRED_FIELDS)
        if degraded:
            self.crawler.stats.inc_value(keys.DEGRADED_PAGES)
        # Judged as pages come, on the pages that can tip the share over: one lacking a field, and
        # the one from which there are enough pages to judge.
        least = self.config.degraded_min_pages
        if (degraded and self.pages >= least) or self.pages == least:
            self.judge(spider, only=RequiredFields)

    def record_fill_rates(self) -> None:
        stats = self.crawler.stats
        stats.set_value(keys.PAGES_JUDGED, self.pages)
        if self.pages:
            for field in (*ArticleItem.fields, KNOWN_CATEGORY):
                stats.set_value(keys.fill_rate(field), round(self.filled[field] / self.pages, 4))

    def spider_idle(self, spider) -> None:
        self.record_fill_rates()
        stats = self.crawler.stats
        if not closing(self.crawler) and self.pages >= self.config.degraded_min_pages:
            for kind, counter in self.leaks.items():
                top = counter.top()
                stats.set_value(f"newsbot/leak/{kind}", len(self.leak_limits[kind].offenders(counter)))
                stats.set_value(f"newsbot/leak/top_share/{kind}",
                                round(top.stories / counter.stories, 4) if top and counter.stories else 0.0)
        if self.judge(spider):
            raise DontCloseSpider

    def judge(self, spider, only: type[HealthMonitor] | None = None) -> bool:
        """Run the suite (`only` those checks); True if a check failed and closed the crawl (each
        failure said in ERROR lines)."""
        if closing(self.crawler):
            return False
        if self.baselines is None and only is None:
            self.baselines = baselines(self.history(spider.name), self.config)
        # A suite runs once (unittest drops each test it ran): built for every judgement.
        suite = CrawlHealthSuite.build(self.config.fill_floors, self.leak_limits, only=only)
        failed, errors = judge(suite, stats=self.crawler.stats.get_stats(), config=self.config,
                               crawler=self.crawler, spider=spider, baselines=self.baselines or {},
                               leaks=self.leaks, leak_limits=self.leak_limits)
        for error in errors:  # a bug in a check is said, but does not fail the crawl
            logger.error("Crawl health check could not run: %s", error)
        if not failed:
            if only is None:
                self.log_as_usual()
            return False
        for monitor, message in failed:
            for line in message.splitlines():
                logger.error("Crawl is broken (%s): %s", monitor.reason, line)
        closed = report_broken(self.crawler, failed[0][0].reason)
        if closed and any(isinstance(monitor, RequiredFields) for monitor, _ in failed):
            self.closed_it = True  # the selectors that found nothing are why: said as errors
            self.log_failed_selectors(logging.ERROR)
        return closed

    def log_as_usual(self) -> None:
        stats = self.crawler.stats
        if self.config.fill_floors and self.pages >= self.config.degraded_min_pages:
            logger.info("Fill rates of %d article pages are as usual: %s", self.pages, ", ".join(
                f"{field} {stats.get_value(keys.fill_rate(field), 0):.0%} "
                f"(>= {b.threshold:.1%}, {'median of %d runs' % b.runs if b.median is not None else 'floor'})"
                for field, b in (self.baselines or {}).items()))
        if self.leaks and self.pages >= self.config.degraded_min_pages:
            logger.info("No leak in %d stories: %s", self.pages, "; ".join(
                f"the most repeated {kind} is in {count(counter.top(), counter)}"
                for kind, counter in self.leaks.items() if counter.top()) or "nothing repeated")

    def history(self, spider_name: str) -> list[dict[str, Any]]:
        """Fill rates of the store's last complete runs of this spider (none without a store)."""
        if not self.config.fill_floors or not self.config.db:
            return []
        wanted = [keys.fill_rate(field) for field in self.config.fill_floors]
        try:
            with Store(self.config.db, readonly=True) as store:
                return store.complete_run_stats(spider_name, wanted, min_pages=self.config.degraded_min_pages,
                                                limit=self.config.fill_history_runs)
        except (StoreError, sqlite3.Error) as exc:
            logger.warning("No crawl history for the fill-rate check (the floors apply): %s", exc)
            return []

    def log_failed_selectors(self, level: int) -> None:
        for selector, misses in self.selector_misses.most_common():
            logger.log(level, "Selector %r found nothing on %d of %d article page(s), e.g. %s",
                       selector, misses, self.pages, ", ".join(self.selector_samples[selector]))

    def spider_closed(self, spider, reason: str) -> None:
        # Connected before the SQLite pipeline's spider_closed, so the run it records carries these stats.
        stats = self.crawler.stats
        self.record_fill_rates()
        for selector, misses in self.selector_misses.items():
            stats.set_value(f"newsbot/selector_missed/{selector}", misses)
        if not self.closed_it:
            # Below the threshold: a few odd pages (counted as drops or warnings), not a broken crawl
            # of this check's, so no log_count/ERROR for monitoring to page someone over.
            self.log_failed_selectors(logging.WARNING)
        if self.unknown_categories:
            # One line for the crawl: an unknown slug is a gap in newsbot/data/categories.json, the
            # same on every page of that category.
            logger.warning("Unknown category on %d of %d article pages: %s", sum(self.unknown_categories.values()),
                           self.pages, ", ".join(f"{slug or '(none)'} ({pages})"
                                                 for slug, pages in self.unknown_categories.most_common()))
