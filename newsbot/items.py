"""The article item, declared once (FIELDS), so that everything else about a field derives from one
place: the item, validation, empty values, hash, store columns, Parquet, Datasette, the comparisons
(README, "To change X, edit Y": a new field)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import scrapy
from itemloaders.processors import Compose, Identity, Join, TakeFirst

from newsbot.normalize import (article_id, canonical_url, each, edition_link, iso_local, iso_utc, photo,
                               positive_int, real_paragraphs, story_id, tag_text, texts, unique, word_count)
from newsbot.site import LANGUAGES

_HEX16 = re.compile(r"[0-9a-f]{16}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
# Scheme and host (anything after them): a regex, as urlsplit is slower and an article has several URLs.
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


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _records(members: tuple[str, ...], key: str | None) -> Callable[[Any], bool]:
    """A list of {member: str} whose "url" is an absolute http URL; `key` (if any) unique per article,
    as the store keys the child table by it."""
    def check(value: Any) -> bool:
        return (isinstance(value, list)
                and all(isinstance(v, dict) and _absolute_http(v.get("url"))
                        and all(isinstance(v.get(m, ""), str) for m in members) for v in value)
                and (key is None or (all(v.get(key) in LANGUAGES for v in value)
                                     and len({v[key] for v in value}) == len(value))))
    return check


@dataclass(frozen=True)
class Kind:
    """What a field's values are: how validation checks a present one, what an article without it
    holds, its Arrow type in Parquet (newsbot.parquet), and for a list, the columns of its child table."""

    check: Callable[[Any], bool]
    empty: Any = ""
    arrow: str = "string"          # string | int32 | int64 | baku_time | utc_time | list
    nullable: bool = False         # Parquet null for the empty value
    members: tuple[str, ...] = ()  # a list's child-table columns: a record's keys, or the one column of a plain value
    plain: bool = False            # a list of plain strings, not of records
    positioned: bool = True        # a list's order is kept (a `position` column); else keyed by its first member

    @property
    def is_list(self) -> bool:
        return self.arrow == "list"


TEXT = Kind(lambda v: isinstance(v, str))
URL = Kind(_absolute_http)
HEX16 = Kind(lambda v: isinstance(v, str) and bool(_HEX16.fullmatch(v)))
HEX64 = Kind(lambda v: isinstance(v, str) and bool(_HEX64.fullmatch(v)))
LANGUAGE = Kind(lambda v: v in LANGUAGES)
COUNT = Kind(_count, 0, "int32")
# None: the page shows no short link; a present one is a positive int, not "123" or True.
SITE_NUMBER = Kind(lambda v: _count(v) and v > 0, None, "int64", nullable=True)
BAKU_TIME = Kind(_iso_or_empty, "", "baku_time", nullable=True)  # "" when the page's date is unreadable
UTC_TIME = Kind(_iso_or_empty, "", "utc_time", nullable=True)
RUN_TIME = Kind(lambda v: v != "" and _iso_or_empty(v), "", "utc_time")
WORDS = Kind(lambda v: isinstance(v, list) and all(isinstance(w, str) and w for w in v), [], "list", members=("tag",),
             plain=True)
PHOTOS = Kind(_records(("url", "caption"), None), [], "list", members=("url", "caption"))
EDITIONS = Kind(_records(("language", "url", "title"), "language"), [], "list", members=("language", "url", "title"),
                positioned=False)

# Roles: where a field's value comes from.
PAGE = "page"          # read from the page: what re-extraction compares
IDENTITY = "identity"  # worked out from the page's URLs; the store may give another (a merged story)
RUN = "run"            # depends on the crawl, not the page: no ground truth has it


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    doc: str
    role: str = PAGE
    required: bool = False  # an article without it is dropped (newsbot.pipelines.validate)
    watched: bool = False   # crawl health counts the pages without it (newsbot.monitors)
    hashed: bool = False    # an edit can change it: part of content_hash
    sources: tuple[str, ...] = ()  # what the page offers for it, tried in this order (newsbot.evidence)
    # Its cleaning by the item loader (newsbot.loaders): each value as added, then the values kept.
    clean_in: Callable[..., Any] = Identity()
    clean_out: Callable[..., Any] = TakeFirst()


# The visible headline comes before JSON-LD's: sites cut `headline` to 110 characters, as Google's
# guideline asks. The visible date comes before structured ones, whose format and offset on the live
# site are unconfirmed: a disagreement keeps the visible one and is counted.
FIELDS: tuple[Field, ...] = (
    Field("url", URL, "The URL the page was last fetched at, as the site writes it (canonical, absolute)",
          required=True, watched=True, sources=("canonical", "response"), clean_in=each(canonical_url)),
    Field("article_id", HEX16, "16 hex digits: sha1 of the URL path without its trailing slash when the article "
          "was first stored; kept when its slug is edited", IDENTITY, required=True, watched=True,
          clean_in=each(canonical_url, article_id)),
    Field("site_id", SITE_NUMBER, "report.az's own article number, from the page's short link "
          "report.az/NNNNNNN; NULL when the page shows none", sources=("markup", "shortlink"),
          clean_in=each(positive_int)),
    Field("source", TEXT, "report.az"),
    Field("language", LANGUAGE, "Edition: az, en or ru", required=True, watched=True),
    Field("title", TEXT, "Headline", required=True, watched=True, hashed=True,
          sources=("markup", "structure", "json-ld", "og"), clean_in=texts),
    Field("lead", TEXT, "First real paragraph"),
    Field("body", TEXT, "Real paragraphs joined by blank lines", required=True, watched=True, hashed=True,
          sources=("markup", "structure", "json-ld"), clean_in=texts, clean_out=Compose(real_paragraphs, Join("\n\n"))),
    Field("word_count", COUNT, "Words in body", clean_in=each(word_count)),
    Field("published_at", BAKU_TIME, "Publication time in Baku time (+04:00) as the site shows it; '' if "
          "unreadable. Its first ten characters are the Baku day", watched=True, hashed=True,
          sources=("markup", "json-ld", "meta"), clean_in=each(iso_local)),
    Field("published_at_utc", UTC_TIME, "The same instant in UTC; '' if unreadable", clean_in=each(iso_utc)),
    Field("category", TEXT, "Category name as the edition shows it", sources=("markup", "breadcrumb", "meta"),
          clean_in=texts),
    Field("category_slug", TEXT, "Language-independent category key (energy, foreign-politics, ...), the same "
          "for every edition of a story", required=True, watched=True, hashed=True),
    Field("tags", WORDS, "Tag names, in the page's order", hashed=True, sources=("structure",),
          clean_in=Compose(texts, each(tag_text)), clean_out=unique),
    Field("images", PHOTOS, "Photos {url, caption}, in the page's order", hashed=True,
          sources=("markup+structure", "og", "json-ld"), clean_in=each(photo), clean_out=unique),
    Field("translations", EDITIONS, "The other editions this page links {language, url, title}", hashed=True,
          sources=("structure", "hreflang"), clean_in=each(edition_link), clean_out=Identity()),
    Field("story_id", HEX16, "Shared by every edition (az, en, ru) of one story", IDENTITY, required=True,
          watched=True, clean_in=each(canonical_url), clean_out=story_id),
    Field("crawled_at", RUN_TIME, "UTC: the crawl that produced the stored content (this revision)", RUN),
    Field("content_hash", HEX64, "sha256 of the editable content (title, body, category, date, tags, images, "
          "translations)", RUN, required=True),
)
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}


class ArticleItem(scrapy.Item):
    """One per edition page, the same fields whatever the edition (declared in FIELDS)."""

    fields = {f.name: scrapy.Field(doc=f.doc) for f in FIELDS}  # ItemMeta starts from a class's own `fields`

    def get(self, key: str, default: Any = None) -> Any:
        # Every pipeline reads fields with get(): Mapping.get's __getitem__ and try/except cost more.
        return self._values.get(key, default)


ITEM_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS)
# The fields an article must have to be worth keeping; crawl health watches them.
REQUIRED_FIELDS = tuple(f.name for f in FIELDS if f.watched)
# The fields compared against the replica's ground truth (the run's own fields depend on the run).
GROUND_TRUTH_FIELDS = tuple(f.name for f in FIELDS if f.role != RUN)
# What an edit can change (not site_id: every stored article would look edited on its next crawl).
HASHED_FIELDS = tuple(f.name for f in FIELDS if f.hashed)
# What a re-extraction of a saved page compares with the store: what the page alone decides.
PAGE_FIELDS = tuple(f.name for f in FIELDS if f.role == PAGE)
LIST_FIELDS = tuple(f.name for f in FIELDS if f.kind.is_list)
EMPTY: dict[str, Any] = {f.name: f.kind.empty for f in FIELDS}
