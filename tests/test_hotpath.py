"""The fast paths of the per-page work give exactly what the plain ones give."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from itemloaders.processors import MapCompose
from scrapy.http import HtmlResponse

from newsbot.html import document, parse_html
from newsbot.loaders import Each
from newsbot.normalize import clean_text, clean_texts, iso_utc, repair_mojibake, repair_mojibake_all
from newsbot.site import is_challenge

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

    assert Each(first, second)(values) == MapCompose(first, second)(values)


def test_iso_utc():
    assert iso_utc(datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=timezone(timedelta(hours=4)))) == "2026-01-01T23:04:05Z"
    assert iso_utc(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == "2026-01-02T03:04:05Z"
    assert iso_utc(None) == ""


def _response(body: bytes, charset: str = "utf-8") -> HtmlResponse:
    return HtmlResponse("https://report.az/x/y", body=body, headers={"Content-Type": f"text/html; charset={charset}"})


def test_document_parses_once_and_is_the_responses_selector():
    response = _response("<html lang='az'><body><h1>Bakı</h1></body></html>".encode())
    selector = document(response)
    assert response.selector is selector           # Scrapy's own accessor reuses the tree
    assert document(response) is selector           # and so does a second call
    assert selector.css("h1::text").get() == "Bakı"


def test_document_reuses_a_selector_scrapy_already_built():
    response = _response(b"<html><body><p>x</p></body></html>")
    built = response.selector
    assert document(response) is built


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


def test_collector_frozen_for_the_crawl_and_released_after():
    import gc

    import pytest
    from scrapy import signals
    from scrapy.exceptions import NotConfigured
    from scrapy.utils.test import get_crawler

    from newsbot.extensions import CollectorTuning

    crawler = get_crawler(settings_dict={"NEWSBOT_GC_FREEZE": True})
    extension = CollectorTuning.from_crawler(crawler)
    assert gc.get_freeze_count() == 0
    crawler.signals.send_catch_log(signals.engine_started)
    try:
        assert gc.get_freeze_count() > 0 and extension.frozen
    finally:
        crawler.signals.send_catch_log(signals.engine_stopped)
    assert gc.get_freeze_count() == 0
    with pytest.raises(NotConfigured):
        CollectorTuning.from_crawler(get_crawler(settings_dict={"NEWSBOT_GC_FREEZE": False}))


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
