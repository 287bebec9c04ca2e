"""Article extraction on saved pages (fundus-style fixtures) and properties of the normalisers."""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from parsel import Selector

from newsbot import categories, site
from newsbot.loaders import extract_article
from newsbot.normalize import (
    BAKU,
    article_id,
    canonical_url,
    clean_text,
    iso_local,
    iso_utc,
    parse_site_datetime,
    slugify,
    story_id,
)

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
PAGES = sorted(p.stem for p in FIXTURES.glob("*.html"))


@pytest.mark.parametrize("name", PAGES)
def test_fixture_page_gives_expected_item(name: str) -> None:
    expected = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    extraction = extract_article((FIXTURES / f"{name}.html").read_text("utf-8"), expected["url"],
                                 crawled_at="2026-01-28T17:00:00Z")
    assert extraction.problems == expected["problems"]
    if expected["item"] is None:
        assert extraction.item is None
        assert extraction.failed_selectors, "a dropped page must name the selector that failed"
        return
    item = dict(extraction.item)
    assert item.pop("crawled_at") == "2026-01-28T17:00:00Z"
    assert item == expected["item"]


def test_fixtures_cover_every_edition_and_the_awkward_cases() -> None:
    expectations = [json.loads((FIXTURES / f"{name}.json").read_text("utf-8")) for name in PAGES]
    items = [e["item"] for e in expectations if e["item"]]
    assert {i["language"] for i in items} >= {"az", "en", "ru"}
    problems = {p for e in expectations for p in e["problems"]}
    assert {"missing_body", "missing_title", "unparsable_date", "unknown_category"} <= problems
    assert any(i["translations"] == [] for i in items), "a story in one edition only"
    assert any(i["published_at"].endswith("T00:00:00+04:00") for i in items), "midnight"


def test_sidebar_dates_and_titles_are_not_the_articles() -> None:
    expected = json.loads((FIXTURES / "az_leading_zero_midnight.json").read_text("utf-8"))
    item = extract_article((FIXTURES / "az_leading_zero_midnight.html").read_text("utf-8"), expected["url"]).item
    assert item["published_at"] == "2024-12-01T00:00:00+04:00"
    assert "Başqa xəbər" not in item["body"]


def test_story_id_is_the_same_from_every_edition() -> None:
    ru = json.loads((FIXTURES / "ru_all_editions.json").read_text("utf-8"))["item"]
    edition_urls = [ru["url"]] + [t["url"] for t in ru["translations"]]
    for own in edition_urls:
        others = [u for u in edition_urls if u != own]
        assert story_id([own, *others]) == ru["story_id"]
        assert story_id(reversed([own, *others])) == ru["story_id"]


def test_old_card_markup_is_parsed_not_crashed_on() -> None:
    html = """<section class="news-feed-page">
      <div class="news-item infinity-item" data-timestamp="2019-05-01 10:00:00">
        <a class="title" href="/en/energy/old-story">Old <b>story</b></a></div></section>"""
    cards = site.parse_cards(Selector(text=html), "https://report.az/en/latest-news/")
    assert [(c.url, c.title, c.timestamp) for c in cards] == [
        ("https://report.az/en/energy/old-story", "Old story", "2019-05-01 10:00:00")]


def test_boilerplate_rules_keep_reporting_that_mentions_social_networks() -> None:
    assert site.is_boilerplate("Follow Report on Telegram for the latest news")
    assert site.is_boilerplate("Mənbə: APA")
    assert site.is_boilerplate("Источник: Report")
    assert not site.is_boilerplate(
        "Telegram founder Pavel Durov said on Monday that the company would cooperate with investigators in France.")
    assert not site.is_boilerplate("Sources say the talks will continue.")


# --- dates -------------------------------------------------------------------
EN = "January February March April May June July August September October November December".split()
AZ = "yanvar fevral mart aprel may iyun iyul avqust sentyabr oktyabr noyabr dekabr".split()
RU = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split()

moments = st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=BAKU))


@given(moment=moments, months=st.sampled_from([EN, AZ, RU]), leading_zero=st.booleans())
def test_site_dates_round_trip_in_every_language(moment: datetime, months: list[str], leading_zero: bool) -> None:
    day = f"{moment.day:02d}" if leading_zero else str(moment.day)
    parsed = parse_site_datetime(f"{day} {months[moment.month - 1]}, {moment.year}", f"{moment:%H:%M}")
    assert parsed == moment
    assert iso_local(parsed) == moment.strftime("%Y-%m-%dT%H:%M:00+04:00")
    assert iso_utc(parsed) == (moment - timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:00Z")


@given(st.text(max_size=30))
def test_unreadable_dates_give_none_never_raise(text: str) -> None:
    result = parse_site_datetime(text, text)
    assert result is None or result.tzinfo is not None


def test_impossible_date_is_none() -> None:
    assert parse_site_datetime("31 fevral, 2026", "10:00") is None
    assert parse_site_datetime("28 Smarch, 2026", "10:00") is None


# --- text --------------------------------------------------------------------
@given(st.text())
def test_clean_text_is_idempotent_nfc_and_trimmed(text: str) -> None:
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert unicodedata.is_normalized("NFC", cleaned)
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned and "\u00a0" not in cleaned and "\u200b" not in cleaned


@given(st.lists(st.sampled_from(["Ə", "ə", "İ", "ş", "ç", "ğ", "ı", "ö", "ü", "с", "«", "»", "—", "a", " ", "\u00a0",
                                 "\u200b", "&amp;", "&nbsp;", "\n"]), max_size=40))
def test_clean_text_undoes_the_noise_of_real_pages(parts: list[str]) -> None:
    noisy = "".join(parts)
    decomposed = unicodedata.normalize("NFD", noisy)
    assert clean_text(decomposed) == clean_text(noisy)
    assert "&amp;" not in clean_text(noisy) and "&nbsp;" not in clean_text(noisy)


# --- URLs and ids --------------------------------------------------------------
@given(slug=st.from_regex(r"[a-z0-9]+(-[a-z0-9]+){0,5}", fullmatch=True), prefix=st.sampled_from(["", "en/", "ru/"]),
       host=st.sampled_from(["http://report.az", "https://www.report.az", "https://REPORT.az:443"]),
       slash=st.booleans(), tracking=st.sampled_from(["", "?utm_source=fb&utm_medium=x", "?fbclid=abc", "#share"]))
def test_spellings_of_one_article_share_url_and_id(slug, prefix, host, slash, tracking) -> None:
    url = f"{host}/{prefix}energy/{slug}{'/' if slash else ''}{tracking}"
    assert canonical_url(url) == f"https://report.az/{prefix}energy/{slug}/"
    assert article_id(url) == article_id(f"https://report.az/{prefix}energy/{slug}/")


def test_article_id_ignores_host_so_replica_and_site_agree() -> None:
    assert article_id("http://127.0.0.1:8123/en/energy/x/") == article_id("https://report.az/en/energy/x")


def test_every_category_key_has_all_three_editions_and_unique_segments() -> None:
    table = categories.all_categories()
    keys = {c.key for c in table}
    for key in keys:
        assert set(categories.segments_for(key)) == {"az", "en", "ru"}
    for language in site.LANGUAGES:
        segments = [c.segment for c in table if c.language == language]
        assert len(segments) == len(set(segments))
    assert categories.lookup("az", "xarici-siyaset").key == "foreign-politics"
    assert categories.lookup("en", "", "Foreign policy").key == "foreign-politics"
    assert categories.lookup("ru", "nonexistent") is None


def test_slugify_makes_ascii_keys_from_any_edition() -> None:
    assert slugify("Xarici siyasət") == "xarici-siyaset"
    assert slugify("Внешняя политика") == "vneshnyaya-politika"
    assert slugify("  Other  countries ") == "other-countries"


def test_line_breaks_inside_a_paragraph_separate_words() -> None:
    html = """<div class="news-detail"><ul class="news__date"><li>28 January, 2026</li><li>16:35</li></ul>
      <h1 class="section-title">Title</h1><div class="news-detail__desc">
      <p>The meeting was held in Baku.<br>A memorandum was signed.</p><p>By <a href="#">SOCAR</a>, today.</p></div></div>"""
    item = extract_article(html, "https://report.az/en/energy/x/").item
    assert item["body"] == "The meeting was held in Baku. A memorandum was signed.\n\nBy SOCAR, today."
