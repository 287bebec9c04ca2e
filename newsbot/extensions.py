"""Crawl health: field fill rates, and small monitors that each report one close reason when the
crawl is broken (newsbot/reasons.py) to the crawl's outcome (newsbot.outcome), which closes it."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
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
from newsbot.loaders import Extraction
from newsbot import stats as keys
from newsbot.monitors import Baseline, baselines, judge
from newsbot.outcome import closing, report_broken
from newsbot.repeats import Repeat, RepeatCounter
from newsbot.signals import article_extracted
from newsbot.store import Store, StoreError

logger = logging.getLogger(__name__)

_SAMPLE_LIMIT = 20
# Not an item field: article pages that gave an item whose category key (unified over the page's
# linked editions) is one of newsbot/data/categories.json.
KNOWN_CATEGORY = "known_category"


class CollectorTuning:
    """gc.freeze() when the engine starts, gc.unfreeze() when it stops (NEWSBOT_GC_FREEZE).

    Everything start-up built lives as long as the crawl, yet each full collection of the cyclic
    garbage collector walks all of it again; a crawl allocates enough (requests, responses, lxml
    proxies, items) to run one every few hundred pages. Frozen, those objects are skipped
    (CPython's gc.freeze, made for the same situation in pre-fork servers). Unfrozen at the end,
    so that a process running several crawls (tests, an embedding program) frees what one left.
    """

    def __init__(self) -> None:
        self.frozen = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CollectorTuning:
        if not config(crawler).gc_freeze:
            raise NotConfigured("NEWSBOT_GC_FREEZE is off")
        extension = cls()
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_started(self) -> None:
        gc.freeze()
        self.frozen = True

    def engine_stopped(self) -> None:
        if self.frozen:
            gc.unfreeze()
            self.frozen = False


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def malloc_info() -> dict[str, int]:
    """glibc malloc's own account, in bytes (mallinfo2): its heap (`arena`), the blocks it mapped on
    their own (`hblkhd`), what is in use in the heap (`uordblks`) and free but kept there (`fordblks`,
    RSS that no live object accounts for). Empty elsewhere than glibc 2.33+."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
    except (OSError, AttributeError):
        return {}
    info = libc.mallinfo2()
    return {name: getattr(info, name) for name, _ in _Mallinfo2._fields_}


class HeapTrim:
    """Keeps glibc's heap from holding a long backfill's transients as holes, in two ways:

    - every NEWSBOT_HEAP_TRIM_INTERVAL seconds, and once more when the engine stops, it gives the
      kernel back the pages malloc holds free (malloc_trim);
    - from the start, blocks of NEWSBOT_HEAP_MMAP_THRESHOLD bytes or more get their own mapping
      (mallopt M_MMAP_THRESHOLD), unmapped when freed.

    A long backfill's transients grow with it: the last pages of big cumulative categories are
    megabytes of HTML, their decoded text and chunks. glibc's own mapping threshold rises to the
    largest mapped block freed (up to 32 MB), so after the first such page every page's buffers
    come from the heap; freed, they leave holes that later, smaller allocations only partly fill,
    and glibc keeps them resident: at 100,000 stories the heap held ~47 MB free against ~23 MB at
    10,000 (bench.memory's census), RSS that no live object accounted for. A fixed threshold keeps
    them out of the heap; a trim takes ~7 ms in a crawl (newsbot/heap_trim/seconds), ~25 ms on a
    100 MB heap full of holes. Elsewhere than glibc (musl, macOS) the extension stays off.
    """

    M_MMAP_THRESHOLD = -3  # glibc's malloc.h

    def __init__(self, crawler: Crawler, trim: Any, interval: float) -> None:
        self.stats = crawler.stats
        self.trim = trim
        self.interval = interval
        self.loop: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HeapTrim:
        settings = config(crawler)
        interval, threshold = settings.heap_trim_interval, settings.heap_mmap_threshold
        if interval <= 0 and threshold <= 0:
            raise NotConfigured("NEWSBOT_HEAP_TRIM_INTERVAL and NEWSBOT_HEAP_MMAP_THRESHOLD are 0")
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            trim, mallopt = libc.malloc_trim, libc.mallopt
        except (OSError, AttributeError) as exc:
            raise NotConfigured(f"no glibc malloc_trim here: {exc}") from exc
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
        mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        # Process-wide, and for the process's life: glibc has no per-crawl heap.
        if threshold > 0 and mallopt(cls.M_MMAP_THRESHOLD, threshold) == 1:
            crawler.stats.set_value("newsbot/heap_trim/mmap_threshold", threshold)
        extension = cls(crawler, trim, interval)
        if interval > 0:
            crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
            crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_started(self) -> None:
        self.loop = task.LoopingCall(self.trim_now)
        self.loop.start(self.interval, now=False)

    def trim_now(self) -> None:
        started = time.perf_counter()
        self.trim(0)
        self.stats.inc_value("newsbot/heap_trim/count")
        self.stats.inc_value("newsbot/heap_trim/seconds", round(time.perf_counter() - started, 4))

    def engine_stopped(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.trim_now()


class CrawlHealth:
    """Watches every article page's extraction, and closes the crawl when required fields go missing.

    - When the spider goes idle and at close: `newsbot/fill_rate/<field>` for every item field
      and `newsbot/fill_rate/known_category` (share of article pages), and `newsbot/article_pages`:
      what the monitors below (and the store's crawl history) judge by.
    - During the crawl: once NEWSBOT_DEGRADED_MIN_PAGES pages were seen, if more than
      NEWSBOT_DEGRADED_THRESHOLD of them lack a required field, the crawl closes as
      `extraction_degraded` and the failing selectors are logged with sample URLs (as warnings
      when the crawl ends otherwise).

    The other checks are monitors of their own, each an entry of EXTENSIONS (off with
    `-s 'EXTENSIONS={"newsbot.extensions.FillRateMonitor": null}'`, or by its setting):
    ListingsMonitor (`no_listings`), FillRateMonitor (optional fields, `extraction_degraded`) and
    LeakMonitor. Lost pages (`too_many_errors`) are the crawl's outcome's own (newsbot.outcome).
    """

    def __init__(self, crawler: Crawler):
        settings = config(crawler)
        self.crawler = crawler
        self.threshold = settings.degraded_threshold
        self.min_pages = settings.degraded_min_pages
        self.pages = 0
        self.degraded_pages = 0
        self.filled: Counter[str] = Counter()  # item field (and KNOWN_CATEGORY) -> article pages with it
        self.selector_misses: Counter[str] = Counter()  # selector -> article pages it found nothing on
        self.selector_samples: dict[str, list[str]] = {}
        self.unknown_categories: Counter[str] = Counter()  # category_slug -> article pages
        self.closed_it = False

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
        if any(item.get(field) in (None, "") for field in REQUIRED_FIELDS):
            self.degraded_pages += 1
        for selector in extraction.failed_selectors:
            self.selector_misses[selector] += 1
            urls = self.selector_samples.setdefault(selector, [])
            if len(urls) < _SAMPLE_LIMIT:
                urls.append(url)
        if (self.pages >= self.min_pages and self.degraded_pages / self.pages > self.threshold
                and report_broken(self.crawler, "extraction_degraded",
                                 "%d of %d article pages lack a required field", self.degraded_pages, self.pages)):
            self.closed_it = True
            self.log_failed_selectors(logging.ERROR)

    def spider_idle(self, spider) -> None:
        # Before the monitors that judge them (extensions connect in EXTENSIONS order).
        self.record_fill_rates()

    def log_failed_selectors(self, level: int) -> None:
        for selector, misses in self.selector_misses.most_common():
            logger.log(level, "Selector %r found nothing on %d of %d article page(s), e.g. %s",
                       selector, misses, self.pages, ", ".join(self.selector_samples[selector][:5]))

    def record_fill_rates(self) -> None:
        stats = self.crawler.stats
        stats.set_value(keys.PAGES_JUDGED, self.pages)
        if self.pages:
            for field in (*ArticleItem.fields, KNOWN_CATEGORY):
                stats.set_value(keys.fill_rate(field), round(self.filled[field] / self.pages, 4))

    def spider_closed(self, spider, reason: str) -> None:
        # Connected before the SQLite pipeline's spider_closed (extensions are built before the
        # engine and its pipelines), so the run it records carries these stats; a 'finished' run
        # has them from spider_idle in any case.
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


class ListingsMonitor:
    """`no_listings` when the spider's work is done and no listing page gave any card (site down or
    redesigned). The article spider reads no listings and is not judged."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ListingsMonitor:
        monitor = cls(crawler)
        crawler.signals.connect(monitor.spider_idle, signal=signals.spider_idle)
        return monitor

    def spider_idle(self, spider) -> None:
        if (spider.name != "article" and not closing(self.crawler)
                and self.crawler.stats.get_value(keys.LISTING_PAGES, 0) == 0
                and report_broken(self.crawler, "no_listings", "no listing page gave any article card")):
            raise DontCloseSpider


class FillRateMonitor:
    """The optional fields (the keys of NEWSBOT_FILL_FLOORS; off when it is empty), judged once the
    crawl's work is done, if it saw NEWSBOT_DEGRADED_MIN_PAGES article pages, by spidermon monitors
    (newsbot.monitors) against the store's history or the floors: a field far below closes the
    crawl as `extraction_degraded` (one ERROR line per field). A crawl closed for any other reason
    (killed, CLOSESPIDER_*, a broken store) is not judged."""

    def __init__(self, crawler: Crawler) -> None:
        settings = config(crawler)
        if not settings.fill_floors:
            raise NotConfigured("NEWSBOT_FILL_FLOORS is empty: no optional field is watched")
        self.crawler = crawler
        self.min_pages = settings.degraded_min_pages
        self.fill_floors = {field: float(floor) for field, floor in settings.fill_floors.items()}
        self.history_runs = settings.fill_history_runs
        self.history_min_runs = settings.fill_history_min_runs
        self.history_ratio = settings.fill_history_ratio
        self.db_path = settings.db
        self.baselines: dict[str, Baseline] | None = None  # read from the store once, when first judged

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FillRateMonitor:
        monitor = cls(crawler)
        crawler.signals.connect(monitor.spider_idle, signal=signals.spider_idle)
        return monitor

    def spider_idle(self, spider) -> None:
        # The work is done (idle, and no other check closed it): the close reason is still ours to give.
        pages = self.crawler.stats.get_value(keys.PAGES_JUDGED, 0)
        if closing(self.crawler) or pages < self.min_pages or not self.fill_rates_fail(spider, pages):
            return
        # The per-field lines said what broke (spidermon's action logged them).
        report_broken(self.crawler, "extraction_degraded")
        raise DontCloseSpider

    def fill_rates_fail(self, spider, pages: int) -> bool:
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
            logger.info("Fill rates of %d article pages are as usual: %s", pages, ", ".join(
                f"{field} {self.crawler.stats.get_value(keys.fill_rate(field), 0):.0%} "
                f"(>= {b.threshold:.1%}, {'median of %d runs' % b.runs if b.median is not None else 'floor'})"
                for field, b in self.baselines.items()))
        return bool(verdict.failed)

    def history(self, spider_name: str) -> list[dict[str, Any]]:
        """Fill rates of the store's last complete runs of this spider (none without a store)."""
        if not self.db_path or self.history_runs <= 0:
            return []
        wanted = [keys.fill_rate(field) for field in self.fill_floors]
        try:
            with Store(self.db_path, readonly=True) as store:
                return store.complete_run_stats(spider_name, wanted, min_pages=self.min_pages,
                                                limit=self.history_runs)
        except (StoreError, sqlite3.Error) as exc:
            logger.warning("No crawl history for the fill-rate check (the floors apply): %s", exc)
            return []


class LeakMonitor:
    """Page furniture leaking into the stories: judged once the crawl's work is done, if it saw
    NEWSBOT_DEGRADED_MIN_PAGES article pages. The same paragraph in the bodies of more than
    NEWSBOT_LEAK_SHARE of the crawl's stories (article items) and in NEWSBOT_LEAK_MIN_STORIES of them
    at least, or the same photo URL among their images beyond NEWSBOT_LEAK_IMAGE_SHARE and
    NEWSBOT_LEAK_IMAGE_MIN_STORIES, closes the crawl as
    `extraction_degraded` with one ERROR line per offender (the text or URL, its count, sample
    URLs); `newsbot/leak/paragraph` and `newsbot/leak/image` count the offenders, and
    `newsbot/leak/top_share/...` is the largest share any text reached. Counted in bounded memory
    (newsbot.repeats), so a backfill of any size keeps no paragraphs but the most repeated ones.
    A kind is off with its share >= 1; a crawl closed for another reason is not judged."""

    # Texts a story typically adds (real paragraphs, photos): what the counters are sized by. A crawl
    # whose stories add more only loosens the counts, which the judgement takes into account.
    PARAGRAPHS_PER_STORY = 20
    IMAGES_PER_STORY = 4
    SHOWN_CHARS = 80
    SAMPLES = 3

    def __init__(self, crawler: Crawler) -> None:
        settings = config(crawler)
        # kind -> (share, at least this many stories, the setting of the share): 1 turns a kind off.
        self.thresholds = {kind: limits for kind, limits in (
            ("paragraph", (settings.leak_share, settings.leak_min_stories, "NEWSBOT_LEAK_SHARE")),
            ("image", (settings.leak_image_share, settings.leak_image_min_stories, "NEWSBOT_LEAK_IMAGE_SHARE")),
        ) if limits[0] < 1}
        if not self.thresholds:
            raise NotConfigured("NEWSBOT_LEAK_SHARE and NEWSBOT_LEAK_IMAGE_SHARE >= 1: no text is in more than "
                                "every story")
        self.crawler = crawler
        self.min_pages = settings.degraded_min_pages
        self.pages = 0
        per_story = {"paragraph": self.PARAGRAPHS_PER_STORY, "image": self.IMAGES_PER_STORY}
        self.counters = {kind: RepeatCounter.for_share(share, per_story[kind], samples=self.SAMPLES,
                                                       keep_chars=self.SHOWN_CHARS)
                         for kind, (share, _, _) in self.thresholds.items()}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeakMonitor:
        monitor = cls(crawler)
        crawler.signals.connect(monitor.article_extracted, signal=article_extracted)
        crawler.signals.connect(monitor.spider_idle, signal=signals.spider_idle)
        return monitor

    def article_extracted(self, extraction: Extraction, url: str, spider) -> None:
        self.pages += 1
        item = extraction.item
        if item is None:
            return
        story = item.get("url") or url
        texts = {"paragraph": (item.get("body") or "").split("\n\n"),
                 "image": [image["url"] for image in item.get("images") or ()]}
        for kind, counter in self.counters.items():
            counter.add(story, texts[kind])

    def spider_idle(self, spider) -> None:
        if closing(self.crawler) or self.pages < self.min_pages:
            return
        stats = self.crawler.stats
        offenders = {kind: counter.more_than(*self.thresholds[kind][:2]) for kind, counter in self.counters.items()}
        for kind, counter in self.counters.items():
            top = counter.top()
            stats.set_value(f"newsbot/leak/{kind}", len(offenders[kind]))
            stats.set_value(f"newsbot/leak/top_share/{kind}",
                            round(top.stories / counter.stories, 4) if top and counter.stories else 0.0)
        if not any(offenders.values()):
            logger.info("No leak in %d stories: %s", self.pages, "; ".join(
                f"the most repeated {kind} is in {self._count(counter.top(), counter)}"
                for kind, counter in self.counters.items() if counter.top()) or "nothing repeated")
            return
        for kind, repeats in offenders.items():
            share, _, setting = self.thresholds[kind]
            for repeat in repeats:
                logger.error("Crawl is broken (extraction_degraded): the same %s in %s, more than %.0f%% "
                             "(%s): %s; e.g. %s", kind, self._count(repeat, self.counters[kind]), share * 100,
                             setting, repr(repeat.text) if kind == "paragraph" else repeat.text,
                             ", ".join(repeat.samples))
        report_broken(self.crawler, "extraction_degraded")
        raise DontCloseSpider

    @staticmethod
    def _count(repeat: Repeat, counter: RepeatCounter) -> str:
        """"61 of 240 stories (25%)"; a range when the counts are estimates."""
        count = f"{repeat.stories}" if not repeat.error else f"{repeat.stories}-{repeat.at_most}"
        return f"{count} of {counter.stories} stories ({repeat.stories / max(1, counter.stories):.0%})"
