"""Drop articles already seen in this run."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsbot.memo import KeySet
from newsbot.store import as_mapping


class DedupePipeline:
    """Within a run, by article_id (both spellings of a link are one article); against earlier crawls,
    only the store decides, under its write lock. The ids seen are kept as hashes (newsbot.memo.KeySet)."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.seen = KeySet()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        values = as_mapping(item)
        article_id = values["article_id"]
        if not self.seen.add(article_id):
            self.stats.inc_value("newsbot/items/duplicate")
            raise DropItem(f"Duplicate article {values.get('url')} (article_id {article_id} already seen in this run)",
                           log_level="INFO")
        return item
