"""Drop articles that are incomplete or malformed before anything stores them."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsbot.items import FIELDS
from newsbot.outcome import CrawlOutcome, report_lost
from newsbot.store import as_mapping

# (field, check of a present value, required) in item field order: every field, not only the
# item's own keys (a dict item lists only what it has). The checks are the fields' kinds'.
_RULES = tuple((f.name, f.kind.check, f.required) for f in FIELDS)


def problems(item: Any) -> list[str]:
    """The fields of an item that are missing or malformed, in item field order."""
    values = as_mapping(item)
    bad = []
    for field, check, required in _RULES:
        value = values.get(field)
        if value is None:
            if required:
                bad.append(field)
        elif not check(value) or (required and (value == "" or value == [])):
            bad.append(field)
    return bad


class ValidationPipeline:
    """Drops an item missing a required field or carrying a malformed value, counted for its first bad
    field and as a page lost (``invalid``); the drop message names the URL and every bad field."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        CrawlOutcome.from_crawler(crawler)  # also in a crawler built without the project's EXTENSIONS
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        bad = problems(item)
        if bad:
            self.crawler.stats.inc_value(f"newsbot/dropped/invalid_{bad[0]}")
            url = as_mapping(item).get("url") or "(no url)"
            report_lost(self.crawler, "invalid", url)
            raise DropItem(f"Invalid article {url}: bad or missing {', '.join(bad)}")
        return item
