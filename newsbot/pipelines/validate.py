"""Drop articles that are incomplete or malformed before anything stores them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsbot.items import REQUIRED_FIELDS, ArticleItem
from newsbot.outcome import CrawlOutcome, report_lost
from newsbot.site import LANGUAGES
from newsbot.store import as_mapping

# published_at may be "" (an unreadable date is kept and counted elsewhere), so it is
# checked for shape only. content_hash is what deduplication and the store compare.
MUST_HAVE = tuple(f for f in REQUIRED_FIELDS if f != "published_at") + ("content_hash",)

_HEX16 = re.compile(r"[0-9a-f]{16}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
# Scheme and host (anything after them): a regex, as urlsplit costs ~10 µs and an article has ~4 URLs.
_ABSOLUTE_HTTP = re.compile(r"https?://[^\s/?#@:]+(?::\d+)?(?:[/?#].*)?", re.IGNORECASE)


def _absolute_http(value: Any) -> bool:
    return isinstance(value, str) and bool(_ABSOLUTE_HTTP.fullmatch(value))


def _iso_or_empty(value: Any) -> bool:
    if value == "":
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        return False
    return True


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def _images(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, dict) and _absolute_http(v.get("url")) and isinstance(v.get("caption", ""), str) for v in value)


def _translations(value: Any) -> bool:
    # One per language: the store keys translations by (article, language).
    return (isinstance(value, list)
            and all(isinstance(v, dict) and v.get("language") in LANGUAGES and _absolute_http(v.get("url"))
                    and isinstance(v.get("title", ""), str) for v in value)
            and len({v["language"] for v in value}) == len(value))


# Field -> check of a present value; fields not listed need only be strings.
CHECKS: dict[str, Callable[[Any], bool]] = {
    "url": _absolute_http,
    "article_id": lambda v: isinstance(v, str) and bool(_HEX16.fullmatch(v)),
    # Optional (None: the page shows no short link); a present one is a positive int, not "123" or True.
    "site_id": lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
    "story_id": lambda v: isinstance(v, str) and bool(_HEX16.fullmatch(v)),
    "content_hash": lambda v: isinstance(v, str) and bool(_HEX64.fullmatch(v)),
    "language": lambda v: v in LANGUAGES,
    "word_count": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "published_at": _iso_or_empty,
    "published_at_utc": _iso_or_empty,
    "crawled_at": lambda v: v != "" and _iso_or_empty(v),
    "tags": _string_list,
    "images": _images,
    "translations": _translations,
}


# (field, check of a present value, required) in item field order: every field, not only the
# item's own keys (a dict item lists only what it has).
_RULES = tuple((field, CHECKS.get(field, _is_str), field in MUST_HAVE) for field in ArticleItem.fields)


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
    """Drops an item missing a required field or carrying a malformed value.

    Counted as ``newsbot/dropped/invalid_<field>`` for the first bad field, and as a page lost
    (``invalid``); the drop message (logged by Scrapy) names the URL and every bad field.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        CrawlOutcome.from_crawler(crawler)  # also in a crawler built without the project's EXTENSIONS
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        bad = problems(item)
        if bad:
            self.stats.inc_value(f"newsbot/dropped/invalid_{bad[0]}")
            url = as_mapping(item).get("url") or "(no url)"
            report_lost(self.crawler, "invalid", url)
            raise DropItem(f"Invalid article {url}: bad or missing {', '.join(bad)}")
        return item
