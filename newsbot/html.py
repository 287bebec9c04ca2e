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

from lxml import etree
from parsel import Selector
from scrapy.http import TextResponse

_local = threading.local()  # an lxml parser must not be shared between threads


def _parser() -> etree.HTMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        # As parsel's: recover from broken markup, and no limit on a text node's size.
        parser = _local.parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    return parser


def parse_html(body: bytes) -> etree._Element:
    """The root of a UTF-8 HTML document (an empty <html/> for an empty or unparsable one)."""
    # Two copies of ~100 KB saved where they are not needed: lxml skips leading whitespace itself.
    if b"\x00" in body:
        body = body.replace(b"\x00", b"")
    root = None
    if body and not body.isspace():
        try:
            root = etree.fromstring(body, parser=_parser())
        except etree.XMLSyntaxError:
            root = None
    return root if root is not None else etree.fromstring(b"<html/>", parser=_parser())


def document(response: TextResponse) -> Selector:
    """The response's selector, parsed at most once per response."""
    # Scrapy keeps the selector it built in _cached_selector (TextResponse.__slots__): reuse it
    # when something already asked for it, and leave ours there for whatever asks next.
    cached = getattr(response, "_cached_selector", None)
    if cached is not None:
        return cached
    if response.encoding.replace("_", "-").lower() not in ("utf-8", "utf8"):
        return response.selector  # Scrapy's decoding handles every other charset
    selector = Selector(root=parse_html(response.body), type="html", base_url=response.url)
    try:
        response._cached_selector = selector
    except AttributeError:
        pass  # a Response class without the slot: the selector is still this call's
    return selector
