"""Drop articles already seen in this run, or stored earlier with the same content."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem

from newsbot.config import config
from newsbot.store import Store, StoreError, as_mapping

logger = logging.getLogger(__name__)


class UnchangedItem(DropItem):
    """Dropped because the store already has this content; the SQLite writer still notes the visit."""


class DedupePipeline:
    """Within a run by article_id; across runs by content_hash against the store (NEWSBOT_DB).

    Stats: ``newsbot/items/duplicate`` (seen this run, dropped), ``newsbot/items/unchanged``
    (stored with the same content, dropped quietly), ``newsbot/items/updated`` (stored with
    other content, passed on), ``newsbot/items/new`` (passed on). Memory: the set of
    article_ids seen this run, nothing else. The SQLite writer makes the final new/updated
    decision itself, under its write lock, so another process writing meanwhile is handled.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.db_path = config(crawler).db
        self.timeout = config(crawler).db_timeout
        self.seen: set[str] = set()
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    async def open_spider(self) -> None:
        # async: Scrapy calls every pipeline's open_spider and then awaits them together; a
        # synchronous raise here would cut that loop short and skip the later pipelines' start-up.
        try:
            self._open_store()
        except StoreError as exc:
            logger.error("The article store is unavailable, stopping the crawl: %s", exc)
            self.stats.inc_value("newsbot/store/unavailable")
            raise CloseSpider("store_unavailable") from exc

    def _open_store(self) -> Store | None:
        # The database may not exist before the SQLite writer's first open; until it does, all is new.
        if self.store is None and self.db_path and Path(self.db_path).is_file():
            self.store = Store(self.db_path, timeout=self.timeout, readonly=True)
        return self.store

    def _store(self) -> Store | None:
        try:
            return self._open_store()
        except StoreError as exc:  # appeared mid-run but unreadable: carry on with in-run checks only
            logger.error("Cannot compare with earlier crawls: %s", exc)
            self.db_path = ""
            return None

    def close_spider(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def process_item(self, item: Any) -> Any:
        values = as_mapping(item)
        article_id, url = values["article_id"], values.get("url")
        if article_id in self.seen:
            self.stats.inc_value("newsbot/items/duplicate")
            raise DropItem(f"Duplicate article {url} (article_id {article_id} already seen in this run)",
                           log_level="INFO")
        self.seen.add(article_id)
        store = self.store or self._store()
        stored_hash = store.stored_hash(article_id) if store else None
        if stored_hash is None:
            self.stats.inc_value("newsbot/items/new")
        elif stored_hash == values.get("content_hash"):
            self.stats.inc_value("newsbot/items/unchanged")
            raise UnchangedItem(f"Unchanged since the last crawl: {url}", log_level="DEBUG")
        else:
            self.stats.inc_value("newsbot/items/updated")
        return item
