"""The item loader that turns an article page into an ArticleItem: newsbot.evidence reads each field,
the processors declared with it in newsbot.items clean it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.loader import ItemLoader

from newsbot import site
from newsbot.site import categories
from newsbot.evidence import Page
from newsbot.html import cut_by_depth, document, parse_html, with_charset
from newsbot.items import BY_NAME, EMPTY, FIELDS, HASHED_FIELDS, ArticleItem
from newsbot.normalize import content_hash, utc_now_iso

class ArticleLoader(ItemLoader):
    """Each field's processors read from its declaration (newsbot.items.FIELDS): ItemLoader's lookup in
    the item field's metadata, through a new ItemAdapter per call, costs more than the cleaning."""

    default_item_class = ArticleItem

    def get_input_processor(self, field_name: str) -> Callable[..., Any]:
        return BY_NAME[field_name].clean_in

    def get_output_processor(self, field_name: str) -> Callable[..., Any]:
        return BY_NAME[field_name].clean_out


@dataclass
class Extraction:
    """What one article page gave: an item, or None and why; plus anything worth counting."""

    item: ArticleItem | None
    problems: list[str] = field(default_factory=list)  # drop reasons and warnings, stats-key friendly
    failed_selectors: list[str] = field(default_factory=list)
    markup: str = site.UNKNOWN_VERSION                  # the design generation that matched
    furniture: Counter = field(default_factory=Counter)  # furniture rule -> paragraphs dropped
    sources: dict[str, str] = field(default_factory=dict)  # field -> the source that answered


def extract_article(html: str | bytes | Selector, url: str, crawled_at: str | None = None) -> Extraction:
    """Everything newsbot reads from one article page, as a pure function of its HTML (a str, UTF-8
    bytes, or a page already parsed: newsbot.html.document) and URL."""
    if isinstance(html, Selector):
        root = html.root
    else:
        root = parse_html(html.encode("utf-8") if isinstance(html, str) else html)
    if cut_by_depth(root):
        # The rest of the page was never read: an article cut short is not stored.
        return Extraction(None, ["too_deep"])
    page = Page(root, url)
    sources: dict[str, str] = {}
    problems: list[str] = []
    failed: list[str] = []
    loader = ArticleLoader()

    def load(name: str) -> Any:  # a field read from its declared sources: its cleaned value
        value, sources[name] = page.read(name)
        loader.add_value(name, value)
        return loader.get_output_value(name)

    url = load("url")
    path = urlsplit(url).path
    path_parts = site.split_article_path(path)
    language, segment = (path_parts[0], path_parts[1]) if path_parts else (site.language_of_path(path), "")

    title, body = load("title"), load("body")
    for part, value in (("title", title), ("body", body)):
        if not value:
            failed.append(site.selectors(part))
            problems.append(f"missing_{part}")
    furniture = loader.context.get("furniture", Counter())
    if page.related_blocks:
        furniture["related"] += page.related_blocks  # what the body pointed to, not the story
    if problems:
        return Extraction(None, problems, failed, page.version, furniture, sources)

    # <html lang>: read off the root, as a query for it would walk the whole page.
    page_language = (root.get("lang") or "")[:2].lower() if root.tag == "html" else ""
    if page_language in site.LANGUAGES and page_language != language:
        problems.append("language_mismatch")

    published, sources["published_at"], disagree = page.published()
    if published is None:
        failed.append(site.selectors("date"))
        problems.append("unparsable_date" if page.date_parts()[0].strip() else "missing_date")
    elif disagree:
        problems.append("date_disagrees")

    shown_category = load("category") or ""
    known = categories.lookup(language, segment, shown_category)
    if known and not shown_category:
        loader.replace_value("category", known.name)

    tags, translations, sources["translations"] = page.links(language)
    sources["tags"] = "structure" if tags else ""
    # One key for every edition of a story: an edition's own slug is often unknown to the table, but
    # a slug it knows in any edition names them all.
    editions = [(language, categories.edition_key(language, segment, shown_category))]
    editions += [(parts[0], categories.edition_key(parts[0], parts[1])) for _, target, _ in translations
                 if (parts := site.split_article_path(urlsplit(target).path)) is not None]
    category_key = categories.unify(editions)
    if not categories.is_known_key(category_key):
        problems.append("unknown_category")
    images, sources["images"] = page.images(url)
    site_id, sources["site_id"] = page.read("site_id")

    loader.add_value(None, {
        "article_id": url, "site_id": site_id, "source": "report.az", "language": language,
        "lead": body.split("\n\n", 1)[0],  # cleaned paragraphs hold no newlines
        "word_count": body, "published_at": published, "published_at_utc": published,
        "category_slug": category_key, "tags": tags, "images": images, "translations": translations,
        "story_id": [url] + [t[1] for t in translations], "crawled_at": crawled_at or utc_now_iso(),
    })
    loaded = loader.load_item()
    # The loader leaves a field with no value unset; the item says "none" instead, in field order
    # (what JSON Lines and exports show). The content hash is a digest of the loaded item itself.
    values = {**EMPTY, **loaded}
    values["content_hash"] = content_hash({k: values[k] for k in HASHED_FIELDS})
    item = ArticleItem({f.name: values[f.name] for f in FIELDS})
    return Extraction(item, problems, failed, page.version, furniture, sources)


# newsbot's one signal: sent once per article page parsed, with extraction=, url=, spider=; crawl
# health and the outcome listen. (A lost page or a broken crawl is reported through newsbot.outcome.)
article_extracted = object()

# A page cut short: the crawl fetches it again before it counts it lost.
CUT_SHORT = frozenset({"truncated", "empty"})


def read_article(response: Response, crawled_at: str | None = None) -> Extraction:
    """An article page from its response (its charset decided), as the crawl and `scrapy reextract`
    both take it: not HTML, cut short, or what extract_article reads."""
    if not isinstance(response, TextResponse):
        return Extraction(None, ["not_html"])
    if site.looks_truncated(response.body):
        return Extraction(None, ["empty" if not response.body.strip() else "truncated"])
    return extract_article(document(response), response.url, crawled_at)


def extract_page(body: bytes, content_type: str | None, url: str, crawled_at: str | None = None) -> Extraction:
    """extract_article of a page as it came over HTTP (its bytes and its Content-Type header), read
    in the charset its bytes prove, as a crawl reads it (newsbot.middlewares.CharsetMiddleware)."""
    headers = {"Content-Type": content_type} if content_type else {}
    response, _, _ = with_charset(HtmlResponse(url, body=body, headers=headers))
    return extract_article(document(response), url, crawled_at)
