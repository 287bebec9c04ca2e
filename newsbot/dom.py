"""What an lxml tree of any page shows, site rules aside: the text of a node as a browser shows it,
embeds and page chrome, the structured data (JSON-LD, article and OpenGraph meta), and the
real address of a lazily loaded image."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from lxml import etree

from newsbot import site
from newsbot.site import markup

_NEWS_TYPES = frozenset({"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting",
                         "WebPage"})
IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|webp|gif|avif)(?:$|\?)", re.IGNORECASE)
_SRCSET_ITEM = re.compile(r"\s*(\S+)(?:\s+(\d+)[wx])?\s*(?:,|$)")


def text_of(node: etree._Element, skip=None) -> str:
    """The text of a node as a browser shows it: inline markup joined without spaces, <br> as a space,
    scripts, styles and embeds left out."""
    # A stack, not recursion (pages may nest deeper than the recursion limit): an element's children
    # left and its tail. Most elements are leaves: their text and tail are read in place.
    parts: list[str] = [node.text] if node.text else []
    stack: list[tuple[Iterator[etree._Element], str | None]] = [(iter(node), None)]
    while stack:
        children, tail = stack[-1]
        for child in children:
            if isinstance(child.tag, str) and not is_embed(child) and (skip is None or not skip(child)):
                if child.tag == "br":
                    parts.append(" ")
                else:
                    if child.text:
                        parts.append(child.text)
                    if len(child):
                        stack.append((iter(child), child.tail))
                        break
            if child.tail:
                parts.append(child.tail)
        else:
            stack.pop()
            if tail:
                parts.append(tail)
    return "".join(parts)


def is_embed(node: etree._Element) -> bool:
    if node.tag in markup.EMBED_TAGS:
        return True
    classes = node.get("class")
    return bool(classes) and any(c in classes for c in markup.EMBED_CLASSES)


def is_chrome(node: etree._Element) -> bool:
    """Page chrome, or a block of listing cards (the "Latest News" sidebar, related stories)."""
    return node.tag in markup.CHROME_TAGS or "index-post-block" in (node.get("class") or "")


def is_foreign(node: etree._Element) -> bool:
    """Chrome, an embed, or a looping slider's clone of a slide: nothing inside is this article's own."""
    return is_chrome(node) or is_embed(node) or any(
        mark in (node.get("class") or "") for mark in markup.CLONE_MARKS)


HOLDS_CHROME = etree.XPath(
    "descendant-or-self::*[self::header or self::nav or self::footer or self::aside"
    " or contains(concat(' ', normalize-space(@class), ' '), ' index-post-block ')][1]")
# An <img> inside <noscript> repeats a lazy image for browsers without script: not a second image.
IMAGES = etree.XPath(".//img[not(ancestor::noscript)]")
PRECEDING_LINKS = etree.XPath("preceding::a")


def common_ancestor(a: etree._Element, b: etree._Element) -> etree._Element:
    # A set of the elements themselves, not their id()s: lxml makes a new proxy object for a node
    # whenever none is alive, so only proxies kept alive compare (and hash) as the same node.
    above_a = {a, *a.iterancestors()}
    for node in (b, *b.iterancestors()):
        if node in above_a:
            return node
    return a.getroottree().getroot()


def _json_ld_objects(root: etree._Element) -> Iterator[dict]:
    for raw in site.compiled(markup.JSON_LD)(root):
        try:
            data = json.loads(raw)
        except ValueError:
            continue  # broken structured data must never cost the page
        stack = data if isinstance(data, list) else [data]
        while stack:
            obj = stack.pop(0)
            if isinstance(obj, dict):
                yield obj
                if isinstance(obj.get("@graph"), list):
                    stack.extend(obj["@graph"])
            elif isinstance(obj, list):
                stack.extend(obj)


def _types(obj: dict) -> set[str]:
    kind = obj.get("@type")
    return set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()


def ld_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return ld_value(value.get("url") or value.get("@id") or value.get("name"))
    if isinstance(value, list) and value:
        return ld_value(value[0])
    return ""


@dataclass
class StructuredData:
    article: dict = field(default_factory=dict)
    breadcrumb: list[dict] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, root: etree._Element) -> StructuredData:
        found = cls()
        for obj in _json_ld_objects(root):
            types = _types(obj)
            if "BreadcrumbList" in types and not found.breadcrumb:
                items = [i for i in obj.get("itemListElement") or () if isinstance(i, dict)]
                found.breadcrumb = sorted(items, key=lambda i: i.get("position") if isinstance(
                    i.get("position"), int) else 0)
            elif types & _NEWS_TYPES and (not found.article or "WebPage" in _types(found.article)):
                found.article = obj
        for node in site.compiled(markup.META_PROPERTY)(root):
            prop, content = node.get("property") or "", node.get("content")
            if content and (prop.startswith("article:") or prop.startswith("og:")):
                found.meta.setdefault(prop, content)
        return found


def is_placeholder(url: str) -> bool:
    lowered = url.strip().lower()
    return not lowered or lowered.startswith("data:") or any(mark in lowered for mark in markup.PLACEHOLDER_MARKS)


def _srcset_best(value: str) -> str:
    best, best_width = "", -1
    for match in _SRCSET_ITEM.finditer(value or ""):
        url, width = match[1], int(match[2] or 0)
        if url and not is_placeholder(url) and width > best_width:
            best, best_width = url, width
    return best


def image_url(img: etree._Element) -> str:
    """The real address of a (lazy) image; "" when only a placeholder is there."""
    for attribute in markup.IMAGE_SOURCES[:-1]:
        value = (img.get(attribute) or "").strip()
        if value and not is_placeholder(value):
            return value
    # A lazy loader of another name keeps the address in a data- attribute of its own.
    for attribute, value in img.attrib.items():
        value = value.strip()
        if attribute.startswith("data-") and IMAGE_FILE.search(value) and not is_placeholder(value):
            return value
    parent = img.getparent()
    sources = [img] + (list(parent.iter("source")) if parent is not None and parent.tag == "picture" else [])
    for node in sources:
        best = _srcset_best(node.get("data-srcset") or node.get("srcset") or "")
        if best:
            return best
    src = (img.get("src") or "").strip()
    return "" if is_placeholder(src) else src
