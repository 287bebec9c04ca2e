"""The site's markup, one declarative table per design generation (each the newer one with what changed
overridden), tried newest first, as fundus's publisher parsers. Where the real markup is unknown there
is no selector here: newsbot.evidence finds those parts by what they are."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from urllib.parse import urljoin

from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator


@dataclass(frozen=True)
class ArticleMarkup:
    """Where one design generation puts each part of an article page ("" when it has none)."""

    version: str
    title: str            # the headline element
    body: str             # the body block; its paragraphs are read structurally
    category: str         # the category shown in the article's head
    date: str             # date and time elements: the first holds the date, the second the time
    main_photo: str       # the main photo's <img>
    site_id: str          # the short link report.az/<id>


# Current design (late 2025 on; confirmed by 3+ public scrapers, head and photo by 1).
CURRENT = ArticleMarkup(
    version="current",
    title="h1.section-title",
    body="div.news-detail__desc",
    category=".news-detail__head .news__category",
    date=".news-detail__head .news__date li, ul.news__date > li",
    main_photo=".news-detail__main-photo img",
    site_id=".copy-url::attr(data-url)",
)
# The 2024 design: only what differs.
LEGACY = replace(
    CURRENT,
    version="legacy",
    title="h1.news-title",
    body="div.editor-body",
    category="",
    date=".news-date span",
    main_photo="div.news-cover div.image img",
    site_id="",
)
# Tried in this order; the first whose title or body is on the page reads it.
MARKUPS: tuple[ArticleMarkup, ...] = (CURRENT, LEGACY)
# Counted when no generation matched and the structural rules read the whole page.
UNKNOWN_VERSION = "unknown"


def selectors(part: str) -> str:
    """Every generation's selector for one part, as one CSS group (how misses are named in stats)."""
    return ", ".join(dict.fromkeys(getattr(m, part) for m in MARKUPS if getattr(m, part)))


# --- listings (cards are shared by the feed, the infinity fragment, category pages, the sidebar) ---

CARD = "div.index-post-block"
# (card, its link queries best first, title, category or "") per markup, current first; an older
# markup's cards (parsed so they never crash a crawl) count only on a page with no current ones.
CARD_MARKUPS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    (CARD, ("a.news__item::attr(href)", "a::attr(href)"), "h2.news__title ::text",
     "span.news__category ::text"),
    ("section.news-feed-page .news-item, .news-item.infinity-item", ("a.title::attr(href)",),
     "a.title ::text", ""),
    (".news-block", (".title a::attr(href)", "a.title::attr(href)"), ".feed-news-title ::text, .title ::text",
     ""),
)
# The feed's container names its infinity endpoint; the others are older guesses, for script-made pages.
FEED_ENDPOINT = ".loadContainer::attr(data-url)"
CARD_CONTAINERS = ".loadContainer, [data-infinity], .infinity-container, #news-feed"
PAGINATION_NEXT = ("a[rel=next]", ".pagination a.next")
PAGINATION = ".pagination, nav.pagination, ul.pagination"
NAV_LINKS = "header a, nav a"

# --- the head: structured data and links --------------------------------------------

JSON_LD = 'script[type="application/ld+json"]::text'
CANONICAL = 'link[rel="canonical"]::attr(href)'
SHORTLINK = 'link[rel="shortlink"]::attr(href)'
HREFLANG_LINKS = "link[rel=alternate][hreflang]"
META_PROPERTY = "meta[property]"

# --- structure: what any page is made of, whatever its classes -------------------------

# Page chrome around an article; a block holding listing cards is the "Latest News" sidebar.
CHROME_TAGS = frozenset({"header", "nav", "footer", "aside"})
# Embedded third-party content: none of its text is the article's.
EMBED_TAGS = frozenset({"iframe", "script", "noscript", "style", "template", "object", "embed", "video",
                        "audio", "svg", "form", "button", "input", "select", "textarea"})
EMBED_CLASSES = ("twitter-tweet", "instagram-media", "tiktok-embed", "fb-post", "telegram-post")
# Elements that flow inside a paragraph; anything else starts a block.
INLINE_TAGS = frozenset({"a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "dfn", "em", "font", "i",
                         "kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
                         "time", "tt", "u", "var", "wbr", "del", "ins", "img", "picture", "source"})
# A slider that loops repeats its slides as clones, marked so by every slider library (slick-cloned,
# swiper-slide-duplicate, glide__slide--clone...): their photos are the originals' again.
CLONE_MARKS = ("clone", "duplicate")
# Where a lazy image keeps its real address, best first; srcset is read separately.
IMAGE_SOURCES = ("data-src", "data-cfsrc", "data-lazy-src", "data-original", "src")
# A placeholder shown until the real image loads is never an image.
PLACEHOLDER_MARKS = ("thunk_", "placeholder", "blank.gif", "spacer.gif", "lazy.")

_CSS = HTMLTranslator()  # what parsel's Selector.css uses on HTML


@functools.cache
def compiled(query: str) -> etree.XPath:
    """A CSS query (``::text`` and ``::attr()`` too) compiled once into the XPath parsel would run, for
    lxml nodes: parsel builds an XPath evaluator and a Selector per node on every call."""
    return etree.XPath(_CSS.css_to_xpath(query), smart_strings=False)


def has_card_container(selector: Selector) -> bool:
    """A listing page whose cards are inserted by script still carries its (empty) container."""
    return bool(selector.css(CARD_CONTAINERS))


def feed_endpoint(selector: Selector) -> str | None:
    """The infinity endpoint the feed page names, as written (relative or absolute)."""
    return (selector.css(FEED_ENDPOINT).get() or "").strip() or None


def find_nav_links(selector: Selector, base_url: str) -> list[tuple[str, str]]:
    """(label, absolute URL) of every navigation link on an edition's home page."""
    return [(" ".join(a.css("::text").getall()).strip(), urljoin(base_url, a.attrib["href"].strip()))
            for a in selector.css(NAV_LINKS) if a.attrib.get("href")]


def next_page_url(selector: Selector, base_url: str) -> str | None:
    """The first of PAGINATION_NEXT's queries that finds links decides."""
    links = next((found for query in PAGINATION_NEXT if (found := selector.css(query))), [])
    href = next((a.attrib["href"] for a in links if a.attrib.get("href")), None)
    return urljoin(base_url, href) if href else None


def pagination_links(selector: Selector, base_url: str) -> list[str]:
    """Every link of the page's pagination, absolute, each once, in page order."""
    query = ", ".join(f"{part.strip()} a[href]" for part in PAGINATION.split(","))
    links = (urljoin(base_url, a.attrib["href"].strip()) for a in selector.css(query))
    return list(dict.fromkeys(links))


def has_pagination(selector: Selector) -> bool:
    """Whether the page shows its own pagination (then a missing next link means the last page)."""
    return bool(selector.css(PAGINATION))


def looks_truncated(body: bytes) -> bool:
    """A full page cut in transit (a 200 with a short body): it ends before its footer and </html>.
    Either one is enough to call a page whole, so sloppy markup that never closes its tags is not a cut."""
    # The tail first, lowered alone: lowering all of the page (a copy) costs more than the rest.
    if b"</html>" in body[-4096:].lower():
        return False
    return _FOOTER.search(body) is None


_FOOTER = re.compile(rb"<footer", re.IGNORECASE)
