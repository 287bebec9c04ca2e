"""Item loaders that turn an article page into an ArticleItem.

Field cleaning lives in the loader's processors (pure functions from
normalize.py); fields derived from several others are computed once the
loader has done its work. Spiders call extract_article() and only navigate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from itemloaders.processors import Compose, Identity, MapCompose, TakeFirst
from lxml import etree
from parsel import Selector
from scrapy.loader import ItemLoader

from newsbot import categories, site
from newsbot.items import ArticleItem
from newsbot.normalize import (
    article_id,
    canonical_url,
    clean_text,
    content_hash,
    iso_local,
    iso_utc,
    parse_site_datetime,
    story_id,
    utc_now_iso,
    word_count,
)

SOURCE = "report.az"


def _non_empty(values: list[str]) -> list[str]:
    return [v for v in values if v]


def _real_paragraphs(values: list[str]) -> list[str]:
    return [v for v in values if v and not site.is_boilerplate(v)]


def _unique(values: list) -> list:
    seen, unique = set(), []
    for value in values:
        key = repr(value)
        if key not in seen:
            seen.add(key)
            unique.append(value)
    return unique


class ArticleLoader(ItemLoader):
    default_item_class = ArticleItem
    default_input_processor = MapCompose(clean_text)
    default_output_processor = TakeFirst()

    body_out = Compose(_real_paragraphs, "\n\n".join)
    tags_out = Compose(_non_empty, _unique)
    images_in = Identity()
    images_out = Compose(_unique)


@dataclass
class Extraction:
    """What one article page gave: an item, or None and why; plus anything worth counting."""

    item: ArticleItem | None
    problems: list[str] = field(default_factory=list)  # drop reasons and warnings, stats-key friendly
    failed_selectors: list[str] = field(default_factory=list)


DROP_REASONS = ("missing_title", "missing_body")


def _scope(root: etree._Element) -> etree._Element:
    # The sidebar repeats the card markup (dates, titles); read the article's own block first.
    scoped = site.compiled(site.ARTICLE_SCOPE)(root)
    return scoped[0] if scoped else root


_TEXT_AND_BREAKS = etree.XPath(".//text() | .//br", smart_strings=False)
_ALL_TEXT = "::text"


def _texts(node: etree._Element) -> str:
    # Inline markup joins without spaces ("<b>Report</b>-a"), but a <br> separates like a space.
    return "".join(part if isinstance(part, str) else " " for part in _TEXT_AND_BREAKS(node))


def _text_of(node: etree._Element, query: str) -> str:
    return "".join(site.compiled(query)(node))


def _date_parts(node: etree._Element) -> tuple[str, str]:
    texts = [_texts(li) for li in site.compiled(site.DATE_ITEMS)(node)[:2]]
    return (texts[0] if texts else "", texts[1] if len(texts) > 1 else "")


_MEDIA_LABELS = ("photo", "foto", "фото", "video", "видео")


def _other_editions(scope: etree._Element, root: etree._Element, base_url: str, own_language: str) -> list[dict]:
    found: dict[str, dict] = {}
    for link in site.find(scope, site.ARTICLE_OTHER_EDITIONS):
        href = link.get("href")
        if not href:
            continue
        url = canonical_url(urljoin(base_url, href))
        language = site.language_of_path(urlsplit(url).path)
        title = clean_text(_text_of(link, f"{site.CARD_TITLE} ::text")) or clean_text(
            " ".join(t for t in site.compiled(_ALL_TEXT)(link) if clean_text(t).casefold() not in _MEDIA_LABELS)
        )
        if language != own_language and language not in found and site.is_article_url(url):
            found[language] = {"language": language, "url": url, "title": title}
    # hreflang alternates are unconfirmed on the live site: used only to fill gaps.
    for link in site.compiled(site.HREFLANG_LINKS)(root):
        language, href = (link.get("hreflang") or "")[:2].lower(), link.get("href")
        if href and language in site.LANGUAGES and language != own_language and language not in found:
            url = canonical_url(urljoin(base_url, href))
            if site.is_article_url(url):
                found[language] = {"language": language, "url": url, "title": ""}
    return [found[lang] for lang in site.LANGUAGES if lang in found]


def extract_article(html: str | Selector, url: str, crawled_at: str | None = None) -> Extraction:
    """Everything newsbot reads from one article page, as a pure function of its HTML and URL."""
    root = (html if isinstance(html, Selector) else Selector(text=html)).root
    scope = _scope(root)
    url = canonical_url(url)
    path_parts = site.split_article_path(urlsplit(url).path)
    language, segment = (path_parts[0], path_parts[1]) if path_parts else (site.language_of_path(urlsplit(url).path), "")
    problems: list[str] = []
    failed: list[str] = []

    loader = ArticleLoader()
    # A title outside the article block is still the title (older and broken layouts).
    title_query = f"{site.ARTICLE_TITLE} ::text"
    loader.add_value("title", _text_of(scope, title_query) or _text_of(root, title_query))
    paragraphs = [_texts(p) for p in site.compiled(site.ARTICLE_PARAGRAPHS)(scope)] or [
        _texts(p) for p in site.compiled(site.ARTICLE_PARAGRAPHS)(root)
    ]
    loader.add_value("body", paragraphs)
    loader.add_value("tags", [_texts(tag) for tag in site.find(scope, site.ARTICLE_TAGS)])
    image_source = site.compiled("img::attr(data-src), img::attr(src)")
    loader.add_value("images", [
        {"url": urljoin(url, sources[0].strip()), "caption": clean_text(_text_of(figure, "figcaption ::text"))}
        for figure in site.find(scope, site.ARTICLE_PHOTOS)
        if (sources := image_source(figure))
    ])
    item = loader.load_item()

    if not item.get("title"):
        failed.append(site.ARTICLE_TITLE)
        problems.append("missing_title")
    if not item.get("body"):
        failed.append(site.ARTICLE_PARAGRAPHS)
        problems.append("missing_body")
    if problems:
        return Extraction(None, problems, failed)

    page_language = next(iter(site.compiled(site.PAGE_LANGUAGE)(root)), "")[:2].lower()
    if page_language in site.LANGUAGES and page_language != language:
        problems.append("language_mismatch")

    date_text, time_text = _date_parts(scope)
    published = parse_site_datetime(date_text, time_text)
    if published is None:
        failed.append(site.DATE_ITEMS)
        problems.append("unparsable_date" if date_text else "missing_date")

    shown_category = clean_text(" ".join(_texts(n) for n in site.find(scope, site.ARTICLE_CATEGORY)[:1]))
    known = categories.lookup(language, segment, shown_category)
    if known:
        category_name, category_key = shown_category or known.name, known.key
    else:
        category_name, category_key = shown_category, categories.derived_key(segment, shown_category)
        problems.append("unknown_category")
    translations = _other_editions(scope, root, url, language)

    # Fields derived from the URL and the cleaned values: plain functions, no loader round trip.
    # The lead is the body's first paragraph (cleaned paragraphs hold no newlines).
    item["lead"] = item["body"].split("\n\n", 1)[0]
    item.setdefault("tags", [])
    item.setdefault("images", [])
    item.update(
        url=url,
        article_id=article_id(url),
        source=SOURCE,
        language=language,
        word_count=word_count(item["body"]),
        published_at=iso_local(published),
        published_at_utc=iso_utc(published),
        category=category_name,
        category_slug=category_key,
        translations=translations,
        story_id=story_id([url] + [t["url"] for t in translations]),
        crawled_at=crawled_at or utc_now_iso(),
    )
    item["content_hash"] = content_hash({k: item.get(k) for k in (
        "title", "body", "category_slug", "published_at", "tags", "images", "translations")})
    return Extraction(item, problems, failed)
