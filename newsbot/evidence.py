"""What one article page says about each field, from every source it offers, as raw page text that
the item loader cleans (docs/crawling.md, Extraction). Parts with no known markup are found by what
they are and where they are, never by a class name."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from newsbot import site
from newsbot.dom import (HOLDS_CHROME, IMAGE_FILE, IMAGES, PRECEDING_LINKS, StructuredData, common_ancestor,
                         image_url, is_chrome, is_embed, is_foreign, is_placeholder, ld_value, text_of)
from newsbot.items import BY_NAME
from newsbot.normalize import clean_text, parse_site_datetime, parse_timestamp, url_key
from newsbot.site import markup

# An address no page lives at: a lightbox's link may hold a fragment, a script or the placeholder itself.
_NO_PAGE = re.compile(r"\s*(?:$|#|javascript:|data:)", re.IGNORECASE)
_CAPTION_MAX = 300
# A paragraph found by structure is reporting when this much of its text is not link text, and a
# block of them is a story when they hold this much text (else the page has no body).
_REPORTING_MIN = 40
_STORY_MIN = 120
# A related-article block may name itself with a short label ("Read also", "Həmçinin oxuyun",
# "Читайте также"): a few words before its links, never a sentence of its own.
_LABEL_WORDS = 5
_LINK_SEPARATORS = re.compile(r"[,;|•·#→←»«›‹/\-–—:()\[\]]")
_LABEL_TRIM = " :·•|-–—#"
_MARKED_LABEL = re.compile(r"([^:|•·]+?)\s*[:|•·]\s*(.+)")


def _is_reporting(p: etree._Element) -> bool:
    return len(text_of(p).strip()) - sum(len(text_of(a).strip()) for a in p.iter("a")) >= _REPORTING_MIN


@dataclass
class Paragraph:
    text: str  # raw, uncleaned
    links: list[etree._Element]


class ArticleLayout:
    """Where an article page's parts are: the generation that matched, the title and body nodes (by a
    generation's markup, else by structure), the article block, and the body's paragraphs of reporting."""

    def __init__(self, root: etree._Element, url: str) -> None:
        self.root, self.url = root, url
        self.links_of = site.Resolver(url)
        self.version = site.UNKNOWN_VERSION
        self.structural_paragraphs: list[etree._Element] | None = None
        self.related_blocks = 0  # blocks inside the body that only point to other articles, dropped
        self._related_after = -1  # how many paragraphs were kept when the last of them was left out
        title, body = self._first_of("title"), self._first_of("body")
        self.title_node = title if title is not None else self._structural_title()
        self.body_node = body if body is not None else self._structural_body()
        self.block = self._article_block()
        self.data = StructuredData.read(root)
        self.paragraphs: list[Paragraph] = self._paragraphs() if self.body_node is not None else []

    def _first_of(self, part: str) -> etree._Element | None:
        """The first generation's node for a part; the version is the one whose body (else title) matched."""
        for table in site.MARKUPS:
            query = getattr(table, part)
            found = site.compiled(query)(self.root) if query else []
            if found:
                if part == "body" or self.version == site.UNKNOWN_VERSION:
                    self.version = table.version
                return found[0]
        return None

    def _structural_title(self) -> etree._Element | None:
        return next((node for node in self.root.iter("h1")
                     if not any(is_chrome(a) for a in node.iterancestors()) and text_of(node).strip()), None)

    def _structural_body(self) -> etree._Element | None:
        """The block whose own paragraphs of reporting (not link lines such as a tags line, not chrome)
        hold the most text, if they hold enough to be a story."""
        totals: dict[etree._Element, int] = {}
        for p in self.root.iter("p"):
            parent = p.getparent()
            if parent is None or is_chrome(parent) or any(is_chrome(a) for a in parent.iterancestors()):
                continue
            if _is_reporting(p):
                totals[parent] = totals.get(parent, 0) + len(text_of(p).strip())
        best = max(totals.items(), key=lambda kv: kv[1], default=(None, 0))
        if best[1] < _STORY_MIN:
            return None
        self.structural_paragraphs = [p for p in best[0] if p.tag == "p" and _is_reporting(p)]
        return best[0]

    def _article_block(self) -> etree._Element:
        """The smallest block holding the title and the body, widened until the next step up would
        take in page chrome or a list of cards: that is where the tags line, the photos and the other
        editions' links are (after the body on every layout seen)."""
        anchors = [n for n in (self.title_node, self.body_node) if n is not None]
        if not anchors:
            return self.root
        node = common_ancestor(*anchors) if len(anchors) == 2 else anchors[0]
        while True:
            parent = node.getparent()
            if parent is None or parent.tag in ("body", "html"):
                return node
            if any(sibling is not node and isinstance(sibling.tag, str) and HOLDS_CHROME(sibling)
                   for sibling in parent):
                return node
            node = parent

    def _linked_away(self, node: etree._Element, within: etree._Element | None = None,
                     links: bool = True) -> bool:
        """Whether a node sits, below `within` (the article block), inside chrome, an embed, a slider's
        clone of a slide or, with `links`, a link to a page (not to an image file or to no page): an image
        there (a thumbnail, a share button, a clone putting the last photo first) is not this article's."""
        stop = self.block if within is None else within
        for above in node.iterancestors():
            if above is stop:
                return False
            if is_foreign(above) or (links and above.tag == "a" and _is_page_link(above.get("href") or "")):
                return True
        return False

    def _is_figure(self, node: etree._Element) -> bool:
        """A block that is an image with, at most, its caption (not a paragraph of the text)."""
        if node.tag == "figure":
            return True
        if node.tag != "img" and node.find(".//img") is None:
            return False  # most blocks: no image at all, no need to count them
        # A card's thumbnail (an image in a link to a page, or in chrome) makes no figure of what holds it.
        images = [img for img in IMAGES(node) if not self._linked_away(img, node)] if node.tag != "img" else [node]
        return bool(images) and len(images) == 1 and len(text_of(node).strip()) <= _CAPTION_MAX and sum(
            1 for d in node.iter("p", "div", "li") if d is not node and text_of(d).strip()) <= 1

    def _paragraphs(self) -> list[Paragraph]:
        """Block children are paragraphs (or hold them); loose inline content between blocks is one too.
        A block (or a run of loose content) that only points to other articles is left out, and so is
        a label standing just before it."""
        if self.structural_paragraphs is not None:
            # A block found by structure may hold more than the story: only its paragraphs of reporting.
            return [Paragraph(text_of(p), list(p.iter("a"))) for p in self.structural_paragraphs]
        found: list[Paragraph] = []
        # A stack of the blocks being read, not recursion: pages may nest deeper than the recursion limit.
        stack = [_Reading(self.body_node, self.body_node)]
        while stack:
            reading = stack[-1]
            for child in reading.children:
                tag = child.tag
                if not isinstance(tag, str) or is_embed(child):
                    pass
                elif tag in markup.INLINE_TAGS and not self._has_blocks(child):
                    if tag == "img" or IMAGES(child):
                        self._flush(reading, found)  # an image between paragraphs: read by images()
                    elif tag == "br":
                        if reading.breaks:
                            self._flush(reading, found)  # <br><br> separates paragraphs of loose text
                        else:
                            reading.run.append(" ")
                    else:
                        reading.run.append(text_of(child))
                        reading.links.extend(child.iter("a"))
                else:
                    self._flush(reading, found)
                    inner = _unwrapped(child)
                    if self._is_related(list(inner.iter("a")), lambda: text_of(inner)):
                        self._leave_out_related(found)  # thumbnails and all
                    elif self._is_figure(inner):
                        pass
                    elif self._has_blocks(inner):
                        stack.append(_Reading(inner, child))
                        break  # read past the child once its blocks are read
                    else:
                        found.append(Paragraph(text_of(inner), list(inner.iter("a"))))
                reading.read_past(child)
            else:
                self._flush(reading, found)
                stack.pop()
                if stack:
                    stack[-1].read_past(reading.outer)
        return found

    def _flush(self, reading: _Reading, found: list[Paragraph]) -> None:
        if "".join(reading.run).strip():
            paragraph = Paragraph("".join(reading.run), list(reading.links))
            if paragraph.links and self._is_related(paragraph.links, lambda: paragraph.text):
                self._leave_out_related(found)
            else:
                found.append(paragraph)
        reading.run.clear()
        reading.links.clear()

    def _leave_out_related(self, found: list[Paragraph]) -> None:
        if found and not found[-1].links and _is_label(found[-1].text):
            found.pop()
        # Headlines one to a paragraph, with nothing kept between them, are one block to a reader.
        if self._related_after != len(found):
            self.related_blocks += 1
            self._related_after = len(found)

    def _is_related(self, links: list[etree._Element], text: Callable[[], str]) -> bool:
        """Whether a block only points to other articles of the site: its text is its links' (headlines),
        separators and at most a short label before them (reporting has words of its own around a link,
        and a channel or a document is no article). The text is read only when the links qualify."""
        if not links or not all(self.is_article_link(a.get("href") or "") for a in links):
            return False
        rest = text()
        for a in links:
            shown = text_of(a)
            if shown.strip():
                rest = rest.replace(shown, "\x00", 1)
        before, _, after = rest.partition("\x00")
        return _is_label(before) and not _LINK_SEPARATORS.sub("", after.replace("\x00", "")).strip()

    def is_article_link(self, href: str) -> bool:
        path = self.links_of.site_path(href.strip())
        return path is not None and site.split_article_path(path) is not None

    @staticmethod
    def _has_blocks(node: etree._Element) -> bool:
        return any(isinstance(d.tag, str) and d.tag not in markup.INLINE_TAGS and not is_embed(d)
                   for d in node.iterdescendants())


class Page(ArticleLayout):
    """One article page read field by field: `read` for a field whose sources are read one at a time
    (the readers below), a method for each field whose sources are read together."""

    def read(self, field: str) -> tuple[Any, str]:
        """(raw value, source) of the first declared source whose reader answers; (None, "") if none does."""
        readers = _READERS[field]
        for source in BY_NAME[field].sources:
            value = readers[source](self)
            if value is not None:
                return value, source
        return None, ""

    @property
    def matched(self) -> bool:
        return self.version != site.UNKNOWN_VERSION

    def date_parts(self) -> tuple[str, str]:
        for table in site.MARKUPS:
            if table.date:
                nodes = site.compiled(table.date)(self.block)
                if nodes:
                    return text_of(nodes[0]), text_of(nodes[1]) if len(nodes) > 1 else ""
        return "", ""

    def published(self) -> tuple[datetime | None, str, bool]:
        """(moment, source, visible and structured disagree)."""
        date_text, time_text = self.date_parts()
        visible = parse_site_datetime(date_text, time_text) if date_text else None
        structured, source = next(((moment, name) for candidate, name in (
            (ld_value(self.data.article.get("datePublished")), "json-ld"),
            (self.data.meta.get("article:published_time", ""), "meta"),
        ) if (moment := parse_timestamp(candidate)) is not None), (None, ""))
        if visible is None:
            return structured, source, False
        disagree = structured is not None and abs((visible - structured).total_seconds()) >= 60
        return visible, "markup", disagree

    def links(self, own_language: str) -> tuple[list[str], list[tuple[str, str, str]], str]:
        """(tag texts, [(language, url, title)] of other editions, the source of the first edition found),
        in page order, from one pass over the article block's links."""
        inline = {a for p in self.paragraphs for a in p.links if not self._is_link_line(p)}
        tags: list[str] = []
        editions: dict[str, tuple[str, str, str]] = {}
        # Only links after the title (a trending-tags bar comes before it), outside chrome and cards.
        before = set(PRECEDING_LINKS(self.title_node)) if self.title_node is not None else set()
        for a in self.block.iter("a"):
            href = (a.get("href") or "").strip()
            if (a in before or self._linked_away(a, links=False) or not href
                    or href.startswith(("#", "javascript:", "mailto:"))):
                continue
            path = self.links_of.site_path(href)
            if path is None:
                continue
            if site.is_tag_path(path):
                if a not in inline and site.language_of_path(path) == own_language:
                    tags.append(text_of(a).strip().lstrip("#"))
                continue
            parts = site.split_article_path(path)
            if parts is None or parts[0] == own_language:
                continue
            title = _link_title(a)
            target = self.links_of.absolute(href)
            known = editions.get(parts[0])
            # A second link to the same edition names it when the first had no title (an image link).
            if known is None or (not clean_text(known[2]) and url_key(known[1]) == url_key(target)):
                editions[parts[0]] = (parts[0], target, title)
        source = "structure" if editions else ""
        for node in site.compiled(markup.HREFLANG_LINKS)(self.root):
            language, href = (node.get("hreflang") or "")[:2].lower(), (node.get("href") or "").strip()
            if (href and language in site.LANGUAGES and language != own_language and language not in editions
                    and self.is_article_link(href)):
                editions[language] = (language, self.links_of.absolute(href), "")
                source = source or "hreflang"
        return tags, [editions[lang] for lang in site.LANGUAGES if lang in editions], source

    @staticmethod
    def _is_link_line(paragraph: Paragraph) -> bool:
        """A paragraph that is only links and a label ("Tags: a, b"): a tags line, not reporting."""
        if not paragraph.links:
            return False
        rest = paragraph.text
        for a in paragraph.links:
            rest = rest.replace(text_of(a), "", 1)
        rest = clean_text(re.sub(r"[,;|•·#]", " ", rest))
        return not rest or (rest.endswith(":") and len(rest.split()) <= 3)

    def without_tags_line(self) -> list[Paragraph]:
        return [p for p in self.paragraphs if not self._is_link_line(p) or not any(
            site.is_tag_path(self.links_of.site_path(a.get("href") or "") or "") for a in p.links)]

    def images(self, base_url: str) -> tuple[list[tuple[str, str]], str]:
        """[(url, caption)]: the main photo, then the other photos of the article block in page order;
        relative addresses are resolved against base_url (the page's canonical URL)."""
        found: dict[str, str] = {}  # url -> caption
        candidates = [n for table in site.MARKUPS if table.main_photo
                      for n in site.compiled(table.main_photo)(self.block)[:1]]
        candidates += [n for n in self.block.iter("img") if not self._linked_away(n)]
        for node in candidates:
            url = image_url(node)
            if url and site.is_story_photo(url):
                url = urljoin(base_url, url)
                if url not in found:
                    found[url] = self._caption(node)
        if found:
            return list(found.items()), "markup+structure"
        for url, source in ((self.data.meta.get("og:image", ""), "og"),
                            (ld_value(self.data.article.get("image")), "json-ld")):
            # Only with a story's own photo: pages without one carry the site's default share image there.
            if url and not is_placeholder(url) and site.is_story_photo(url):
                return [(urljoin(base_url, url), "")], source
        return [], ""

    def _caption(self, img: etree._Element) -> str:
        """The text shown with a photo: its figcaption, else the text of its widest wrapper (short of the
        body and article blocks) that holds no other image, no title and no more than a caption's worth."""
        node = img
        # Elements, kept alive: see common_ancestor.
        stops = {n for n in (self.block, self.body_node, self.root) if n is not None}
        if self.title_node is not None:
            stops.update(self.title_node.iterancestors())
        while True:
            parent = node.getparent()
            if (parent is None or parent in stops or len(IMAGES(parent)) != 1
                    or len(text_of(parent).strip()) > _CAPTION_MAX):
                break
            node = parent
        for caption in node.iter("figcaption"):
            return text_of(caption)
        return text_of(node) if node is not img else ""


# --- readers of one source each, registered per field: None when the source has nothing ----------

_READERS: dict[str, dict[str, Callable[[Page], Any]]] = defaultdict(dict)


def _reads(field: str, source: str) -> Callable[[Callable[[Page], Any]], Callable[[Page], Any]]:
    def register(reader: Callable[[Page], Any]) -> Callable[[Page], Any]:
        _READERS[field][source] = reader
        return reader
    return register


@_reads("url", "canonical")
def _url_from_canonical(page: Page) -> str | None:
    href = next(iter(site.compiled(markup.CANONICAL)(page.root)), "").strip()
    return page.links_of.absolute(href) if href and page.is_article_link(href) else None


_reads("url", "response")(lambda page: page.url)


def _title_node_text(page: Page) -> str | None:
    return text_of(page.title_node) if page.title_node is not None and text_of(page.title_node).strip() else None


def _body_paragraphs(page: Page) -> list[str] | None:
    return [p.text for p in page.without_tags_line()] if page.paragraphs else None


# The title and body nodes: credited to the markup when a generation matched, else to the structure.
for _field, _read in (("title", _title_node_text), ("body", _body_paragraphs)):
    _reads(_field, "markup")(lambda page, read=_read: read(page) if page.matched else None)
    _reads(_field, "structure")(lambda page, read=_read: None if page.matched else read(page))


@_reads("title", "json-ld")
def _title_from_json_ld(page: Page) -> str | None:
    headline = ld_value(page.data.article.get("headline"))
    return headline if headline and not headline.rstrip().endswith(("…", "...")) else None


@_reads("title", "og")
def _title_from_og(page: Page) -> str | None:
    og = page.data.meta.get("og:title", "")
    return og.rsplit(" | ", 1)[0] if og else None


@_reads("body", "json-ld")
def _body_from_json_ld(page: Page) -> list[str] | None:
    article_body = ld_value(page.data.article.get("articleBody"))
    return [line for line in article_body.splitlines() if line.strip()] if article_body.strip() else None


@_reads("category", "markup")
def _category_from_markup(page: Page) -> str | None:
    for table in site.MARKUPS:
        if table.category:
            nodes = site.compiled(table.category)(page.block)
            if nodes and text_of(nodes[0]).strip():
                return text_of(nodes[0])
    return None


@_reads("category", "breadcrumb")
def _category_from_breadcrumb(page: Page) -> str | None:
    crumbs = page.data.breadcrumb
    for crumb in reversed(crumbs):
        target = urljoin(page.url, ld_value(crumb.get("item")))
        path = urlsplit(target).path
        if ld_value(crumb.get("name")) and site.category_segment_of_listing(path) and target != page.url:
            return ld_value(crumb.get("name"))
    if len(crumbs) >= 3 and ld_value(crumbs[-2].get("name")):
        return ld_value(crumbs[-2].get("name"))
    return None


@_reads("category", "meta")
def _category_from_meta(page: Page) -> str | None:
    section = page.data.meta.get("article:section", "")
    return section.split(" | ", 1)[0] if section.strip() else None


@_reads("site_id", "markup")
def _site_id_from_markup(page: Page) -> int | None:
    for table in site.MARKUPS:
        if table.site_id:
            # In the article's share bar, else anywhere on the page.
            for value in site.compiled(table.site_id)(page.block) or site.compiled(table.site_id)(page.root):
                if (found := site.site_id_of_short_link(value)) is not None:
                    return found
    return None


@_reads("site_id", "shortlink")
def _site_id_from_shortlink(page: Page) -> int | None:
    return site.site_id_of_short_link(next(iter(site.compiled(markup.SHORTLINK)(page.root)), ""))


def _is_page_link(href: str) -> bool:
    return not (IMAGE_FILE.search(href) or _NO_PAGE.match(href))


class _Reading:
    """A block ArticleLayout._paragraphs is reading: its children left, and its loose content so far."""

    __slots__ = ("children", "outer", "run", "links", "breaks")

    def __init__(self, block: etree._Element, outer: etree._Element) -> None:
        self.children = iter(block)
        self.outer = outer  # the element whose tail follows the block: itself, or a wrapper around it
        self.run: list[str] = [block.text] if block.text else []
        self.links: list[etree._Element] = []
        self.breaks = 0  # <br>s in a row with only whitespace between them

    def read_past(self, child: etree._Element) -> None:
        self.breaks = self.breaks + 1 if child.tag == "br" and not (child.tail or "").strip() else 0
        if child.tail:
            self.run.append(child.tail)


def _unwrapped(block: etree._Element) -> etree._Element:
    """The innermost of a chain of wrappers: blocks holding nothing but one other block. _paragraphs
    judges a wrapper as it judges what it wraps, so it starts there, and a page nesting blocks
    thousands deep costs one step per level rather than a pass over everything below each."""
    # lxml frees an element's proxy by looking up the tree for a live one: the chain is kept alive
    # until the end, or each step down would cost a walk back up to the top.
    chain = [block]
    while block.tag != "figure" and len(block) == 1 and not (block.text or "").strip():
        inner = block[0]
        if (not isinstance(inner.tag, str) or inner.tag in markup.INLINE_TAGS or is_embed(inner)
                or (inner.tail or "").strip()):
            break
        block = inner
        chain.append(block)
    return block


def _is_label(text: str) -> bool:
    """Text that can only name what follows ("Read also:", "Читайте также"), or nothing at all."""
    text = clean_text(text)
    return len(_LINK_SEPARATORS.sub(" ", text).split()) <= _LABEL_WORDS and not text.endswith((".", "!", "?"))


def _link_title(a: etree._Element) -> str:
    """A link's visible text without its badges and language labels ("Photo", "AZ:")."""
    def label(node: etree._Element) -> bool:
        return clean_text(text_of(node)).casefold().strip(_LABEL_TRIM) in site.LINK_LABELS

    text = clean_text(text_of(a, skip=label))
    # A label written as bare text inside the link, marked as one ("AZ: Title", "Photo | Title"): without
    # the mark it may be the title's first word ("Az sayda ...", "Русский язык ...").
    marked = _MARKED_LABEL.match(text)
    return marked[2] if marked and marked[1].casefold() in site.LINK_LABELS else text


