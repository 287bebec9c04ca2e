"""One parse per page: a UTF-8 response's lxml tree, built once from its bytes by lxml's plain HTML
parser (Scrapy's selector decodes the body to str, and lxml.html's element lookup calls into Python
for every node extraction touches), and the charset a page is read in."""

from __future__ import annotations

import codecs
import threading
import weakref
from collections.abc import Callable

import charset_normalizer
from lxml import etree
from parsel import Selector
from scrapy.http import TextResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

_local = threading.local()  # an lxml parser must not be shared between threads
# How deep libxml2 nests elements, the root counting as one; at that depth it stops reading the page.
MAX_DEPTH = 2048

# A reader of a page being parsed: called with the tree so far and its elements that may still be
# open (everything else is closed: nothing will be added to it); it may take closed subtrees out.
Reader = Callable[[etree._Element, set], None]
# How much of a page a streaming parse adds to the tree between two reads: the most of a listing's
# cards that are a tree at once (the last page of a big cumulative category is megabytes of cards).
READ_CHUNK = 1 << 18
# Where a declaration may sit: browsers look for <meta charset> in the first 1024 bytes, w3lib in more.
_DECLARATION_SPAN = 4096


def codec(label: str | None) -> str | None:
    """The canonical codec name of a charset label ("UTF8", "windows-1251"), None for an unknown one."""
    try:
        return codecs.lookup(label).name if label else None
    except LookupError:
        return None


def declared_charsets(body: bytes, content_type: str | None) -> tuple[str | None, str | None]:
    """(the HTTP header's charset, the page's own <meta charset> or XML declaration), as codecs."""
    return (codec(http_content_type_encoding(content_type or "")),
            codec(html_body_declared_encoding(body[:_DECLARATION_SPAN])))


def decide_charset(body: bytes, content_type: str | None) -> tuple[str, str]:
    """(codec, decision): how a page's bytes are read, and what decided it (docs/crawling.md,
    Extraction). Strict UTF-8 first: servers mislabel pages far more often than other bytes pass
    for UTF-8; the page's own declaration before the header: its author knows its bytes."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", "utf8"
    bom, _ = read_bom(body)
    if bom:
        return codec(bom) or bom, "bom"
    header, meta = declared_charsets(body, content_type)
    if meta and meta != "utf-8":
        return meta, "meta"
    if header and header != "utf-8":
        return header, "header"
    best = charset_normalizer.from_bytes(body).best()
    if best is not None and codec(best.encoding):
        return codec(best.encoding), "detected"
    return "cp1252", "fallback"  # Scrapy's own last resort


def with_charset(response: TextResponse) -> tuple[TextResponse, str, bool]:
    """(the response read in the charset decide_charset gives, the decision, whether a label of the
    page named another charset than its UTF-8 bytes)."""
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
    chosen, decision = decide_charset(response.body, content_type)
    lied = decision == "utf8" and not response.body.isascii() and any(
        label not in (None, "utf-8", "ascii") for label in declared_charsets(response.body, content_type))
    if codec(response.encoding) != chosen:
        response = response.replace(encoding=chosen)
    return response, decision, lied


def _without_nul(body: bytes) -> bytes:
    # libxml2 stops at a NUL byte. Only the rare page with one is copied: lxml skips leading
    # whitespace itself, so the copies a strip would make are saved.
    return body.replace(b"\x00", b"") if b"\x00" in body else body


def parse_html(body: bytes) -> etree._Element:
    """The root of a UTF-8 HTML document (an empty <html/> for an empty or unparsable one)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        # As parsel's: recover from broken markup, and no limit on a text node's size.
        parser = _local.parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True, collect_ids=False)
    try:
        root = etree.fromstring(_without_nul(body), parser=parser)  # None for an empty or blank body
    except etree.XMLSyntaxError:
        root = None
    return root if root is not None else etree.fromstring(b"<html/>", parser=parser)


def _last_chain(root: etree._Element) -> list[etree._Element]:
    """The root and its last child, that one's last child, and so on: the elements libxml2's HTML
    parser may still append to, as it only ever appends to the innermost open element."""
    chain = [root]  # kept alive: lxml frees each proxy dropped mid-chain by a walk up the tree
    while len(chain[-1]):
        chain.append(chain[-1][-1])
    return chain


def cut_by_depth(root: etree._Element) -> bool:
    """Whether libxml2 stopped parsing a page whose elements nest too deep (MAX_DEPTH, even with
    huge_tree): it keeps what it had read, so the last element read is that deep, the rest missing."""
    return len(_last_chain(root)) >= MAX_DEPTH


def parse_html_reading(body: bytes, read: Reader, chunk: int = READ_CHUNK) -> etree._Element:
    """parse_html, `chunk` bytes at a time, calling `read` after each chunk and once at the end
    (with nothing open), so the reader can take out what it has read before the rest is parsed."""
    body = _without_nul(body)
    parser = etree.HTMLPullParser(events=("start",), tag="html", recover=True, encoding="utf-8", huge_tree=True)
    root = None
    view = memoryview(body)
    for start in range(0, len(body), chunk):
        parser.feed(bytes(view[start:start + chunk]))
        for _event, element in parser.read_events():
            root = element if root is None else root
        if root is not None and start + chunk < len(body):
            read(root, set(_last_chain(root)))
    try:
        root = parser.close()
    except etree.XMLSyntaxError:
        root = None
    root = root if root is not None else parse_html(b"")
    read(root, set())
    return root


# Each response's tree, for as long as the response lives (Scrapy's own selector cache is private).
_PARSED: weakref.WeakKeyDictionary[TextResponse, Selector] = weakref.WeakKeyDictionary()


def document(response: TextResponse, read: Reader | None = None) -> Selector:
    """The response's selector, parsed at most once per response. With `read`, the page is parsed a
    chunk at a time and `read` sees each part as it closes; what it takes out is not in the selector."""
    parsed = _PARSED.get(response)
    if parsed is None and response.encoding.replace("_", "-").lower() not in ("utf-8", "utf8"):
        parsed = response.selector  # Scrapy's decoding handles every other charset
    if parsed is not None:
        if read is not None:
            read(parsed.root, set())
        return parsed
    root = parse_html(response.body) if read is None else parse_html_reading(response.body, read)
    selector = Selector(root=root, type="html", base_url=response.url)
    _PARSED[response] = selector
    return selector
