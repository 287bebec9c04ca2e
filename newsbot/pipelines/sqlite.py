"""Write articles to the SQLite store (NEWSBOT_DB), the default output and incremental-crawl memory."""

from __future__ import annotations

import logging
import os
from datetime import date
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro

from newsbot.normalize import utc_now_iso
from newsbot.pipelines.dedupe import UnchangedItem
from newsbot.store import Store, StoreError

logger = logging.getLogger(__name__)

CLOSE_REASON = "store_unavailable"
# Settings recorded with each crawl run, besides every NEWSBOT_* one.
RECORDED_SETTINGS = ("BOT_NAME", "JOBDIR", "USER_AGENT", "CONCURRENT_REQUESTS", "DOWNLOAD_DELAY",
                     "AUTOTHROTTLE_ENABLED", "CLOSESPIDER_ITEMCOUNT", "CLOSESPIDER_TIMEOUT")


def spider_arguments(spider: Spider) -> dict[str, Any]:
    """The spider's -a arguments: its `arguments` dict if it keeps one, else the public scalar
    attributes of the instance, which is where Spider.__init__ puts -a arguments (along with
    whatever else __init__ and from_crawler set; private ones, like Scrapyd's _job, are left out)."""
    kept = getattr(spider, "arguments", None)
    if isinstance(kept, dict):
        return dict(kept)
    return {k: v for k, v in vars(spider).items()
            if not k.startswith("_") and k != "name" and isinstance(v, (str, int, float, date))}


class SQLitePipeline:
    """Stores items in batches of NEWSBOT_DB_BATCH_SIZE (one transaction each, and one at close) and
    records the crawl in crawl_runs.

    If the store cannot be opened (read-only, unwritable path, newer schema) or stays locked by
    another writer beyond NEWSBOT_DB_TIMEOUT and the retries, it logs an error and closes the
    spider with the reason "store_unavailable": a crawl that cannot keep what it finds stops.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.path = settings.get("NEWSBOT_DB") or ""
        if not self.path:
            raise NotConfigured("NEWSBOT_DB is empty")
        self.batch_size = max(1, settings.getint("NEWSBOT_DB_BATCH_SIZE", 200))
        self.timeout = settings.getfloat("NEWSBOT_DB_TIMEOUT", 30.0)
        self.crawler = crawler
        self.stats = crawler.stats
        self.store: Store | None = None
        self.run_id: int | None = None
        self.pending: list[Any] = []
        self.failed = False
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SQLitePipeline:
        return cls(crawler)

    # async, like DedupePipeline.open_spider: a failure then surfaces while Scrapy awaits every
    # pipeline's start-up, not while it is still calling them (which would skip the later ones).
    async def open_spider(self) -> None:
        spider = self.crawler.spider
        settings = self.crawler.settings
        recorded = {k: v for k, v in settings.copy_to_dict().items()
                    if k.startswith("NEWSBOT_") or k in RECORDED_SETTINGS}
        try:
            self.store = Store(self.path, timeout=self.timeout)
            self.run_id = self.store.start_run(
                spider.name, spider_arguments(spider), recorded,
                job_id=getattr(spider, "_job", None) or os.environ.get("SCRAPY_JOB"))
        except StoreError as exc:
            logger.error("The article store is unavailable, stopping the crawl: %s", exc)
            self.stats.inc_value("newsbot/store/unavailable")
            if self.store is not None:
                self.store.close()
                self.store = None
            raise CloseSpider(CLOSE_REASON) from exc
        logger.info("Storing articles in %s (crawl run %d)", self.path, self.run_id)

    def process_item(self, item: Any) -> Any:
        self._add(item)
        return item

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Spider) -> None:
        # An unchanged article is not stored again, but its last_crawled_at should move.
        if isinstance(exception, UnchangedItem):
            self._add(item)

    def _add(self, item: Any) -> None:
        if self.store is None:  # never opened (the spider is closing) or already closed
            return
        self.pending.append(item)
        if len(self.pending) >= self.batch_size and not self.failed:
            self._flush()

    def _flush(self) -> bool:
        if not self.pending:
            return True
        try:
            result = self.store.write(self.pending)
        except StoreError as exc:
            self.stats.inc_value("newsbot/store/write_failed")
            if not self.failed:
                self.failed = True
                logger.error("Cannot write to the article store, stopping the crawl (%d items waiting): %s",
                             len(self.pending), exc)
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=CLOSE_REASON))
            return False
        self.pending = []
        self.stats.inc_value("newsbot/store/transactions")
        for name in ("inserted", "updated", "unchanged", "stale"):
            if count := getattr(result, name):
                self.stats.inc_value(f"newsbot/store/{name}", count)
        return True

    def close_spider(self) -> None:
        if not self._flush():
            logger.error("%d items were not stored in %s (they are in the JSON Lines log if NEWSBOT_JSONL is set)",
                         len(self.pending), self.path)
            self.stats.set_value("newsbot/store/unsaved", len(self.pending))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        # After close_spider (so every item is counted); the signal is what carries the reason.
        if self.store is None:
            return
        stats = self.stats.get_stats()
        try:
            self.store.finish_run(self.run_id, reason, {
                "scraped": stats.get("item_scraped_count", 0),
                "new": stats.get("newsbot/items/new", 0),
                "updated": stats.get("newsbot/items/updated", 0),
                "unchanged": stats.get("newsbot/items/unchanged", 0),
                "duplicate": stats.get("newsbot/items/duplicate", 0),
                "dropped": stats.get("item_dropped_count", 0),
            }, stats=stats, finished_at=utc_now_iso())
        except StoreError as exc:
            logger.error("Could not record the end of crawl run %s in %s: %s", self.run_id, self.path, exc)
        finally:
            self.store.close()
            self.store = None
