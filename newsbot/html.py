"""One parse per page: the lxml tree of a response, built once from its bytes and shared.

Scrapy's ``response.selector`` decodes the body to str, parsel encodes it back to UTF-8 and
parses it with lxml.html's parser, whose element class lookup calls into Python for every
node the extraction then touches. On a ~100 KB article page that is about twice the cost of
parsing the same bytes with lxml's plain HTML parser (the same libxml2 parse, plain elements).
So a UTF-8 page is parsed from its bytes, and the tree is installed as the response's selector:
whatever reads ``response.selector`` afterwards (a listing rule, a user's middleware) reuses it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from lxml import etree
from parsel import Selector
from scrapy.http import TextResponse

_local = threading.local()  # an lxml parser must not be shared between threads

# A reader of a page being parsed: called with the tree so far and its elements that may still be
# open (everything else is closed: nothing will be added to it); it may take closed subtrees out.
Reader = Callable[[etree._Element, set], None]
# How much of a page a streaming parse adds to the tree between two reads: the most of a listing's
# cards that are a tree at once (a cumulative category page at 100,000 stories is ~6 MB of cards,
# whose whole tree took ~53 MB).
READ_CHUNK = 1 << 18


def _parser() -> etree.HTMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        # As parsel's: recover from broken markup, and no limit on a text node's size.
        parser = _local.parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    return parser


def _without_nul(body: bytes) -> bytes:
    # libxml2 stops at a NUL byte. Only the rare page with one is copied: lxml skips leading
    # whitespace itself, so the ~100 KB copies a strip would make are saved.
    return body.replace(b"\x00", b"") if b"\x00" in body else body


def parse_html(body: bytes) -> etree._Element:
    """The root of a UTF-8 HTML document (an empty <html/> for an empty or unparsable one)."""
    body = _without_nul(body)
    root = None
    if body and not body.isspace():
        try:
            root = etree.fromstring(body, parser=_parser())
        except etree.XMLSyntaxError:
            root = None
    return root if root is not None else etree.fromstring(b"<html/>", parser=_parser())


def _open_chain(root: etree._Element) -> set:
    # libxml2's HTML parser only ever appends to the innermost open element, so what may still
    # grow is the chain from the root to the last node.
    chain, node = {root}, root
    while len(node):
        node = node[-1]
        chain.add(node)
    return chain


def parse_html_reading(body: bytes, read: Reader, chunk: int = READ_CHUNK) -> etree._Element:
    """parse_html, `chunk` bytes at a time, calling `read` after each chunk and once at the end
    (with nothing open), so the reader can take out what it has read before the rest is parsed."""
    body = _without_nul(body)
    if not body or body.isspace():
        root = parse_html(body)
        read(root, set())
        return root
    parser = etree.HTMLPullParser(events=("start",), tag="html", recover=True, encoding="utf-8", huge_tree=True)
    root = None
    view = memoryview(body)
    for start in range(0, len(body), chunk):
        parser.feed(bytes(view[start:start + chunk]))
        for _event, element in parser.read_events():
            root = element if root is None else root
        if root is not None and start + chunk < len(body):
            read(root, _open_chain(root))
    try:
        root = parser.close()
    except etree.XMLSyntaxError:
        root = None
    root = root if root is not None else parse_html(b"")
    read(root, set())
    return root


def document(response: TextResponse, read: Reader | None = None) -> Selector:
    """The response's selector, parsed at most once per response.

    With `read`, the page is parsed a chunk at a time and `read` sees each part as it closes
    (see parse_html_reading); what it takes out is not in the selector.
    """
    # Scrapy keeps the selector it built in _cached_selector (TextResponse.__slots__): reuse it
    # when something already asked for it, and leave ours there for whatever asks next.
    cached = getattr(response, "_cached_selector", None)
    if cached is None and response.encoding.replace("_", "-").lower() not in ("utf-8", "utf8"):
        cached = response.selector  # Scrapy's decoding handles every other charset
    if cached is not None:
        if read is not None:
            read(cached.root, set())
        return cached
    root = parse_html(response.body) if read is None else parse_html_reading(response.body, read)
    selector = Selector(root=root, type="html", base_url=response.url)
    try:
        response._cached_selector = selector
    except AttributeError:
        pass  # a Response class without the slot: the selector is still this call's
    return selector
