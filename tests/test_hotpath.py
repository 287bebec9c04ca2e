"""The fast paths of the per-page work give exactly what the plain ones give."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from itemloaders.processors import MapCompose
from parsel import Selector
from scrapy.http import HtmlResponse

from newsbot.html import document, parse_html, parse_html_reading
from newsbot.normalize import each
from newsbot.normalize import clean_text, clean_texts, iso_utc, repair_mojibake, repair_mojibake_all, url_key
from newsbot.listing import CardReader, parse_cards
from newsbot.site import has_card_container, has_pagination, is_challenge, next_page_url

# Text as pages give it: entities, NBSP and other spaces, invisible characters, combining marks,
# Cyrillic and Azerbaijani letters, mojibake leads, and the characters clean_texts joins with.
_ALPHABET = st.sampled_from(list("ab əğıöüçş жщ \t\n\u00a0\u2007\u202f\u200b\u00ad\ufeff&;#x3 amp quot"
                                 "\u0301\u0308\u00c3\u00d0\u00e2\x00\x01"))
_TEXTS = st.lists(st.text(_ALPHABET, max_size=40), max_size=8)


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_clean_texts_is_clean_text_of_each(values):
    assert clean_texts(values) == [clean_text(v) for v in values]


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_repair_mojibake_all_is_repair_of_each(values):
    assert repair_mojibake_all(values) == [repair_mojibake(v) for v in values]


def test_repair_mojibake_all_repairs():
    assert repair_mojibake_all(["plain", "BakÄ±", None]) == ["plain", "Bakı", ""]


@given(st.lists(st.one_of(st.none(), st.text(max_size=5), st.integers()), max_size=6))
def test_each_is_map_compose_for_plain_functions(values):
    def first(v):
        return None if v == 0 else v

    def second(v):
        return None if v == "" else repr(v)

    assert each(first, second)(values) == MapCompose(first, second)(values)


def test_iso_utc():
    assert iso_utc(datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=timezone(timedelta(hours=4)))) == "2026-01-01T23:04:05Z"
    assert iso_utc(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == "2026-01-02T03:04:05Z"
    assert iso_utc(None) == ""


def _response(body: bytes, charset: str = "utf-8") -> HtmlResponse:
    return HtmlResponse("https://report.az/x/y", body=body, headers={"Content-Type": f"text/html; charset={charset}"})


def test_document_parses_once_and_leaves_scrapys_response_as_it_is():
    response = _response("<html lang='az'><body><h1>Bakı</h1></body></html>".encode())
    selector = document(response)
    assert document(response) is selector           # a second call reuses the tree
    assert selector.css("h1::text").get() == "Bakı"
    assert getattr(response, "_cached_selector", None) is None  # nothing written into Scrapy's object


def test_document_leaves_other_charsets_to_scrapy():
    response = _response("<html><body><p>Баку</p></body></html>".encode("cp1251"), charset="windows-1251")
    assert document(response).css("p::text").get() == "Баку"


def test_parse_html_odd_bodies():
    assert parse_html(b"").tag == "html"
    assert parse_html(b" \n ").tag == "html"
    assert parse_html(b"\x00<p>a\x00b</p>").findtext(".//p") == "ab"
    assert parse_html(b"  <html><body><p>a</p></body></html>").findtext(".//p") == "a"


def test_challenge_page_still_detected_with_the_marks_checked_first():
    assert is_challenge(b"<html><title>Just a moment...</title><script src='/cdn-cgi/challenge-platform/x'>")
    assert not is_challenge(b"<html><div class='news__item'>Just a moment</div></html>")


def test_truncated_page_is_told_from_a_whole_one():
    from newsbot.site import looks_truncated

    assert looks_truncated(b"<html><body><p>cut sh")
    assert not looks_truncated(b"<html><body><p>x</p></body></HTML>\n")
    assert not looks_truncated(b"<html><body><FOOTER>links</FOOTER><p>never closed")
    assert not looks_truncated(b"<html><body>" + b"x" * 10000 + b"</html>")
    assert looks_truncated(b"<html><body></html>" + b"x" * 10000)  # </html> far from the end: cut after it


def _meta_refresh_middleware():
    from scrapy.utils.test import get_crawler

    from newsbot.middlewares import QuickMetaRefreshMiddleware

    return QuickMetaRefreshMiddleware.from_crawler(get_crawler())


def test_meta_refresh_still_followed():
    from scrapy import Request

    middleware = _meta_refresh_middleware()
    request = Request("https://report.az/x/y")
    for charset, body in (("utf-8", '<html><head><META HTTP-EQUIV="Refresh" CONTENT="0; url=/x/z">'),
                          ("windows-1251", '<html><head><meta http-equiv="refresh" content="0;url=/x/z"><p>Баку')):
        response = HtmlResponse(request.url, body=body.encode(charset), request=request,
                                headers={"Content-Type": f"text/html; charset={charset}"})
        redirected = middleware.process_response(request, response)
        assert isinstance(redirected, Request) and redirected.url == "https://report.az/x/z"


def test_page_without_meta_refresh_passes_untouched():
    from scrapy import Request

    middleware = _meta_refresh_middleware()
    request = Request("https://report.az/x/y")
    response = HtmlResponse(request.url, request=request, headers={"Content-Type": "text/html; charset=utf-8"},
                            body=b"<html><head><title>t</title></head><body>" + b"x" * 200_000 + b"</body></html>")
    assert middleware.process_response(request, response) is response


# --- listing cards read while the page is parsed (newsbot.listing.CardReader) -------------------------

def _card_html(markup: int, n: int, href: bool) -> str:
    link = f' href="/energy/story-{n}"' if href else ""
    return (
        f'<div class="col-md-3 index-post-block" data-timestamp="2026-01-{n % 28 + 1:02d} 10:00:00">'
        f'<a class="news__item"{link}><h2 class="news__title">Story <b>{n}</b> ə</h2>'
        f'<span class="news__category">Energy</span></a></div>',
        f'<div class="news-item infinity-item" data-timestamp="2019-05-01 10:00:00"><a class="title"{link}>Old {n}</a></div>',
        f'<div class="news-block"><span class="title"><a{link}>Block {n}</a></span></div>',
    )[markup]


_CARD_SPECS = st.lists(st.tuples(st.integers(0, 2), st.booleans(), st.sampled_from(["list", "aside", "nested"])),
                       max_size=30)


def _listing_page(specs: list[tuple[int, bool, str]], numbers: list[int] | None = None) -> bytes:
    main, aside = [], []
    for n, (markup, href, where) in zip(numbers or range(len(specs)), specs):
        card = _card_html(markup, n, href or where == "aside")
        if where == "nested":  # a card inside another markup's card, with more of that one after it
            card = _card_html((markup + 1) % 3, 1000 + n, True).replace(">", ">" + card, 1)
        (aside if where == "aside" else main).append(card)
    return (
        '<!doctype html><html><head><title>Energy</title><script>var x = "<div>";</script></head><body>'
        f'<header><nav><a href="/energy">Energy</a></nav></header><aside>{"".join(aside)}</aside>'
        f'<section class="news-feed-page"><div class="loadContainer" data-url="/infinity/index">{"".join(main)}</div>'
        '<div class="pagination"><a rel="next" class="next" href="/energy/page/2">›</a></div></section>'
        '<footer><a href="/about">About</a></footer></body></html>'
    ).encode()


@settings(max_examples=300, deadline=None)
@given(_CARD_SPECS, st.integers(1, 400))
def test_cards_read_while_parsing_are_the_cards_of_the_whole_page(specs, chunk):
    body = _listing_page(specs)
    whole = Selector(root=parse_html(body), type="html")
    reader = CardReader("https://report.az/energy/page/3")
    root = parse_html_reading(body, reader, chunk=chunk)
    assert reader.cards() == parse_cards(whole, "https://report.az/energy/page/3")
    rest = Selector(root=root, type="html")
    # What the walk reads after the cards is still there: pagination, the container, the chrome.
    assert next_page_url(rest, "https://report.az/") == next_page_url(whole, "https://report.az/")
    assert has_card_container(rest) and has_pagination(rest)
    assert rest.css("aside").get() == whole.css("aside").get()
    assert rest.css("header, footer").getall() == whole.css("header, footer").getall()


@settings(max_examples=300, deadline=None)
@given(_CARD_SPECS, st.integers(1, 400), st.sets(st.integers(0, 1040)), st.integers(0, 3))
def test_known_cards_are_counted_and_only_the_others_made(specs, chunk, known_numbers, repeat):
    # A walk's cards read before (known) are counted, never made into Cards; a card shown twice
    # is made once. Everything else is what the whole-tree reading gives.
    numbers = list(range(len(specs))) + list(range(min(repeat, len(specs))))
    body = _listing_page(specs + specs[:repeat], numbers)  # the first cards again further down the page
    base = "https://report.az/energy/page/3"
    every = parse_cards(Selector(root=parse_html(body), type="html"), base)
    known = {url_key(f"https://report.az/energy/story-{n}") for n in known_numbers}
    reader = CardReader(base, known=known)
    parse_html_reading(body, reader, chunk=chunk)
    expected, made = [], set()
    for card in every:
        key = url_key(card.url)
        if key not in known and key not in made:
            made.add(key)
            expected.append(card)
    assert reader.cards() == expected
    assert reader.shown() == len(every)
    assert reader.known_shown() == len({url_key(c.url) for c in every} & known)


def test_a_walk_reads_only_the_cards_it_has_not_read():
    specs = [(0, True, "list")] * 6
    body = _listing_page(specs, [1, 2, 3, 4, 5, 2])
    known = {url_key(f"https://report.az/energy/story-{n}") for n in (1, 3, 9)}
    reader = CardReader("https://report.az/energy/page/2", known=known)
    parse_html_reading(body, reader, chunk=64)
    assert [c.url for c in reader.cards()] == [f"https://report.az/energy/story-{n}" for n in (2, 4, 5)]
    assert reader.cards()[0].title == "Story 2 ə" and reader.cards()[0].timestamp == "2026-01-03 10:00:00"
    assert (reader.shown(), reader.known_shown()) == (6, 2)


def test_a_listing_is_never_a_whole_tree_at_once():
    specs = [(0, True, "list")] * 3000
    body = _listing_page(specs)
    sizes = []

    def measuring(root, still_open):
        reader(root, still_open)
        sizes.append(sum(1 for _ in root.iter()))

    reader = CardReader("https://report.az/energy/page/3")
    parse_html_reading(body, measuring, chunk=8192)
    whole = sum(1 for _ in parse_html(body).iter())
    assert len(reader.cards()) == 3000
    assert max(sizes) < whole / 20, (max(sizes), whole)


def test_document_with_a_reader_keeps_what_is_left_as_the_pages_tree():
    body = _listing_page([(0, True, "list"), (0, True, "aside")])
    response = _response(body)
    reader = CardReader(response.url)
    selector = document(response, read=reader)
    assert document(response) is selector
    assert [c.url for c in reader.cards()] == ["https://report.az/energy/story-0"]
    assert len(selector.css("section div.index-post-block")) == 0   # read, then taken out
    assert len(selector.css("aside div.index-post-block")) == 1     # chrome stays
    cp1251 = _response(body.replace(b" \xc9\x99", b""), charset="windows-1251")
    other = CardReader(cp1251.url)
    document(cp1251, read=other)
    assert [c.url for c in other.cards()] == ["https://report.az/energy/story-0"]


def test_replica_listings_read_while_parsing_as_whole(replica, shared_replica):
    paged = replica(stories=120, category_pages="paged", category_pagination="numbered")
    paths = [(shared_replica, p) for p in ("/son-xeberler/", "/en/latest-news/", "/ru/energetika/page/3",
                                          "/energetika", "/en/energy/page/2", "/en/")]
    paths += [(paged, p) for p in ("/energetika/page/2", "/en/energy", "/ru/")]
    compared = 0
    for running, path in paths:
        response = running.get(path)
        if response.status != 200:
            continue
        body = response.text.encode()
        expected = parse_cards(Selector(root=parse_html(body), type="html"), running.base_url)
        for chunk in (97, 4096, 1 << 18):
            reader = CardReader(running.base_url)
            parse_html_reading(body, reader, chunk=chunk)
            assert reader.cards() == expected, (path, chunk)
        compared += bool(expected)
    assert compared >= 6
