"""Everything newsbot knows about report.az's URLs and markup, in one place.

A redesign of the site should be a change to this module only. Facts marked
"unconfirmed" in shared/site/REPORT_AZ.md always have a fallback here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

LANGUAGES: tuple[str, ...] = ("az", "en", "ru")
DEFAULT_BASE_URL = "https://report.az"

# The az edition is the unprefixed default.
EDITION_PREFIX: dict[str, str] = {"az": "/", "en": "/en/", "ru": "/ru/"}

# The nav link labels that lead to the latest-news feed (az path confirmed,
# en/ru found by label; the paths below are only the fallback).
LATEST_LABELS: dict[str, tuple[str, ...]] = {
    "az": ("son xəbərlər",),
    "en": ("latest news", "news feed", "all news feed"),
    "ru": ("последние новости", "лента новостей"),
}
LATEST_FALLBACK_PATHS: dict[str, tuple[str, ...]] = {
    "az": ("/son-xeberler/",),
    "en": ("/en/latest-news/", "/en/son-xeberler/"),
    "ru": ("/ru/poslednie-novosti/", "/ru/son-xeberler/"),
}

# Path segments under an edition that are never a category or an article.
NON_CATEGORY_SEGMENTS = frozenset(
    {"en", "ru", "rss", "infinity", "search", "tag", "tags", "page", "son-xeberler",
     "latest-news", "poslednie-novosti", "uploads", "static", "video", "photo", "authors"}
)

# Selectors. Cards are shared by the feed, the infinity fragment and listings.
CARD = "div.index-post-block"
CARD_LINK = "a.news__item"
CARD_TITLE = "h2.news__title"
CARD_CATEGORY = "span.news__category"
DATE_ITEMS = "ul.news__date > li"
# The markup before the current design; parsed so it never crashes a crawl.
OLD_CARD = "section.news-feed-page .news-item, .news-item.infinity-item"
OLD_CARD_LINK = "a.title"

ARTICLE_SCOPE = "div.news-detail"
ARTICLE_TITLE = "h1.section-title"
ARTICLE_CATEGORY = ("a.news__category", ".news-detail__head .news__category")
ARTICLE_PARAGRAPHS = "div.news-detail__desc p"
ARTICLE_TAGS = ("div.news-detail__tags a", ".tags a")
ARTICLE_PHOTOS = ("div.news-detail__photos figure", "div.news-detail__desc figure")
ARTICLE_OTHER_EDITIONS = ("div.news-detail__other-langs a", ".other-lang-news a")
PAGINATION_NEXT = ("a[rel=next]", ".pagination a.next")
# Other editions announced in the head (unconfirmed on the live site: only fills gaps).
HREFLANG_LINKS = "link[rel=alternate][hreflang]"
PAGE_LANGUAGE = "html::attr(lang)"

_CSS = HTMLTranslator()  # what parsel's Selector.css uses on HTML

# Paragraphs that are page furniture rather than reporting.
_BOILERPLATE = re.compile(
    r"""^(?:
        (?:mənbə|menbe|источник|source)\s*:.*          # source lines
      | ən\s+son\s+xəbər.*                          # "Ən son xəbərlər..." prompts
      | sosial\s+şəbəkələrdə\s+paylaşın.*
      | (?:follow|subscribe|join|share|read)\b.{0,80}\b(?:telegram|facebook|twitter|whatsapp|x\.com|instagram)\b.*
      | (?:подписывайтесь|поделиться|читайте|следите).{0,80}(?:telegram|телеграм|facebook|twitter|whatsapp|instagram).*
      | .{0,80}\b(?:telegram|whatsapp)\b.{0,40}(?:kanal|канал|channel).*
    )$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_BOILERPLATE_MAX_LEN = 200


def is_boilerplate(paragraph: str) -> bool:
    """Share prompts and source lines; long paragraphs are reporting even if they mention Telegram."""
    return len(paragraph) <= _BOILERPLATE_MAX_LEN and bool(_BOILERPLATE.match(paragraph))


@dataclass(frozen=True)
class Edition:
    """One language edition of the site at a base URL (the live site or the replica)."""

    base_url: str
    language: str

    @property
    def home_url(self) -> str:
        return urljoin(self.base_url, EDITION_PREFIX[self.language])

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path)

    def latest_fallback_urls(self) -> list[str]:
        return [self.url(p) for p in LATEST_FALLBACK_PATHS[self.language]]

    def rss_url(self) -> str:
        return self.url(EDITION_PREFIX[self.language] + "rss/")

    def infinity_url(self, last_timestamp: str) -> str:
        # Seen once for az only; the edition prefix for en/ru is the best guess.
        return self.url(
            f"{EDITION_PREFIX[self.language]}infinity/index?date={quote(last_timestamp)}&oldest=1"
        )

    def category_url(self, category_segment: str, page: int = 1) -> str:
        path = f"{EDITION_PREFIX[self.language]}{category_segment}/"
        return self.url(path if page <= 1 else f"{path}page/{page}")


def language_of_path(path: str) -> str:
    first = path.lstrip("/").split("/", 1)[0]
    return first if first in ("en", "ru") else "az"


def split_article_path(path: str) -> tuple[str, str, str] | None:
    """(language, category segment, slug) of an article path, or None if it is not one."""
    parts = [p for p in path.split("/") if p]
    language = "az"
    if parts and parts[0] in ("en", "ru"):
        language, parts = parts[0], parts[1:]
    if len(parts) != 2 or parts[0] in NON_CATEGORY_SEGMENTS or parts[1] in NON_CATEGORY_SEGMENTS:
        return None
    return language, parts[0], parts[1]


def is_article_url(url: str) -> bool:
    return split_article_path(urlsplit(url).path) is not None


def category_segment_of_listing(path: str) -> str | None:
    """The category segment of a listing path like /en/energy/ or /en/energy/page/3."""
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] in ("en", "ru"):
        parts = parts[1:]
    if not parts or parts[0] in NON_CATEGORY_SEGMENTS:
        return None
    if len(parts) == 1 or (len(parts) == 3 and parts[1] == "page" and parts[2].isdigit()):
        return parts[0]
    return None


@dataclass(frozen=True)
class Card:
    """An article teaser on the feed, the infinity fragment or a category listing."""

    url: str
    title: str
    timestamp: str  # data-timestamp as printed: Baku local "YYYY-MM-DD HH:MM:SS", or ""
    category: str


def _joined(node: etree._Element, query: str) -> str:
    return "".join(compiled(query)(node)).strip()


def _first(node: etree._Element, query: str) -> str | None:
    found = compiled(query)(node)
    return found[0] if found else None


def parse_cards(selector: Selector, base_url: str) -> list[Card]:
    root = selector.root
    cards = []
    for block in compiled(CARD)(root):
        href = _first(block, f"{CARD_LINK}::attr(href)") or _first(block, "a::attr(href)")
        if not href:
            continue
        cards.append(Card(
            url=urljoin(base_url, href.strip()),
            title=_joined(block, f"{CARD_TITLE} ::text"),
            timestamp=(block.get("data-timestamp") or "").strip(),
            category=_joined(block, f"{CARD_CATEGORY} ::text"),
        ))
    if not cards:
        for block in compiled(OLD_CARD)(root):
            href = _first(block, f"{OLD_CARD_LINK}::attr(href)")
            if href:
                cards.append(Card(
                    url=urljoin(base_url, href.strip()),
                    title=_joined(block, f"{OLD_CARD_LINK} ::text"),
                    timestamp=(block.get("data-timestamp") or "").strip(),
                    category="",
                ))
    return cards


def has_card_container(selector: Selector) -> bool:
    """A listing page whose cards are inserted by script still carries its (empty) container."""
    return bool(selector.css("[data-infinity], .infinity-container, #news-feed"))


def find_nav_links(selector: Selector, base_url: str) -> list[tuple[str, str]]:
    """(label, absolute URL) of every navigation link on an edition's home page."""
    links = []
    for a in selector.css("header a, nav a"):
        href = a.attrib.get("href")
        if href:
            links.append((" ".join(a.css("::text").getall()).strip(), urljoin(base_url, href.strip())))
    return links


@functools.cache
def compiled(query: str) -> etree.XPath:
    """A CSS query (``::text`` and ``::attr()`` too) compiled once into the XPath parsel would run.

    Article pages are read through these on lxml nodes: parsel builds an XPath evaluator and a
    Selector per node on every call, half of the cost of reading a page.
    """
    return etree.XPath(_CSS.css_to_xpath(query), smart_strings=False)


def find(node: etree._Element, queries: tuple[str, ...] | str) -> list:
    """first_css on an lxml node: the matches of the first query that matches anything."""
    for query in (queries,) if isinstance(queries, str) else queries:
        found = compiled(query)(node)
        if found:
            return found
    return []


def first_css(selector: Selector, queries: tuple[str, ...] | str) -> list[Selector]:
    """The matches of the first query that matches anything (selectors with fallbacks)."""
    for query in (queries,) if isinstance(queries, str) else queries:
        found = selector.css(query)
        if found:
            return list(found)
    return []


def next_page_url(selector: Selector, base_url: str) -> str | None:
    for a in first_css(selector, PAGINATION_NEXT):
        if a.attrib.get("href"):
            return urljoin(base_url, a.attrib["href"])
    return None


def has_pagination(selector: Selector) -> bool:
    """Whether the page shows its own pagination (then a missing next link means the last page)."""
    return bool(selector.css(".pagination, nav.pagination, ul.pagination"))


def looks_truncated(body: bytes) -> bool:
    """A full page cut in transit (a 200 with a short body): it ends before its footer and </html>.

    Either one is enough to call a page whole, so sloppy markup that never closes
    its tags is not mistaken for a cut.
    """
    lowered = body.lower()
    return b"</html>" not in lowered[-4096:] and b"<footer" not in lowered
