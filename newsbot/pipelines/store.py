"""Write articles to the store (NEWSBOT_DB: an SQLite file, or PostgreSQL), the default output and
incremental-crawl memory."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import statistics
from array import array
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from twisted.internet import task

from newsbot import stats as stats_keys
from newsbot.config import config
from newsbot.normalize import utc_now_iso
from newsbot.outcome import CrawlOutcome, report_broken
from newsbot.pipelines import jsonlines
from newsbot.store import Store, StoreError, StoreWriteError, WriteResult, article_row, redact_url

logger = logging.getLogger(__name__)

CLOSE_REASON = "store_unavailable"
# Settings recorded with each crawl run, besides every NEWSBOT_* one.
RECORDED_SETTINGS = ("BOT_NAME", "JOBDIR", "USER_AGENT", "CONCURRENT_REQUESTS", "DOWNLOAD_DELAY",
                     "AUTOTHROTTLE_ENABLED", "CLOSESPIDER_ITEMCOUNT", "CLOSESPIDER_TIMEOUT")
# The crawl run's counts, and the stats they are read from.
RUN_COUNTS = {"scraped": "item_scraped_count", "new": stats_keys.STORED_NEW, "updated": stats_keys.STORED_UPDATED,
              "unchanged": stats_keys.STORED_UNCHANGED, "duplicate": "newsbot/items/duplicate",
              "dropped": "item_dropped_count"}
# Batches handed to the writer and not yet committed before process_item waits for the oldest: one
# being written and one queued keep it busy; more would only pile items up while a lock or disk holds it.
MAX_BATCHES_IN_FLIGHT = 1


def spider_arguments(spider: Spider) -> dict[str, Any]:
    """The spider's -a arguments: its `arguments` dict if it keeps one, else the public scalar attributes
    Spider.__init__ puts them in (private ones, like Scrapyd's _job, are left out)."""
    kept = getattr(spider, "arguments", None)
    if isinstance(kept, dict):
        return dict(kept)
    return {k: v for k, v in vars(spider).items()
            if not k.startswith("_") and k != "name" and isinstance(v, (str, int, float, date))}


def freshness(latencies: Sequence[float]) -> dict[str, float]:
    """median_seconds and p95_seconds (nearest rank: a latency some article really had) of
    publication-to-crawl latencies; nothing when there are none (a crawl that stored nothing new)."""
    if not latencies:
        return {}
    ordered = sorted(latencies)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {"median_seconds": round(statistics.median(ordered), 1), "p95_seconds": round(p95, 1)}


class StorePipeline:
    """Stores items in batches, one transaction each, and records the crawl in crawl_runs (docs/schema.md,
    "How articles are written"). Every store call runs on one writer thread, which owns the connection,
    so the reactor goes on while a batch is committed or waits for another process's lock."""

    def __init__(self, crawler: Crawler) -> None:
        self.config = config(crawler)
        self.path = self.config.db
        if not self.path:
            raise NotConfigured("NEWSBOT_DB is empty")
        self.name = redact_url(self.path)  # as logs may show it
        self.crawler = crawler
        self.stats = crawler.stats
        self.store: Store | None = None
        self.run_id: int | None = None
        self.pending: list[Any] = []  # rows (store.article_row) waiting for a full batch
        self.in_flight: deque[tuple[Future[WriteResult], list[Any]]] = deque()
        self.failed = False
        self.disk_failed = False  # a StoreWriteError was reported: later consequences are warnings
        self.closing = False
        # Its one thread, started at the first call, owns the store (sqlite3 ties a connection to a thread).
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-store")
        self.flusher: task.LoopingCall | None = None
        self.journal: jsonlines.JsonLinesFile | None = None
        self.journal_failed = False
        # Publication-to-crawl seconds for the freshness stats: doubles, as a backfill keeps many.
        self.latencies: array[float] = array("d")
        # The outcome first: its spider_closed gives the reason this one records.
        CrawlOutcome.from_crawler(crawler)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    # async for the reason JsonLinesPipeline.open_spider gives.
    async def open_spider(self) -> None:
        spider = self.crawler.spider
        recorded = {k: v for k, v in self.crawler.settings.copy_to_dict().items()
                    if k.startswith("NEWSBOT_") or k in RECORDED_SETTINGS}
        recorded["NEWSBOT_DB"] = self.name  # a PostgreSQL URL's password stays out of the store
        job_id = getattr(spider, "_job", None) or os.environ.get("SCRAPY_JOB")
        if self.config.jsonl:
            self.journal = jsonlines.open_jsonl(self.crawler, jsonlines.jsonl_path(self.config.jsonl, spider))
        try:
            opened = self.writer.submit(self._open, spider, recorded, job_id)
            self.run_id, reconciled = await asyncio.wrap_future(opened)
        except (OSError, StoreError) as exc:
            if isinstance(exc, OSError):  # the JSON Lines file refused the articles it was missing
                self.stats.inc_value("newsbot/output_errors/jsonl")
                logger.error("Cannot append the articles the JSON Lines file %s is missing, stopping the crawl: "
                             "%s", self.journal.path, exc.strerror or exc)
                self.journal_failed = True
            else:
                logger.error("The article store is unavailable, stopping the crawl: %s", exc)
                self.stats.inc_value("newsbot/store/unavailable")
                if isinstance(exc, StoreWriteError):  # full before the first article
                    self.stats.inc_value("newsbot/output_errors/store")
            self.writer.shutdown()
            self._close_journal()
            raise CloseSpider(jsonlines.CLOSE_REASON if self.journal_failed else CLOSE_REASON) from exc
        if self.journal is not None:
            jsonlines.count_reconciled(self.crawler, self.journal.path, *reconciled)
        logger.info("Storing articles in %s (crawl run %d)", self.store.name, self.run_id)
        if self.config.db_flush_interval > 0:
            self.flusher = task.LoopingCall(self._flush_waiting)
            self.flusher.start(self.config.db_flush_interval, now=False)

    def _open(self, spider: Spider, recorded: dict[str, Any], job_id: str | None) -> tuple[int, tuple[int, int]]:
        """On the writer thread: the run's id, and the JSON Lines lines cut and appended to bring the file
        in line with the store."""
        store = Store(self.path, timeout=self.config.db_timeout, background_checkpoints=True)
        try:
            if self.journal is not None:
                self.journal.key = store.journal_key(str(self.journal.path.absolute()))
            reconciled = store.open_journal(self.journal) if self.journal is not None else (0, 0)
            jsonlines.complete_other_journals(self.crawler, store, self.journal)
            run_id = store.start_run(spider.name, spider_arguments(spider), recorded, job_id=job_id)
        except BaseException:
            store.close()
            raise
        self.store = store
        return run_id, reconciled

    def process_item(self, item: Any) -> Any:
        if self.store is not None:  # else never opened (the spider is closing) or already closed
            self._collect()
            # Made into rows here rather than on the writer thread: that would hold the GIL for a
            # whole batch's worth of Python while the crawl waits for it.
            self.pending.append(article_row(item))
            if len(self.pending) >= self.config.db_batch_size:
                self._flush()
        if len(self.in_flight) > MAX_BATCHES_IN_FLIGHT:
            return self._writer_caught_up(item)  # a coroutine: Scrapy awaits it
        return item

    async def _writer_caught_up(self, item: Any) -> Any:
        await self._written(MAX_BATCHES_IN_FLIGHT)
        return item

    async def _written(self, in_flight: int = 0) -> None:
        """Wait for the oldest batches until at most `in_flight` are left."""
        while len(self.in_flight) > in_flight:
            # Waited for, not raised here: _collect accounts for a failed write. The asyncio copy's
            # exception is taken (and dropped) so asyncio does not log it with a traceback when collected.
            waited = asyncio.wrap_future(self.in_flight[0][0])
            await asyncio.wait([waited])
            if not waited.cancelled():
                waited.exception()
            self._collect()

    def _flush_waiting(self) -> None:
        # Items of a slow crawl are committed within flush_interval, not only when a batch fills up.
        self._collect()
        if not self.in_flight:
            self._flush()

    def _flush(self, retry: bool = False) -> None:
        if self.pending and (retry or not self.failed):
            batch, self.pending = self.pending, []
            # Also once the file has refused a write: the store then records what the file misses.
            self.in_flight.append((self.writer.submit(self.store.write_rows, batch, self.journal), batch))

    def _collect(self) -> None:
        """Account for the batches the writer has finished, oldest first (on the reactor's thread)."""
        while self.in_flight and self.in_flight[0][0].done():
            future, batch = self.in_flight.popleft()
            try:
                result = future.result()
            except Exception as exc:  # StoreError, or an SQLite error nobody foresaw: the batch is kept either way
                if not isinstance(exc, StoreError):
                    logger.error("Unexpected error writing %d items to %s", len(batch), self.name, exc_info=exc)
                self.stats.inc_value("newsbot/store/write_failed")
                self.pending[:0] = batch  # kept, to be tried once more at close and counted if that fails
                if self.disk_failed or self.failed:  # said already: the last attempt at close failing again
                    logger.warning("Still cannot write to the article store: %s", exc)
                    continue
                if isinstance(exc, StoreWriteError):
                    self.disk_failed = True
                    self.stats.inc_value("newsbot/output_errors/store")
                self.failed = True
                if self.closing:
                    logger.error("Cannot write to the article store: %s", exc)
                else:
                    logger.error("Cannot write to the article store, stopping the crawl (%d items waiting): %s",
                                 len(self.pending), exc)
                report_broken(self.crawler, CLOSE_REASON)
                continue
            self.stats.inc_value("newsbot/store/transactions")
            for name in ("inserted", "updated", "unchanged", "stale", "slug_edits", "stories_merged",
                         "categories_learned"):
                if count := getattr(result, name):
                    self.stats.inc_value(f"newsbot/store/{name}", count)
            self.latencies.extend(result.new_latencies)
            if result.journal_lines:
                self.stats.inc_value("newsbot/jsonl/items", result.journal_lines)
            if result.journal_cut:
                self.stats.inc_value("newsbot/jsonl/cut", result.journal_cut)
            if result.journal_error is not None:
                self.stats.inc_value("newsbot/jsonl/unsaved", result.inserted + result.updated)
                if not self.journal_failed:
                    self.journal_failed = True
                    jsonlines.jsonl_failed(self.crawler, self.journal.path, result.journal_error)

    async def close_spider(self) -> None:
        self.closing = True
        if self.flusher is not None and self.flusher.running:
            self.flusher.stop()
        if self.store is None:
            return
        await self._written()
        self._flush(retry=True)  # the rest, and one last attempt for what a failed write left waiting
        await self._written()
        if self.pending:
            logger.log(logging.WARNING if self.disk_failed else logging.ERROR,
                       "%d items were not stored in %s (nor in the JSON Lines journal, which follows the store)",
                       len(self.pending), self.name)
            self.stats.set_value("newsbot/store/unsaved", len(self.pending))
        # Before spider_closed, which records the stats with the run.
        for name, value in freshness(self.latencies).items():
            self.stats.set_value(f"newsbot/freshness/{name}", value)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        # After close_spider (so every item is counted), and after the crawl's outcome
        # (newsbot.outcome) gave the final reason: a breakage found as the crawl closed is its reason.
        reason = self.stats.get_value(stats_keys.FINISH_REASON, reason)
        if self.store is not None:
            stats = self.stats.get_stats()
            counts = {name: stats.get(key, 0) for name, key in RUN_COUNTS.items()}
            # Waited for here, on the reactor's thread: one small write, and the process may end next.
            self.writer.submit(self._finish, reason, counts, stats, utc_now_iso()).result()
            self.writer.shutdown()
        self._close_journal()

    def _finish(self, reason: str, counts: dict[str, int], stats: dict[str, Any], finished_at: str) -> None:
        try:
            self.store.finish_run(self.run_id, reason, counts, stats=stats, finished_at=finished_at)
        except StoreError as exc:
            if isinstance(exc, StoreWriteError) and not self.disk_failed:  # the first write the disk refused
                self.stats.inc_value("newsbot/output_errors/store")
            logger.log(logging.WARNING if self.disk_failed or self.failed else logging.ERROR,
                       "Could not record the end of crawl run %s in %s: %s", self.run_id, self.store.name, exc)
        finally:
            self.store.close()
            self.store = None

    def _close_journal(self) -> None:
        journal, self.journal = self.journal, None
        jsonlines.close_jsonl(self.crawler, journal, self.journal_failed)
