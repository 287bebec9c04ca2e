"""Drop articles already seen in this run."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsbot.store import as_mapping


class DedupePipeline:
    """Within a run, by article_id (the hash of the URL path without its trailing slash, so both
    spellings of a link are one article). Whether an article is new, updated or unchanged against
    earlier crawls is the store's decision alone (newsbot.store.articles.decide), taken under its
    write lock.

    Stats: ``newsbot/items/duplicate``. Memory: the set of article_ids seen this run.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        values = as_mapping(item)
        article_id = values["article_id"]
        if article_id in self.seen:
            self.stats.inc_value("newsbot/items/duplicate")
            raise DropItem(f"Duplicate article {values.get('url')} (article_id {article_id} already seen in this run)",
                           log_level="INFO")
        self.seen.add(article_id)
        return item
