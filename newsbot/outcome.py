"""How a crawl ends: CrawlOutcome alone decides it, as Scrapy's CloseSpider does (docs/crawling.md,
Close reasons and exit codes); the others report to it through `report_lost` and `report_broken`.
The close reasons and exit statuses are here too, so cron, systemd and CI notice a crawl whose
output cannot be trusted.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any
from weakref import WeakKeyDictionary

from scrapy import signals as scrapy_signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro

from newsbot import stats as keys
from newsbot.config import config
from newsbot.loaders import Extraction, article_extracted
from newsbot.store import redact_url

FINISHED = "finished"
# Every reason here means the crawl was broken: exit status 1.
BROKEN = frozenset({
    "extraction_degraded",      # article pages lost a required field, or an optional one far below the usual
    "too_many_errors",          # more than NEWSBOT_ERROR_THRESHOLD of the pages lost or failed
    "no_listings",              # no listing gave a card: site down or redesigned
    "no_articles",              # none of the pages the article spider was given is an article
    "store_unavailable",        # the store could not be written, or read
    "output_unavailable",       # the JSON Lines file (NEWSBOT_JSONL) or the page archive (NEWSBOT_ARCHIVE) could not be written
    "blocked",                  # the site refused the crawler: 403/429 or challenge pages in a row
    "site_unreachable",         # no answer at all: DNS failure, connection refused, no route (offline?)
    "category_not_found",       # a requested -a category key is in no category of an edition's navigation
})
# A usage error (bad argument, bad path): Scrapy's own UsageError status.
USAGE_ERROR = 2
# Stopped by Ctrl-C, SIGTERM or Scrapyd's cancel: what it stored is whole, but its work is not done,
# so a scheduler must not count it a success.
SHUTDOWN = "shutdown"
# A crawl stopped before it could close (a second Ctrl-C or SIGTERM): no reason recorded, and its
# outputs may miss what was in flight.
KILLED = 1


def exit_code(reason: str | None) -> int:
    """0 for a crawl that finished or closed for a reason that is no breakage (CLOSESPIDER_*), else 1."""
    return 1 if reason == SHUTDOWN or reason in BROKEN else 0


logger = logging.getLogger("newsbot.extensions")  # the crawl-health log, whoever writes the line

_SAMPLES = 3
# Each crawler's outcome, for `closing` and for the command that turns it into an exit status.
_OUTCOMES: WeakKeyDictionary[Crawler, CrawlOutcome] = WeakKeyDictionary()


def report_lost(crawler: Crawler, reason: str, url: str) -> None:
    """A page the crawl meant to store and will not, for one of newsbot.stats.LOSS_REASONS."""
    assert reason in keys.LOSS_REASONS, reason
    if crawler in _OUTCOMES:
        _OUTCOMES[crawler].page_lost(reason, url)


def report_broken(crawler: Crawler, reason: str, message: str | None = None, *args: Any) -> bool:
    """The crawl is broken for `reason` (BROKEN): one ERROR line "Crawl is broken
    (<reason>): <message>" (none when message is None: the caller has said what broke), and the
    crawl closes. False (and nothing logged) when it is closing already: the first reason stands."""
    assert reason in BROKEN, reason
    outcome = _OUTCOMES.get(crawler)
    return outcome is not None and outcome.crawl_broken(reason, message, args)


def is_article_page(response: Any, spider: Any) -> bool:
    """Whether the spider asked for `response` as an article page (its callback is parse_article)."""
    request = getattr(response, "request", None)
    parse_article = getattr(spider, "parse_article", None)
    return request is not None and parse_article is not None and request.callback == parse_article


def closing(crawler: Crawler) -> bool:
    """Whether the crawl's end is decided: closed broken, or closed by Scrapy (killed, CLOSESPIDER_*)."""
    outcome = _OUTCOMES.get(crawler)
    return outcome is not None and outcome.closing


def exit_status(crawler: Crawler) -> int | None:
    """The crawl's exit status: its close reason's code, or KILLED when it was stopped before it could
    close (a second Ctrl-C); None when no crawl opened."""
    outcome = _OUTCOMES.get(crawler)
    return None if outcome is None else outcome.status


class CrawlOutcome:
    """Counts lost pages, closes the crawl on too many (judge_losses) or on the first broken reason
    reported, which at spider_closed becomes the finish reason and exit status the run record keeps."""

    def __init__(self, crawler: Crawler) -> None:
        settings = config(crawler)
        self.crawler = crawler
        self.error_threshold = settings.error_threshold
        self.min_pages = settings.degraded_min_pages
        self.reason: str | None = None  # the broken reason this crawl closes for, once decided
        self.closed = False  # spider_closed came: Scrapy closed it, for whatever reason
        # Until spider_closed says otherwise: a crawl stopped before it could close is not to be trusted.
        self.status = KILLED
        self.kept = 0  # article pages that gave an item
        self.listing_errors = 0  # listing pages whose parsing raised
        self.lost: Counter[str] = Counter()
        self.samples: dict[str, list[str]] = {}

    @property
    def closing(self) -> bool:
        return self.reason is not None or self.closed

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlOutcome:
        """The crawler's one outcome: built from EXTENSIONS, or by the first pipeline that needs one
        (a crawler built without the project's settings, as tests and embedding code do)."""
        found = _OUTCOMES.get(crawler)
        if found is not None:
            return found
        outcome = _OUTCOMES[crawler] = cls(crawler)
        connect = crawler.signals.connect
        connect(outcome.article_extracted, signal=article_extracted)
        connect(outcome.spider_error, signal=scrapy_signals.spider_error)
        connect(outcome.request_left_downloader, signal=scrapy_signals.request_left_downloader)
        connect(outcome.spider_idle, signal=scrapy_signals.spider_idle)
        connect(outcome.spider_closed, signal=scrapy_signals.spider_closed)
        return outcome

    def crawl_broken(self, reason: str, message: str | None, args: tuple) -> bool:
        if self.closing:
            return False
        if message is not None:
            logger.error("Crawl is broken (%s): " + message, reason, *args)
        self.reason = reason
        engine = self.crawler.engine
        # Nothing more is scheduled from now on; the close itself starts on the event loop's next turn
        # (deferred_from_coro), and waits only for what is already in flight.
        engine.pause()
        deferred_from_coro(engine.close_spider_async(reason=reason))
        return True

    def page_lost(self, reason: str, url: str) -> None:
        self.lost[reason] += 1
        if reason in keys.AFTER_EXTRACTION:
            self.kept -= 1
        stats = self.crawler.stats
        stats.inc_value(keys.lost(reason))
        stats.inc_value(keys.LOST)
        samples = self.samples.setdefault(reason, [])
        if len(samples) < _SAMPLES:
            samples.append(url)
        self.judge_losses(min_articles=self.min_pages)

    def article_extracted(self, extraction: Extraction, url: str, spider) -> None:
        if extraction.item is not None:
            self.kept += 1

    def spider_error(self, failure, response, spider) -> None:
        """A page whose parsing raised: an article page is lost to it, a listing page failed."""
        if is_article_page(response, spider):
            self.page_lost("extraction_error", response.url)
        else:
            self.listing_errors += 1
            self.judge_losses(min_articles=self.min_pages)

    def request_left_downloader(self, request, spider) -> None:
        # Listing failures are counted in the stats as they come, not reported.
        self.judge_losses(min_articles=self.min_pages)

    def spider_idle(self, spider) -> None:
        if self.judge_losses(min_articles=0):
            raise DontCloseSpider

    def judge_losses(self, min_articles: int) -> bool:
        """Closes the crawl as too_many_errors when more than NEWSBOT_ERROR_THRESHOLD of the pages
        attempted were lost (an article page) or failed (a listing page); a 503 that a retry
        absorbed is neither. Judged once `min_articles` article pages were attempted: as many as
        crawl health needs, so that pages without an article are its extraction_degraded first, the
        reason that names the selectors. Off with NEWSBOT_ERROR_THRESHOLD >= 1."""
        if self.closing or self.error_threshold >= 1:
            return False
        stats = self.crawler.stats
        listings = sum(stats.get_value(key, 0) for key in (keys.LISTING_PAGES, keys.LISTING_EMPTY))
        failures = sum(self.lost.values()) + stats.get_value(keys.LISTING_FAILED, 0) + self.listing_errors
        attempted = failures + self.kept + listings
        if (self.kept + sum(self.lost.values()) < min_articles or attempted == 0
                or failures / attempted <= self.error_threshold):
            return False
        self.crawl_broken("too_many_errors", "%d of %d pages lost or failed, more than NEWSBOT_ERROR_THRESHOLD "
                          "(%.0f%%)", (failures, attempted, self.error_threshold * 100))
        for reason, count in self.lost.most_common():
            logger.error("Lost %d article page(s) as %s, e.g. %s", count, reason, ", ".join(self.samples[reason]))
        return True

    def spider_closed(self, spider, reason: str) -> None:
        # Connected after Scrapy's CoreStats (EXTENSIONS_BASE comes first) and before the pipelines'
        # handlers (extensions are built before the engine), so the run record gets the final reason.
        self.closed = True
        if self.reason is not None and reason == FINISHED:
            # Found as the crawl closed (the last batch could not be written): the run did not finish.
            reason = self.reason
        stats = self.crawler.stats
        stats.set_value(keys.FINISH_REASON, reason)
        self.status = exit_code(reason)
        stats.set_value(keys.EXIT_STATUS, self.status)
        if self.lost:
            logger.warning("Lost %d article page(s): %s", sum(self.lost.values()),
                           ", ".join(f"{count} {reason}" for reason, count in self.lost.most_common()))
        # The one line a person reads, before Scrapy's stats dump (CoreStats has set the elapsed time).
        settings = config(self.crawler)
        logger.info("%d new, %d updated, %d unchanged articles -> %s (%s, %.0f s)",
                    stats.get_value(keys.STORED_NEW, 0), stats.get_value(keys.STORED_UPDATED, 0),
                    stats.get_value(keys.STORED_UNCHANGED, 0), redact_url(settings.db) or settings.jsonl or "no store",
                    reason, stats.get_value("elapsed_time_seconds", 0))
