"""The report.az replica over real sockets: pages, listings, ground truth, control endpoints, faults."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.robotparser
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest
from parsel import Selector

from newsbot import site
from newsbot.listing import Card, parse_cards
from newsbot.site import categories
from newsbot.items import GROUND_TRUTH_FIELDS
from newsbot.loaders import extract_article, extract_page
from newsbot.normalize import article_id, canonical_url, clean_text, parse_timestamp
from tests.replica import check, pages, renderings, texts
from tests.replica.__main__ import main as replica_main
from tests.replica.client import ROOT, fetch, start_replica
from tests.replica.content import (CAPTION_VARIANTS, EDITION_VARIANTS, EMBEDS, LANGS, RENAMED_SUFFIX, TAG_VARIANTS,
                                   Corpus, State, category_table)
from tests.replica.faults import body_start, selected
from tests.replica.server import Replica

PREFIX = {"az": "/", "en": "/en/", "ru": "/ru/"}
LISTING_CONTENT_TYPES = (renderings.CHARSETS["utf-8"].header, *renderings.LISTING_LIES)


def path_of(url: str) -> str:
    return urlsplit(url).path


def by_lang(truth: list[dict], lang: str) -> list[dict]:
    return [t for t in truth if t["language"] == lang]


def feed_url(replica, lang: str) -> str:
    """The latest-news feed as a crawler finds it: the home page's nav link with the feed's label."""
    home = replica.get(PREFIX[lang])
    for label, url in site.find_nav_links(Selector(text=home.text), replica.base_url):
        if label.casefold() in site.LATEST_LABELS[lang]:
            return url
    raise AssertionError(f"no latest-news link on the {lang} home page")


def walk_feed(replica, lang: str) -> list[Card]:
    """The feed page, then the infinity endpoint from each batch's last card until it answers empty."""
    first = fetch(feed_url(replica, lang))
    assert first.status == 200
    cards = parse_cards(Selector(text=first.text), replica.base_url)
    assert 0 < len(cards) <= pages.PER_PAGE
    edition = site.Edition(replica.base_url, lang)
    while True:
        batch = fetch(edition.infinity_url(cards[-1].timestamp))
        assert batch.status == 200 and batch.headers["Content-Type"] in LISTING_CONTENT_TYPES
        if not batch.body.strip():
            return cards
        more = parse_cards(Selector(text=batch.text), replica.base_url)
        assert 0 < len(more) <= pages.PER_PAGE
        assert more[-1].timestamp < cards[-1].timestamp, "the endpoint does not move on"
        cards += more


# --- site furniture --------------------------------------------------------------

def test_robots_txt_disallows_search_and_control(shared_replica):
    response = shared_replica.get("/robots.txt")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(response.text.splitlines())
    assert response.text.startswith("User-agent: *\n")
    assert robots.can_fetch("newsbot", shared_replica.url("/en/"))
    assert robots.can_fetch("newsbot", shared_replica.url("/infinity/index?date=2026-01-01%2000:00:00&oldest=1"))
    assert not robots.can_fetch("newsbot", shared_replica.url("/search/?q=x"))
    assert not robots.can_fetch("newsbot", shared_replica.url("/_replica/hits"))


@pytest.mark.parametrize("lang", LANGS)
def test_home_page_nav_links_the_feed_and_every_category(shared_replica, lang):
    response = shared_replica.get(PREFIX[lang])
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert int(response.headers["Content-Length"]) == len(response.body)
    page = Selector(text=response.text)
    assert page.css("html::attr(lang)").get() == lang
    links = site.find_nav_links(page, shared_replica.base_url)
    by_url = {canonical_url(url): label for label, url in links}
    feed = [canonical_url(url) for label, url in links if label.casefold() in site.LATEST_LABELS[lang]]
    assert feed == [canonical_url(shared_replica.url(texts.LATEST_PATH[lang]))]
    for key, editions in category_table().items():
        if lang not in editions:
            assert key not in {by_url.get(u) for u in by_url}, key  # no such section in this edition
            continue
        segment, name = editions[lang]
        assert by_url.get(canonical_url(shared_replica.url(f"{PREFIX[lang]}{segment}"))) == name, key
    # The current design links without the trailing slash.
    nav = page.css("nav.header-menu a::attr(href)").getall()
    assert nav and not any(h.endswith("/") for h in nav)
    # The language switcher reaches the other home pages; the main column has cards.
    assert {canonical_url(shared_replica.url(PREFIX[other])) for other in LANGS} <= set(by_url)
    assert len(parse_cards(page, shared_replica.base_url)) == pages.HOME_CARDS


def test_unknown_paths_are_404_html(shared_replica):
    for path in ("/no-such-page/", "/en/energy/no-such-story/", "/ru/nope/deeper/still/", "/en/energy/page/99",
                 "/en/tag/socar/", "/en/energy/page/x"):
        response = shared_replica.get(path)
        assert response.status == 404, path
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<h1>404" in response.text


# --- listings ----------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_feed_and_infinity_reach_every_story_exactly_once(shared_replica, lang):
    truth = {t["url"]: t for t in by_lang(shared_replica.ground_truth(), lang)}
    cards = walk_feed(shared_replica, lang)
    urls = [canonical_url(card.url) for card in cards]
    assert len(urls) == len(set(urls)), "a story repeated"
    assert set(urls) == set(truth)
    stamps = [card.timestamp for card in cards]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == len(stamps)
    for card, url in zip(cards, urls):
        assert parse_timestamp(card.timestamp).isoformat() == truth[url]["published_at"]
        assert clean_text(card.title) == truth[url]["title"]
        assert card.category == truth[url]["category"]
    # Each card links the page's one spelling: no trailing slash in the current design, one in the 2024 design.
    hrefs = [path_of(card.url) for card in cards]
    assert hrefs == [path_of(url) for url in urls]
    assert {h.endswith("/") for h in hrefs} == {True, False}


def test_feed_aliases_and_infinity_edges(shared_replica):
    az_feed = parse_cards(Selector(text=shared_replica.get("/son-xeberler/").text), shared_replica.base_url)
    today = parse_cards(Selector(text=shared_replica.get("/son-xeberler/today/").text), shared_replica.base_url)
    assert az_feed == today and len(az_feed) == pages.PER_PAGE
    page = Selector(text=shared_replica.get("/en/latest-news/").text)
    assert page.css(".loadContainer::attr(data-url)").get() == "/en/infinity/index"
    assert Selector(text=shared_replica.get("/son-xeberler").text).css(
        ".loadContainer::attr(data-url)").get() == "/infinity/index"
    # Strictly older than the date given; nothing before the oldest story; a bad date is a client error.
    first = parse_cards(page, shared_replica.base_url)
    after_first = parse_cards(Selector(text=shared_replica.get(
        f"/en/infinity/index?date={first[0].timestamp.replace(' ', '%20')}&oldest=1").text), shared_replica.base_url)
    assert after_first[0] == first[1]
    assert shared_replica.get("/en/infinity/index?date=2000-01-01%2000:00:00&oldest=1").body == b""
    assert shared_replica.get("/en/infinity/index?date=yesterday&oldest=1").status == 400


def test_category_pagination_is_cumulative_covers_each_category_then_404(replica):
    """Page N shows every card of pages 1..N, 16 more a page (the live site's cumulative pages)."""
    site_300 = replica(stories=300)
    truth = site_300.ground_truth()
    multi_page = 0
    for lang in LANGS:
        edition = site.Edition(site_300.base_url, lang)
        for key, editions in category_table().items():
            if lang not in editions:
                continue
            expected = {t["url"] for t in by_lang(truth, lang) if t["category_slug"] == key}
            url, previous, page_count = edition.category_url(editions[lang][0]), [], 0
            while url:
                response = fetch(url)
                assert response.status == 200, url
                page = Selector(text=response.text)
                cards = parse_cards(page, site_300.base_url)
                page_count += 1
                seen = [canonical_url(c.url) for c in cards]
                stamps = [c.timestamp for c in cards]
                assert len(seen) <= page_count * pages.CATEGORY_PER_PAGE
                assert seen[:len(previous)] == previous and len(seen) > len(previous), (url, len(seen))
                assert len(seen) == len(set(seen)) and stamps == sorted(stamps, reverse=True)
                previous = seen
                url = site.next_page_url(page, site_300.base_url)
            assert set(previous) == expected, (lang, key)
            multi_page += page_count > 1
            past_end = fetch(edition.category_url(editions[lang][0], page_count + 1))
            assert past_end.status == 404
    assert multi_page >= 6


@pytest.mark.parametrize("numbering", pages.CATEGORY_PAGES)
@pytest.mark.parametrize("past_end", pages.CATEGORY_PAST_END)
def test_category_pages_cumulative_or_paged_and_what_a_page_past_the_last_answers(numbering, past_end):
    """--category-pages and --category-past-end, rendered in process (Replica routes without Twisted)."""
    from tests.replica.server import Replica

    base = "http://replica.test"
    replica = Replica(Corpus(300, 1), category_pages=numbering, category_past_end=past_end)
    truth = list(replica.state.truth_records(base))
    multi_page = 0
    for lang in LANGS:
        edition = site.Edition(base, lang)
        for key, editions in category_table().items():
            if lang not in editions:
                continue
            expected = [t["url"] for t in by_lang(truth, lang) if t["category_slug"] == key]

            def get(number: int):
                response = replica.page(urlsplit(edition.category_url(editions[lang][0], number)).path, {}, base)
                page = Selector(text=response.body.decode("utf-8"))
                return response.status, [canonical_url(c.url) for c in parse_cards(page, base)], page

            number, walked, last = 1, [], None
            while True:
                status, seen, page = get(number)
                assert status == 200
                if numbering == "cumulative":
                    assert seen[:len(walked)] == walked and len(seen) <= number * pages.CATEGORY_PER_PAGE
                    walked = seen
                else:
                    assert not set(seen) & set(walked) and len(seen) <= pages.CATEGORY_PER_PAGE
                    walked = walked + seen
                last = seen
                if not site.next_page_url(page, base):
                    break
                assert site.next_page_url(page, base) == edition.category_url(editions[lang][0], number + 1)
                number += 1
            assert set(walked) == set(expected) and len(walked) == len(expected), (lang, key)
            multi_page += number > 1
            for beyond in (number + 1, number + 7):
                status, seen, page = get(beyond)
                if past_end == "404":
                    assert status == 404
                    continue
                assert status == 200 and site.has_pagination(page) and not site.next_page_url(page, base)
                assert seen == (last if past_end == "cap" else [])
    assert multi_page >= 6


def test_numbered_category_pagination_names_the_next_pages_and_the_last():
    from tests.replica.server import Replica

    base = "http://replica.test"
    replica = Replica(Corpus(1200, 1), category_pagination="numbered")
    last = -(-replica.state.published_count("en", "energy") // pages.CATEGORY_PER_PAGE)
    assert last >= 6
    for number in (1, 2, 4, last):
        path = "/en/energy" + ("" if number == 1 else f"/page/{number}")
        page = Selector(text=replica.page(path, {}, base).body.decode("utf-8"))
        numbers = {site.listing_page_number(url) for url in site.pagination_links(page, base)}
        assert numbers == {1, *range(max(1, number - 2), min(last, number + 2) + 1), last} - {number}, number


# --- articles and ground truth ----------------------------------------------------------

def test_every_article_page_extracts_to_its_ground_truth(shared_replica):
    """The extraction acceptance test: newsbot's loader on every page, fetched over HTTP and read as a
    crawl reads it (its bytes and Content-Type header), equals the replica's source."""
    truth = shared_replica.ground_truth()
    assert {t["language"] for t in truth} == set(LANGS)
    mismatches = []
    for record in truth:
        response = fetch(record["url"])
        assert response.status == 200, record["url"]
        extraction = extract_page(response.body, response.headers["Content-Type"], record["url"])
        # The replica's own category table has keys newsbot's does not know (tests/replica/categories.py).
        unknown = [] if categories.is_known_key(record["category_slug"]) else ["unknown_category"]
        assert extraction.problems == unknown, (record["url"], extraction.problems)
        item = dict(extraction.item)
        mismatches += [(record["url"], k, record[k], item.get(k)) for k in GROUND_TRUTH_FIELDS
                       if item.get(k) != record[k]]
    assert not mismatches, json.dumps(mismatches[:5], ensure_ascii=False, indent=1)


# Seeds whose every page the acceptance test checks besides the shared replica's: each draws other
# renderings for every unknown part (tests/replica/renderings.py). `python -m tests.replica
# --check-seeds N --seed K` checks more.
MORE_SEEDS = (2, 3, 4, 5)


@pytest.mark.parametrize("seed", MORE_SEEDS)
def test_every_article_page_of_more_seeds_extracts_to_its_ground_truth(seed):
    found = list(check.mismatches(seed, 200))
    assert not found, json.dumps(found[:5], ensure_ascii=False, indent=1)


def test_check_seeds_prints_every_mismatch_field_by_field(monkeypatch, capsys):
    assert replica_main(["--check-seeds", "2", "--seed", "7", "--stories", "20"]) == 0
    out = capsys.readouterr().out
    assert out.count("0 mismatch(es)") == 2 and "mismatches per field: none" in out
    # A crawler that loses every caption: each page with a captioned photo is printed, field by field.
    real = check.extract_page

    def no_captions(*args):
        extraction = real(*args)
        if extraction.item is not None:
            extraction.item["images"] = [{**image, "caption": ""} for image in extraction.item["images"]]
        return extraction

    monkeypatch.setattr(check, "extract_page", no_captions)
    assert replica_main(["--check-seeds", "1", "--seed", "7", "--stories", "20"]) == 1
    out = capsys.readouterr().out
    assert " images\n    expected [" in out and "mismatches per field: images " in out


def test_seeds_draw_other_renderings_and_a_seed_draws_the_same_ones():
    def draws(seed: int) -> list[dict]:
        corpus = Corpus(60, seed)
        return [corpus.layout(story.index, lang).describe() for story in corpus.stories for lang in story.langs]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)
    first = Replica(Corpus(30, 1)).page("/en/latest-news", {}, "http://x").body
    assert first == Replica(Corpus(30, 1)).page("/en/latest-news", {}, "http://x").body


def other_spelling(path: str) -> str:
    return path[:-1] if path.endswith("/") else path + "/"


def one_of_each_design(truth: list[dict]) -> list[dict]:
    return [next(t for t in truth if not t["url"].endswith("/")), next(t for t in truth if t["url"].endswith("/"))]


def test_article_urls_with_tracking_serve_the_same_page_and_the_other_spelling_redirects(shared_replica):
    for record in one_of_each_design(shared_replica.ground_truth()):
        path = path_of(record["url"])
        canonical = shared_replica.get(path)
        assert canonical.status == 200
        assert shared_replica.get(path + "?utm_source=telegram").body == canonical.body
        # The default, as a Laravel site answers: a 301 to the page's one spelling.
        moved = shared_replica.get(other_spelling(path), follow_redirects=False)
        assert moved.status == 301 and moved.headers["Location"] == record["url"]


@pytest.mark.parametrize("mode", ["404", "serve"])
def test_other_spelling_of_an_article_path_404s_or_is_served_as_asked(replica, mode):
    running = replica(stories=20, other_spelling=mode)
    truth = running.ground_truth()
    for record in one_of_each_design(truth):
        path = path_of(record["url"])
        normal = running.get(path)
        other = running.get(other_spelling(path), follow_redirects=False)
        assert (other.status, other.body == normal.body) == ((404, False) if mode == "404" else (200, True))
    # Listings answer either spelling whatever the mode.
    assert running.get("/en/latest-news/").status == running.get("/en/energy/").status == 200


def test_every_link_to_an_article_uses_its_one_spelling(shared_replica):
    truth = shared_replica.ground_truth()
    urls = {t["url"] for t in truth}
    keys = {t["url"].rstrip("/") for t in truth}
    for record in truth[:40]:
        page = Selector(text=fetch(record["url"]).text)
        hrefs = [shared_replica.url(h) if h.startswith("/") else h for h in page.css("a::attr(href)").getall()]
        written = [h for h in hrefs if h.rstrip("/") in keys]
        assert written and set(written) <= urls, record["url"]
        for url in page.css('link[rel="canonical"]::attr(href), meta[property="og:url"]::attr(content)').getall():
            assert url == record["url"]
        for block in page.css('script[type="application/ld+json"]::text').getall():
            for found in re.findall(r'"@id": "([^"]+)"', block):
                assert found == record["url"]


def test_ground_truth_records_are_complete_and_consistent(shared_replica):
    truth = shared_replica.ground_truth()
    assert all(list(t) == list(GROUND_TRUTH_FIELDS) for t in truth)
    assert len({t["url"] for t in truth}) == len(truth)
    stories = {}
    for t in truth:
        stories.setdefault(t["story_id"], []).append(t)
        assert t["url"] == canonical_url(t["url"]) and t["url"].startswith(shared_replica.base_url + "/")
        assert t["lead"] == t["body"].split("\n\n")[0]
        assert t["published_at_utc"][11:13] == f"{(int(t['published_at'][11:13]) - 4) % 24:02d}"
        assert [tr["language"] for tr in t["translations"]] == [l for l in LANGS if l in
                                                                [o["language"] for o in t["translations"]]]
        assert all(re.fullmatch(r"https://static\.report\.az/photo/[0-9a-f-]{36}_850\.jpg", img["url"])
                   for img in t["images"])
        assert t["site_id"] is None or (isinstance(t["site_id"], int) and 1_000_000 <= t["site_id"] < 10_000_000)
    for editions in stories.values():
        urls = {e["url"] for e in editions}
        for e in editions:
            assert {tr["url"] for tr in e["translations"]} == urls - {e["url"]}
            assert len({e["category_slug"], *(x["category_slug"] for x in editions)}) == 1
    assert {len(e) for e in stories.values()} >= {1, 2, 3}
    # The site's numeric id: one per edition page, never shared; legacy pages show none.
    site_ids = [t["site_id"] for t in truth if t["site_id"] is not None]
    assert len(site_ids) == len(set(site_ids)) and 0 < len(site_ids) < len(truth)
    assert {t["category_slug"] for t in truth} == set(category_table())
    # Each page in its one spelling: the current design without the trailing slash, the 2024 one with it.
    layouts = json.loads(shared_replica.get("/_replica/layouts").text)
    assert all(t["url"].endswith("/") == (layouts[t["url"]]["version"] == "legacy") for t in truth)


def test_ground_truth_follows_the_host_the_client_used(shared_replica):
    response = shared_replica.get("/_replica/ground-truth", headers={"Host": f"localhost:{shared_replica.port}"})
    urls = [json.loads(line)["url"] for line in response.text.splitlines()]
    assert urls and all(u.startswith(f"http://localhost:{shared_replica.port}/") for u in urls)


def test_ground_truth_cli_writes_the_same_records(shared_replica):
    result = subprocess.run([sys.executable, "-m", "tests.replica", "--stories", "60", "--ground-truth", "-",
                             "--base-url", shared_replica.base_url], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == shared_replica.ground_truth()


def test_generated_text_is_clean_unique_and_never_boilerplate():
    """Over a whole 2,000-story corpus: what the ground truth holds is what clean_text leaves alone."""
    corpus = Corpus(2000, seed=1)
    furniture_texts = {f for fs in texts.BOILERPLATE.values() for f in fs}
    titles = {lang: set() for lang in LANGS}
    slugs = {lang: set() for lang in LANGS}
    for story in corpus.stories:
        for lang in story.langs:
            text = corpus.text(story.index, lang)
            for value in (text.title, *text.paragraphs, *text.tags, *(i.caption for i in text.images)):
                assert clean_text(value) == value, repr(value)
            assert 2 <= len(text.paragraphs) <= 10 and 1 <= len(text.tags) <= 5 and len(text.images) <= 3
            assert len(set(text.tags)) == len(text.tags)
            for paragraph in (text.title, *text.paragraphs):
                assert paragraph not in furniture_texts, paragraph
            for _, furniture in text.boilerplate:
                assert furniture == "" or furniture in texts.BOILERPLATE[lang], furniture
            assert text.title not in titles[lang]
            titles[lang].add(text.title)
            slug = story.slugs[lang]
            assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) and slug not in slugs[lang]
            slugs[lang].add(slug)
    for lang_texts in texts.BOILERPLATE.values():
        for furniture in lang_texts:
            # Furniture never needs a keyword rule: none mentions a messenger and a channel.
            assert not (re.search("telegram|whatsapp", furniture, re.I) and re.search("kanal|channel", furniture, re.I))
    minutes = [s.minute for s in corpus.stories]
    assert minutes == sorted(minutes, reverse=True) and len(set(minutes)) == len(minutes)
    assert corpus.stories[0].local.isoformat() == "2026-01-28T21:06:00"
    # The mix the brief asks for: editions, letters, a Cyrillic letter in some English titles.
    mix = Counter(s.langs for s in corpus.stories)
    assert 0.7 < mix[("az", "en", "ru")] / 2000 < 0.9 and mix[("az",)] and mix[("az", "en")] and mix[("az", "ru")]
    az_text = " ".join(corpus.text(s.index, "az").body for s in corpus.stories[:50] if "az" in s.langs)
    assert set("əğıöüçşİ") <= set(az_text)
    assert any(re.search("[а-я]", s.titles["en"]) for s in corpus.stories if "en" in s.langs)
    assert sum(s.zero_pad for s in corpus.stories) > 0
    assert Corpus(60, seed=2).stories[0].titles != Corpus(60, seed=1).stories[0].titles


def test_pages_carry_markup_noise_and_the_sidebar_stays_outside_the_article(shared_replica):
    bodies = [fetch(t["url"]).text for t in shared_replica.ground_truth()[:60]]
    joined = "".join(bodies)
    for noise in ("&nbsp;", "\u200b", "&#8203;", "&amp;", "\u00a0"):
        assert noise in joined, noise
    assert any(unicodedata.combining(ch) for ch in joined), "no NFD letters"
    assert re.search(r"<p>&nbsp;</p>", joined)
    # Inline markup inside paragraphs, touching punctuation as on the real site.
    assert re.search(r"<p>[^<]*<(strong|a href=\"[^\"]*\")>[^<]+</(strong|a)>[.,]", joined)
    for body in bodies:
        page = Selector(text=body)
        assert len(page.css("aside.latest-news div.index-post-block")) == pages.SIDEBAR_CARDS
        assert len(page.css("div.news-detail, article.news-page")) == 1
        assert not page.css("div.news-detail aside, div.news-detail div.index-post-block, "
                            "article.news-page aside, article.news-page div.index-post-block")
        # The trending-tags bar comes before the title.
        assert body.index('class="trending-tags"') < body.index("<h1")


def test_pages_weigh_what_real_ones_do_and_carry_their_furniture(shared_replica):
    """Real article pages weigh ~100 KB, most of it furniture (issue 15): parse cost grows with it."""
    sizes = json.loads(shared_replica.get("/_replica/sizes").text)
    truth = shared_replica.ground_truth()
    assert sizes["article"]["count"] == len(truth)
    assert sizes["article"]["median"] >= 80 * 1024, sizes
    assert sizes["listing"]["median"] >= 80 * 1024, sizes
    measured = sorted(len(fetch(t["url"]).body) for t in truth[::10])
    assert measured[len(measured) // 2] >= 80 * 1024
    table = category_table()
    seen_styles = set()
    for lang in LANGS:
        article_url = next(t["url"] for t in truth if t["language"] == lang)
        for path in (path_of(article_url), PREFIX[lang], texts.LATEST_PATH[lang],
                     f"{PREFIX[lang]}{next(e[lang][0] for e in table.values() if lang in e)}"):
            html = shared_replica.get(path).text
            page = Selector(text=html)
            # The navigation menu links every category of the edition, and the language switcher.
            nav = {path_of(h) for h in page.css("header nav a::attr(href)").getall()}
            assert {f"{PREFIX[lang]}{e[lang][0]}" for e in table.values() if lang in e} <= nav, path
            assert {PREFIX[other] for other in LANGS} <= {path_of(h) for h in page.css("header a::attr(href)").getall()}
            assert page.css(".trending-tags a[href*='/tag/']"), path
            # The sidebar: 20 latest cards in listing markup, none of them the page's own listing.
            assert len(page.css("aside div.index-post-block a.news__item")) == pages.SIDEBAR_CARDS, path
            own = len(page.css("div.index-post-block")) - pages.SIDEBAR_CARDS
            assert len(parse_cards(page, shared_replica.base_url)) == own, path
            # Inline scripts (analytics, ad loader, the JSON config blob, a vendor bundle) and styles.
            scripts = page.css("script:not([src])::text").getall()
            assert len(scripts) >= 4 and sum(map(len, scripts)) > 20_000, path
            config = json.loads(page.css("script#app-config::text").get())
            assert config["lang"] == lang and len(config["categories"]) == len(nav & {
                f"{PREFIX[lang]}{e[lang][0]}" for e in table.values() if lang in e})
            styles = page.css("style::text").getall()
            assert sum(map(len, styles)) > 20_000, path
            seen_styles.add(styles[1])
            # The footer's link lists: editions, every category, the agency's pages, social networks.
            lists = page.css("footer ul")
            assert len(lists) >= 4, path
            footer_links = {h for h in page.css("footer a::attr(href)").getall()}
            assert {PREFIX[other] for other in LANGS} <= footer_links
            assert any(h.startswith("https://") for h in footer_links)
    # Varied per page, not one byte-identical template.
    assert len(seen_styles) == len(LANGS) * 4


def test_cards_in_page_chrome_are_not_the_listing():
    """A card in a sidebar, menu or footer is not one of the page's listing cards: the feed's walk would
    go back to the newest card and a category would take in every section's latest stories."""
    def block(path: str, stamp: str) -> str:
        return (f'<div class="col-md-3 index-post-block" data-timestamp="{stamp}"><a href="{path}" class="news__item">'
                f'<h2 class="news__title">T</h2></a></div>')

    html = ("<html><body><header><nav>" + block("/en/x/in-menu", "2026-01-28 10:00:00") + "</nav></header>"
            '<div class="row"><div class="col-lg-8"><div class="loadContainer">'
            + block("/en/x/one", "2026-01-27 10:00:00") + block("/en/x/two", "2026-01-26 10:00:00")
            + '</div></div><aside>' + block("/en/x/latest", "2026-01-28 11:00:00") + "</aside></div>"
            "<footer>" + block("/en/x/in-footer", "2026-01-28 12:00:00") + "</footer></body></html>")
    found = parse_cards(Selector(text=html), "https://report.az")
    assert [c.url for c in found] == ["https://report.az/en/x/one", "https://report.az/en/x/two"]
    # A page whose only cards are in chrome (a script-only feed beside its sidebar) has no listing.
    empty = '<div class="loadContainer"></div><aside>' + block("/en/x/latest", "2026-01-28 11:00:00") + "</aside>"
    assert parse_cards(Selector(text=empty), "https://report.az") == []
    # A fragment of the infinity endpoint: bare cards.
    assert len(parse_cards(Selector(text=block("/en/x/one", "2026-01-27 10:00:00")), "https://report.az")) == 1


def test_leading_zero_days_show_on_some_pages(replica):
    corpus = Corpus(300)
    site_300 = replica(stories=300)
    for version in ("current", "legacy"):
        story = next(s for s in corpus.stories if s.zero_pad and not corpus.layout(s.index, s.langs[0]).hidden_date
                     and corpus.layout(s.index, s.langs[0]).version == version)
        html = site_300.get(corpus.path(story, story.langs[0])).text
        assert re.search(rf"<(li|span)>[^<]*0{story.local.day}[^<]*</(li|span)>", html)


# --- RSS -----------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_rss_lists_the_newest_items_with_rfc822_dates(shared_replica, lang):
    truth = {t["url"]: t for t in by_lang(shared_replica.ground_truth(), lang)}
    response = shared_replica.get(f"{PREFIX[lang]}rss/")
    assert response.status == 200 and response.headers["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.body).find("channel")
    items = channel.findall("item")
    assert len(items) == min(pages.RSS_ITEMS, len(truth))
    dates = []
    for item in items:
        link = item.findtext("link")
        record = truth[canonical_url(link)]
        assert link == record["url"] and item.findtext("guid") == link
        assert item.findtext("title") == record["title"]
        assert item.findtext("category") == record["category"]
        assert item.findtext("description") == record["lead"]
        assert re.fullmatch(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0400", item.findtext("pubDate"))
        moment = parsedate_to_datetime(item.findtext("pubDate"))
        assert moment.isoformat() == record["published_at"]
        dates.append(moment)
    assert dates == sorted(dates, reverse=True)


# --- control endpoints ----------------------------------------------------------------

def test_hits_count_requests_per_path(replica):
    running = replica(stories=20)
    for path in ("/en/", "/en/", "/robots.txt", "/en/infinity/index?date=2026-01-01%2000:00:00&oldest=1"):
        running.get(path)
    hits = running.hits()
    assert hits["total"] == 4
    assert hits["paths"] == {"/en/": 2, "/robots.txt": 1, "/en/infinity/index": 1}
    assert hits["targets"]["/en/infinity/index?date=2026-01-01%2000:00:00&oldest=1"] == 1
    assert running.hits(reset=True)["total"] == 4 and running.hits()["total"] == 0


def test_hidden_stories_appear_only_when_published(replica):
    corpus = Corpus(30)
    running = replica(stories=30, hidden=5)
    hidden_paths = {corpus.path(s, lang) for s in corpus.stories[:5] for lang in s.langs}
    truth = running.ground_truth()
    assert len(truth) == sum(len(s.langs) for s in corpus.stories[5:])
    assert not hidden_paths & {path_of(t["url"]) for t in truth}
    assert all(running.get(p).status == 404 for p in hidden_paths)

    linked = set()
    for lang in LANGS:
        linked |= {path_of(canonical_url(c.url)) for c in walk_feed(running, lang)}
        home = Selector(text=running.get(PREFIX[lang]).text)
        linked |= {path_of(canonical_url(c.url)) for c in parse_cards(home, running.base_url)}
        rss = ET.fromstring(running.get(f"{PREFIX[lang]}rss/").body)
        linked |= {path_of(link.text) for link in rss.iter("link")}
    article = Selector(text=running.get(path_of(truth[0]["url"])).text)
    # The site's own links (the footer's social links go elsewhere).
    linked |= {path_of(canonical_url(running.url(h))) for h in article.css("a::attr(href)").getall()
               if h.startswith("/")}
    assert not hidden_paths & linked

    assert running.publish(2) == {"hidden": 3, "published": 27}
    newly = corpus.stories[3:5]
    for story in newly:
        for lang in story.langs:
            assert running.get(corpus.path(story, lang)).status == 200
    truth_after = running.ground_truth()
    assert len(truth_after) == len(truth) + sum(len(s.langs) for s in newly)
    lang = newly[0].langs[0]
    first = walk_feed(running, lang)[0]
    assert path_of(canonical_url(first.url)) == corpus.path(newly[0], lang)
    assert running.get(corpus.path(corpus.stories[2], corpus.stories[2].langs[0])).status == 404


def test_edit_updates_title_body_and_ground_truth(replica):
    running = replica(stories=30)
    before = {t["url"]: t for t in running.ground_truth()}
    corpus = Corpus(30)
    story = next(s for s in corpus.stories[3:] if len(s.langs) == 3)
    assert running.edit(story.index) == {"story": story.index, "revision": 1}
    after = {t["url"]: t for t in running.ground_truth()}
    changed = {url for url in after if after[url] != before[url]}
    edited = {running.url(corpus.path(story, lang)) for lang in story.langs}
    assert changed == edited
    for url in edited:
        old, new = before[url], after[url]
        assert new["title"] == old["title"] + " (updated)"
        assert new["body"].startswith(old["body"] + "\n\n") and new["body"].count("\n\n") == old["body"].count("\n\n") + 1
        assert new["lead"] == old["lead"] and new["word_count"] > old["word_count"]
        assert all(t["title"].endswith(" (updated)") for t in new["translations"])
        item = extract_article(fetch(url).text, url).item
        assert {k: item[k] for k in GROUND_TRUTH_FIELDS} == new
    running.edit(story.index)
    twice = {t["url"]: t for t in running.ground_truth()}
    assert all(twice[u]["title"].endswith(" (updated)") and twice[u]["body"].count("\n\n") ==
               before[u]["body"].count("\n\n") + 2 for u in edited)
    assert running.get(f"/_replica/edit?story={corpus.size}").status == 404


# --- faults ------------------------------------------------------------------------------

FAULT_CORPUS = Corpus(60)
EN_PATHS = [FAULT_CORPUS.path(s, "en") for s in FAULT_CORPUS.stories if "en" in s.langs]
FAULTS = {
    "500": {"status": 500}, "503": {"status": 503}, "404": {"status": 404},
    "429": {"status": 429, "retry_after": 7}, "delay": {"delay": 1.0}, "truncate": {"mode": "truncate"},
    "malformed": {"mode": "malformed"}, "no_body": {"mode": "no_body"}, "no_date": {"mode": "no_date"},
    "no_title": {"mode": "no_title"}, "redirect": {"mode": "redirect"}, "redirect_loop": {"mode": "redirect_loop"},
    "wrong_charset": {"mode": "wrong_charset"}, "oversized": {"mode": "oversized"}, "empty": {"mode": "empty"},
    "times": {"status": 503, "times": 2}, "302": {"mode": "redirect", "status": 302},
}
FAULT_PATH = dict(zip(FAULTS, EN_PATHS))
# The parts a variant removes must be there normally: stories with every edition and photos.
_SPARE = [FAULT_CORPUS.path(s, "en") for s in FAULT_CORPUS.stories
          if len(s.langs) == 3 and FAULT_CORPUS.text(s.index, "en").images
          and FAULT_CORPUS.path(s, "en") not in FAULT_PATH.values()][:3]
for _name, _path in zip(("no_translations", "no_tags", "no_images"), _SPARE):
    FAULTS[_name] = {"mode": _name}
    FAULT_PATH[_name] = _path


@pytest.fixture(scope="module")
def faulty():
    rules = [{"match": re.escape(FAULT_PATH[name].rstrip("/")), **effect} for name, effect in FAULTS.items()]
    rules.append({"match": r"[?&]probe=", "rate": 0.5, "status": 500})
    running = start_replica(stories=60, faults=rules)
    truth = {path_of(t["url"]): t for t in running.ground_truth()}
    yield running, truth
    running.stop()


@pytest.mark.parametrize("name,status", [("500", 500), ("503", 503), ("404", 404)])
def test_fault_status(faulty, name, status):
    running, _ = faulty
    for _ in range(2):
        response = running.get(FAULT_PATH[name])
        assert response.status == status and response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_fault_429_sends_retry_after(faulty):
    response = faulty[0].get(FAULT_PATH["429"])
    assert response.status == 429 and response.headers["Retry-After"] == "7"


def test_fault_delay_holds_the_answer_without_blocking_the_server(faulty):
    running, truth = faulty
    result = {}

    def slow():
        started = time.monotonic()
        result["response"] = running.get(FAULT_PATH["delay"])
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert running.get("/robots.txt").status == 200
    assert time.monotonic() - started < 0.5, "the server blocked during a delay"
    thread.join(10)
    assert 0.9 <= result["seconds"] < 5
    assert result["response"].status == 200
    assert extract_article(result["response"].text, running.url(FAULT_PATH["delay"])).item["title"] == \
        truth[FAULT_PATH["delay"]]["title"]


def test_fault_truncate_cuts_inside_the_body(faulty):
    running, truth = faulty
    response = running.get(FAULT_PATH["truncate"])
    assert response.status == 200 and int(response.headers["Content-Length"]) == len(response.body)
    html = response.text
    assert body_start(html) >= 0 and "</html>" not in html
    assert not re.search('class="(news-detail__tags|tags-list|tags-line)"', html) and not html.rstrip().endswith(">")
    last_paragraph = truth[FAULT_PATH["truncate"]]["body"].split("\n\n")[-1]
    assert last_paragraph not in clean_text(" ".join(Selector(text=html).css("p ::text").getall()))


def test_fault_malformed_still_holds_the_article(faulty):
    running, truth = faulty
    path = FAULT_PATH["malformed"]
    html = running.get(path).text
    assert "</body>" not in html and "<<>>" in html
    desc = html[body_start(html):]
    assert "</p>" not in desc[:desc.index("</div>")]
    item = extract_article(html, running.url(path)).item
    for field in ("title", "lead", "body", "published_at", "category", "tags", "translations"):
        assert item[field] == truth[path][field], field


@pytest.mark.parametrize("name,problem", [("no_body", "missing_body"), ("no_date", "missing_date"),
                                          ("no_title", "missing_title")])
def test_fault_missing_parts(faulty, name, problem):
    running, truth = faulty
    response = running.get(FAULT_PATH[name])
    assert response.status == 200
    extraction = extract_article(response.text, running.url(FAULT_PATH[name]))
    assert problem in extraction.problems
    page = Selector(text=response.text)
    assert page.css("aside.latest-news ul.news__date"), "the sidebar keeps its dates"
    if name == "no_date":
        assert extraction.item["title"] == truth[FAULT_PATH[name]]["title"]


ARTICLE_PART = {  # what each article variant removes, as selectors and head markers
    "no_title": ("h1", '<meta property="og:title"', '"headline"'),
    "no_date": ("div.news-detail ul.news__date, article.news-page .news-date", "article:published_time",
                '"datePublished"'),
    "no_body": ("div.news-detail__desc, div.editor-body", None, '"articleBody"'),
    "no_tags": ("a[href*='/tag/'], a[href*='/tags/']", None, None),
    "no_translations": ("a[hreflang], a.other-lang-news, a.lang-version", None, None),
    # The head may still carry the site's default share image: the photos are checked by address below.
    "no_images": ("div.news-detail__main-photo, div.news-cover, div.news-detail img, article.news-page img",
                  None, None),
}


@pytest.mark.parametrize("name", sorted(ARTICLE_PART))
def test_fault_article_variants_remove_their_part_everywhere(faulty, name):
    running, truth = faulty
    path = FAULT_PATH[name]
    normal = Selector(text=pages.article(State(FAULT_CORPUS), FAULT_CORPUS.find(
        "en", *path.strip("/").split("/")[1:]), "en", running.base_url))
    response = running.get(path)
    assert response.status == 200
    page = Selector(text=response.text)
    selector, meta, jsonld = ARTICLE_PART[name]
    article_ = "div.news-detail, article.news-page"
    scoped = ", ".join(f"{a} {b.split(' ', 1)[1] if b.startswith(('div.news-detail ', 'article.news-page ')) else b}"
                       for a in article_.split(", ") for b in selector.split(", "))
    assert normal.css(scoped), "the part is there without the fault"
    assert not page.css(scoped)
    head = " ".join(page.css("head meta, head link").getall()) + " ".join(page.css("script::text").getall())
    if meta:
        assert meta not in head
    if jsonld:
        assert jsonld not in head
    if name == "no_images":
        photos = {url for url in normal.css(f"{article_.replace(',', ' img,')} img").xpath(
            "@src | @data-src | @srcset").re(r"\S+/photo/\S+")}
        assert photos and not any(url in response.text for url in photos)
    # The rest of the page is still there.
    assert page.css("aside.latest-news div.index-post-block")
    if name != "no_title":
        assert page.css("h1")
    if name == "no_date":
        assert not re.search(r"\b20\d\d-\d\d-\d\d[T ]\d\d:\d\d", head)


def test_fault_redirect_to_the_canonical_page(faulty):
    running, _ = faulty
    for name, status in (("redirect", 301), ("302", 302)):
        path = FAULT_PATH[name]
        other = other_spelling(path)
        for variant in (other, path + "?utm_source=x", other + "?utm_source=x&fbclid=1"):
            response = running.get(variant, follow_redirects=False)
            assert response.status == status and response.headers["Location"] == running.url(path), variant
        assert running.get(path, follow_redirects=False).status == 200
        assert running.get(path + "?utm_source=x").status == 200  # followed


def test_fault_redirect_loop(faulty):
    running, _ = faulty
    path = FAULT_PATH["redirect_loop"]
    a = running.get(path, follow_redirects=False)
    assert a.status == 302 and a.headers["Location"] != running.url(path)
    b = fetch(a.headers["Location"], follow_redirects=False)
    assert b.status == 302 and b.headers["Location"] == running.url(path)
    assert running.get(path).status == 302  # urllib gives up on the loop


def test_fault_wrong_charset_header(faulty):
    running, truth = faulty
    response = running.get(FAULT_PATH["wrong_charset"])
    assert response.headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert extract_page(response.body, response.headers["Content-Type"], running.url(
        FAULT_PATH["wrong_charset"])).item["title"] == truth[FAULT_PATH["wrong_charset"]]["title"]


def test_fault_oversized_and_empty(faulty):
    running, _ = faulty
    big = running.get(FAULT_PATH["oversized"])
    assert big.status == 200 and 20_000_000 <= len(big.body) < 21_000_000
    assert int(big.headers["Content-Length"]) == len(big.body)
    assert re.search(rb'<h1 class="(section-title|news-title)">', big.body) and big.body.rstrip().endswith(b"</html>")
    empty = running.get(FAULT_PATH["empty"])
    assert empty.status == 200 and empty.body == b"" and empty.headers["Content-Length"] == "0"


def test_fault_times_then_success(faulty):
    running, _ = faulty
    path = FAULT_PATH["times"]
    assert [running.get(path).status for _ in range(4)] == [503, 503, 200, 200]


def test_fault_rate_is_a_stable_share_of_targets(faulty):
    running, _ = faulty
    targets = [f"/robots.txt?probe={k}" for k in range(60)]
    first = [running.get(t).status for t in targets]
    again = [running.get(t).status for t in targets]
    assert first == again
    assert first == [500 if selected(t, 0.5) else 200 for t in targets]
    assert 15 < first.count(500) < 45


def test_unfaulted_pages_and_control_paths_are_untouched(faulty):
    running, truth = faulty
    path = EN_PATHS[-1]
    assert path not in FAULT_PATH.values()
    assert running.get(path).status == 200 and running.get("/_replica/hits").status == 200


# --- the script-only feed --------------------------------------------------------------

def test_js_feed_has_no_cards_in_html_but_the_endpoint_works(replica):
    running = replica(stories=60, js_feed=True)
    truth = by_lang(running.ground_truth(), "en")
    page = Selector(text=running.get("/en/latest-news/").text)
    assert parse_cards(page, running.base_url) == []
    assert site.has_card_container(page)
    assert page.css(".loadContainer::attr(data-url)").get() == "/en/infinity/index"
    script = " ".join(page.css("script::text").getall())
    assert "getAttribute('data-url')" in script and ".loadContainer" in script and pages.JS_FEED_START in script
    first = running.get(f"/en/infinity/index?date={pages.JS_FEED_START.replace(' ', '%20')}&oldest=1")
    cards = parse_cards(Selector(text=first.text), running.base_url)
    assert [canonical_url(c.url) for c in cards] == [t["url"] for t in truth[:pages.PER_PAGE]]


# --- scale ---------------------------------------------------------------------------------

def rss_megabytes(pid: int) -> float:
    out = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True).stdout
    return int(out.strip()) / 1024


def test_50000_stories_start_fast_in_modest_memory():
    running = start_replica(stories=50_000, timeout=60)
    try:
        assert running.startup_seconds < 15, running.startup_seconds
        corpus_paths = [running.get("/en/").status, running.get("/en/energy/page/50").status]
        assert corpus_paths == [200, 200]
        oldest = running.get("/en/infinity/index?date=2025-12-25%2004:00:00&oldest=1")
        assert oldest.status == 200 and oldest.body
        article = parse_cards(Selector(text=oldest.text), running.base_url)[-1]
        assert fetch(article.url).status == 200
        assert rss_megabytes(running.pid) < 500
    finally:
        running.stop()


# --- layouts: several plausible markups, one exact ground truth ----------------------------

LAYOUT_CORPUS = Corpus(300)
BASE = "http://127.0.0.1:8000"
MONTH_NUMBER = {name.casefold(): n + 1 for lang in LANGS for n, name in enumerate(pages.MONTHS[lang])}


@pytest.fixture(scope="module")
def layout_pages():
    """Every page of a 300-story corpus rendered in-process: (record, layout, html)."""
    state = State(LAYOUT_CORPUS)
    out = []
    for record, (index, _) in zip(state.truth_records(BASE), state.truth_index(BASE)):
        story = LAYOUT_CORPUS.stories[index]
        lang = record["language"]
        out.append((record, pages.describe_layout(state, story, lang), pages.article(state, story, lang, BASE)))
    return out


def _text(nodes) -> str:
    return clean_text("".join(nodes.xpath(".//text()").getall()))


def _image_url(img, layout: dict) -> str:
    if layout["lazy"] == "srcset":
        return img.attrib["srcset"].split()[0]
    return img.attrib[{"data-src": "data-src", "data-cfsrc": "data-cfsrc", "src": "src"}[layout["lazy"]]]


def _caption(img) -> str:
    for wrapper, caption in (("figure", "figcaption"), ("div[@class='photo-item']", "span"),
                             ("table[@class='image-caption']", "td[@class='image-caption__text']"),
                             ("div[@class='swiper-slide']", "div[@class='swiper-slide__caption']"),
                             ("div[@class='gallery-item']", "p[@class='gallery-item__caption']"),
                             ("div[@class='photo-gallery__item']", "div[@class='photo-gallery__caption']")):
        found = img.xpath(f"ancestor::{wrapper}[1]")
        if found:
            return _text(found[0].xpath(f".//{caption}")) if found[0].xpath(f".//{caption}") else ""
    raise AssertionError("an image outside any caption wrapper")


def reference_extract(html: str, layout: dict, lang: str) -> dict:
    """What a browser shows, read with the replica's own knowledge of the layout (not the crawler's)."""
    import ftfy
    page = Selector(text=html)
    current = layout["version"] == "current"
    article_ = page.css("div.news-detail" if current else "article.news-page")[0]
    body = article_.css("div.news-detail__desc" if current else "div.editor-body")[0]
    paragraphs = []
    related = {clean_text(block) for block in layout["related_blocks"]}
    for p in body.xpath("./p"):  # figures, embeds (tweets, iframes, scripts, noscript) are no paragraphs
        text = clean_text(ftfy.fix_encoding(clean_text("".join(p.xpath(".//text()").getall()))))
        if text and text not in texts.BOILERPLATE[lang] and text not in related:
            paragraphs.append(text)
    jsonld = [json.loads(s) for s in page.css('script[type="application/ld+json"]::text').getall()]
    nodes = [n for d in jsonld for n in d.get("@graph", [d])]
    if current:
        category = _text(article_.css(".news-detail__head .news__category"))
        visible = article_.css(".news-detail__head ul.news__date li")
    else:
        crumbs = [n for n in nodes if n["@type"] == "BreadcrumbList"]
        section = page.css('meta[property="article:section"]::attr(content)').get()
        category = crumbs[0]["itemListElement"][1]["name"] if crumbs else section.split(" | ")[0]
        visible = article_.css(".news-date span")
    if visible:
        day, month, year = re.sub(r"\s*,\s*", " ", _text(visible[0])).split()
        hour, minute = _text(visible[1]).split(":")
        published = f"{year}-{MONTH_NUMBER[month.casefold()]:02d}-{int(day):02d}T{hour}:{minute}:00+04:00"
    else:
        stamp = next((n["datePublished"] for n in nodes if "datePublished" in n), None) or \
            page.css('meta[property="article:published_time"]::attr(content)').get()
        published = parse_timestamp(stamp).astimezone(timezone(timedelta(hours=4))).isoformat()
    images = []
    cover = article_.css(".news-detail__main-photo img, .news-cover img")
    default = renderings.DEFAULT_IMAGES[layout["default_image"]].markup
    for img in [*cover, *body.css("img")]:
        # A repeat for browsers without script, a slider's clone, another story's thumbnail, the
        # site's default picture: none is one of this story's photos.
        if img.root.xpath("boolean(ancestor::noscript or ancestor::*[contains(@class, 'duplicate') or contains(@class, 'clone')]"
                " or ancestor::a[not(@data-fancybox)])") or (
                default and img.attrib.get("src") == default):
            continue
        images.append({"url": _image_url(img, layout), "caption": _caption(img)})
    tag_links = article_.xpath(".//a[contains(@href, '/tag/') or contains(@href, '/tags/')]"
                               "[not(ancestor::div[@class='news-detail__desc' or @class='editor-body'])]")
    title_selector = {"photo_cards": "a.other-lang-news h3", "label_list": "ul.article-langs a",
                      "image_links": "a.lang-version span.lang-version__title"}[layout["editions"]]
    translations = []
    for title in article_.css(title_selector):
        link = title if title.root.tag == "a" else title.xpath("ancestor::a[1]")[0]
        url = canonical_url(BASE + link.attrib["href"])
        other = next((l for l in ("en", "ru") if path_of(url).startswith(f"/{l}/")), "az")
        translations.append({"language": other, "url": url, "title": _text(title)})
    data_url = page.css(".copy-url::attr(data-url)").get()
    return {"title": _text(article_.css("h1")), "lead": paragraphs[0], "body": "\n\n".join(paragraphs),
            "published_at": published, "category": category, "tags": [_text(a) for a in tag_links],
            "images": images, "translations": translations,
            "site_id": int(re.search(r"(\d+)$", data_url).group(1)) if data_url else None}


def test_every_page_in_every_layout_reads_back_to_its_ground_truth(layout_pages):
    """The ground truth is exact: an independent reading of each layout gives it back, field by field."""
    mismatches = []
    for record, layout, html in layout_pages:
        got = reference_extract(html, layout, record["language"])
        mismatches += [(record["url"], k, record[k], v) for k, v in got.items() if record[k] != v]
    assert not mismatches, json.dumps(mismatches[:5], ensure_ascii=False, indent=1)


def test_every_version_and_variant_occurs_in_a_300_story_corpus(layout_pages):
    layouts = [layout for _, layout, _ in layout_pages]
    share = Counter(layout["version"] for layout in layouts)
    assert 0.6 < share["current"] / len(layouts) < 0.8 and share["legacy"] and set(share) == {"current", "legacy"}
    for part, variants in (("tags", TAG_VARIANTS), ("editions", EDITION_VARIANTS), ("captions", CAPTION_VARIANTS),
                           ("lazy", ("data-src", "data-cfsrc", "srcset", "src")), ("tag_href", ("tag", "tag/", "tags")),
                           ("date_format", ("offset", "utc", "local")), ("category_tag", ("a", "span")),
                           ("copy_url", ("bare", "https"))):
        seen = Counter(layout[part] for layout in layouts)
        assert set(variants) <= set(seen), (part, seen)
        # Independent of the version: each variant shows in both designs where it applies.
        if part in ("tags", "editions", "captions", "lazy"):
            for variant in variants:
                assert {l["version"] for l in layouts if l[part] == variant} == {"current", "legacy"}, variant
    assert {e for layout in layouts for e in layout["embeds"]} == set(EMBEDS)
    assert 0.3 < sum(layout["jsonld"] for layout in layouts) / len(layouts) < 0.7
    hidden = [layout for layout in layouts if layout["hidden_date"]]
    assert 0 < len(hidden) < 0.08 * len(layouts) and all(l["version"] == "current" for l in hidden)
    assert all(l["jsonld"] or l["meta_published"] for l in hidden)
    assert all(l["jsonld"] or l["meta_section"] for l in layouts if l["version"] == "legacy")
    assert all((l["site_id"] is None) == (l["version"] == "legacy") for l in layouts)
    mojibake = [layout for layout in layouts if layout["mojibake"]]
    assert 0.02 * len(layouts) < len(mojibake) < 0.08 * len(layouts)


def test_every_rendering_of_every_unseen_part_occurs_in_a_300_story_corpus(layout_pages):
    """Each rendering of tests/replica/renderings.py's pools shows on some page, in every edition."""
    for lang in LANGS:
        shown = [(record, layout) for record, layout, _ in layout_pages if record["language"] == lang]
        for part, pool in (("related", renderings.RELATED), ("reporting_link", renderings.LINKS),
                           ("charset", renderings.ALL_CHARSETS)):
            assert set(pool) <= {layout[part] for _, layout in shown}, (lang, part)
        galleries = {layout["gallery"] for record, layout in shown if len(record["images"]) > 1}
        assert set(renderings.GALLERIES) <= galleries, lang
        defaults = {layout["default_image"] for record, layout in shown if not record["images"]}
        assert set(renderings.DEFAULT_IMAGES) <= defaults, lang
        assert any(layout["head_order"] for _, layout in shown) and any(not layout["head_order"] for _, layout in shown)
    related = [layout for _, layout, _ in layout_pages if layout["related"]]
    assert 0.35 < len(related) / len(layout_pages) < 0.65
    lying = [layout for _, layout, _ in layout_pages if layout["charset"] in renderings.LYING_CHARSETS]
    assert 0.10 < len(lying) / len(layout_pages) < 0.25


def test_markup_of_each_layout(layout_pages):
    for record, layout, html in layout_pages:
        page = Selector(text=html)
        if layout["version"] == "current":
            assert page.css("h1.section-title") and page.css("div.news-detail__desc p")
            assert not page.css("h1.news-title, div.editor-body, .news-date")
            data_url = page.css(".copy-url::attr(data-url)").get()
            assert re.fullmatch(r"(https://)?report\.az/\d{7}", data_url)
            assert data_url.startswith("https://") == (layout["copy_url"] == "https")
            assert bool(page.css(".news-detail__head .news__category")) and \
                page.css(f".news-detail__head {layout['category_tag']}.news__category")
            if record["images"]:
                img = page.css(".news-detail__main-photo img")[0]
                assert record["images"][0]["url"] in img.get()
        else:
            assert page.css("h1.news-title") and page.css("div.editor-body p")
            assert not page.css("h1.section-title, div.news-detail__desc, .copy-url, article.news-page .news__category")
            if not layout["hidden_date"]:
                date = page.css(".news-date span::text").get()
                assert re.fullmatch(r"\d{1,2} [A-ZÀ-ÿА-ЯİƏ][^\s,]+ , \d{4}", clean_text(date)), date
            if record["images"]:
                assert page.css("div.news-cover div.image img")
        # The lazy photo: the URL in its attribute, a placeholder in src.
        if record["images"] and layout["lazy"] != "src":
            img = page.css(".news-detail__main-photo img, .news-cover img")[0]
            assert img.attrib["src"] == layout["placeholder"] and record["images"][0]["url"] not in img.attrib["src"]
        # Head: canonical on the host the client used; og:image only with photos.
        canonical = page.css('link[rel="canonical"]::attr(href)').get()
        assert (canonical is not None) == layout["canonical"]
        if canonical:
            assert canonical_url(canonical) == record["url"]
        og = page.css('meta[property="og:image"]::attr(content)').get()
        defaults = renderings.DEFAULT_IMAGES[layout["default_image"]]
        if record["images"]:
            shown = defaults.og if defaults.og_over_photo else record["images"][0]["url"]
            assert og == (shown if layout["og_image"] else None)
        else:
            assert og == (defaults.og or None)
        section = page.css('meta[property="article:section"]::attr(content)').get()
        assert section == (f"{record['category']} | Report.az" if layout["meta_section"] else None)


def test_json_ld_on_some_pages_with_a_truncated_headline_and_varied_dates(layout_pages):
    seen_long = 0
    for record, layout, html in layout_pages:
        page = Selector(text=html)
        blocks = [json.loads(s) for s in page.css('script[type="application/ld+json"]::text').getall()]
        assert bool(blocks) == layout["jsonld"]
        if not blocks:
            continue
        nodes = [n for d in blocks for n in d.get("@graph", [d])]
        news = next(n for n in nodes if n["@type"] == "NewsArticle")
        trail = next(n for n in nodes if n["@type"] == "BreadcrumbList")
        assert [i["name"] for i in trail["itemListElement"]][1:] == [record["category"], record["title"]]
        assert len(news["headline"]) <= 110
        if len(record["title"]) > 110:
            seen_long += 1
            assert news["headline"].endswith("…") and record["title"].startswith(news["headline"][:-1])
            assert clean_text(page.css("h1::text").get()) == record["title"]
        else:
            assert news["headline"] == record["title"]
        stamp = news["datePublished"]
        assert parse_timestamp(stamp).isoformat() == record["published_at"] or \
            parse_timestamp(stamp).isoformat().replace("+00:00", "Z") == record["published_at_utc"]
        assert {"offset": "+04:00", "utc": "Z", "local": ":00"}[layout["date_format"]] == stamp[-6:] if \
            layout["date_format"] == "offset" else stamp.endswith({"utc": "Z", "local": ":00"}[layout["date_format"]])
        assert news["description"] == record["lead"]
    assert seen_long


def test_bodies_hold_embeds_channel_citations_openers_mojibake_and_rare_furniture(layout_pages):
    import ftfy
    channel = {lang: 0 for lang in LANGS}
    opener = {lang: 0 for lang in LANGS}
    garbled, furnished, embeds = 0, 0, Counter()
    for record, layout, html in layout_pages:
        lang, paragraphs = record["language"], record["body"].split("\n\n")
        channel[lang] += any(re.search("Telegram|Facebook|WhatsApp", p) for p in paragraphs)
        opener[lang] += paragraphs[0].startswith(('"Report" xəbər verir ki,', "Report informs", "Как сообщает Report,"))
        furnished += bool(layout["furniture"])
        for kind in layout["embeds"]:
            embeds[kind] += 1
        page = Selector(text=html)
        for tweet in page.css("blockquote.twitter-tweet"):
            assert _text(tweet.css("p")) not in record["body"]
        for text in page.css("noscript::text").getall():
            assert clean_text(text) not in record["body"]
        if layout["mojibake"]:
            garbled += 1
            broken = [clean_text("".join(p.xpath(".//text()").getall())) for p in page.css(
                "div.news-detail__desc > p, div.editor-body > p")]
            related = {clean_text(block) for block in layout["related_blocks"]}
            bad = [b for b in broken if b not in paragraphs and b and b not in texts.BOILERPLATE[lang]
                   and b not in related]
            assert len(bad) == 1
            assert ftfy.fix_text(bad[0]) in paragraphs and clean_text(pages.to_mojibake(ftfy.fix_text(bad[0]))) == bad[0]
    total = len(layout_pages)
    assert all(0.3 < channel[lang] / sum(r["language"] == lang for r, _, _ in layout_pages) < 0.7 for lang in LANGS)
    assert all(opener.values()) and garbled
    assert 0 < furnished < 0.3 * total
    assert set(embeds) == set(EMBEDS)


def test_every_generated_mojibake_paragraph_round_trips_through_ftfy():
    import ftfy
    state = State(LAYOUT_CORPUS)
    count = 0
    for story in LAYOUT_CORPUS.stories:
        for lang in story.langs:
            text = state.text(story, lang)
            n = pages.mojibake_paragraph(text, LAYOUT_CORPUS.layout(story.index, lang), story.index)
            if n is not None:
                broken = pages.to_mojibake(text.paragraphs[n])
                assert broken != text.paragraphs[n] and ftfy.fix_text(broken) == text.paragraphs[n]
                assert re.search("[ÃÐÑÄÅâ]", broken)
                count += 1
    assert count


def test_cards_carry_the_live_attributes(shared_replica):
    layouts = json.loads(shared_replica.get("/_replica/layouts").text)
    for path in ("/en/latest-news", "/", "/ru/", f"/en/{category_table()['energy']['en'][0]}",
                 "/en/infinity/index?date=2026-01-27%2000:00:00&oldest=1"):
        html = shared_replica.get(path).text
        page = Selector(text=html)
        blocks = page.css("div.col-md-3.index-post-block[data-timestamp]")
        assert blocks, path
        for block in blocks:
            raw = block.get()
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", block.attrib["data-timestamp"])
            assert re.search(r'<a href="[^"]+" class="news__item" target="_blank">', raw)
            assert '<h2 class="news__title ">' in raw
            link = block.css("a.news__item::attr(href)").get()
            assert link.endswith("/") == (layouts[shared_replica.url(link)]["version"] == "legacy")
            assert block.css("span.news__category::text").get()
            assert len(block.css("ul.news__date li")) == 2
            for src in block.css("img::attr(src)").getall():
                assert re.fullmatch(r"https://static\.report\.az/photo/[0-9a-f-]{36}_490\.jpg", src)
    article_ = Selector(text=fetch(shared_replica.ground_truth()[0]["url"]).text)
    sidebar = article_.css("aside.latest-news div.col-md-3.index-post-block a.news__item[target=_blank]")
    assert len(sidebar) == pages.SIDEBAR_CARDS


def test_the_feed_script_follows_the_containers_data_url(shared_replica):
    for lang in LANGS:
        page = Selector(text=shared_replica.get(texts.LATEST_PATH[lang]).text)
        endpoint = page.css(".loadContainer::attr(data-url)").get()
        assert endpoint == f"{PREFIX[lang]}infinity/index"
        assert page.css(".loadContainer div.index-post-block")
        script = " ".join(page.css("script::text").getall())
        assert "getAttribute('data-url')" in script and "infinity/index" not in script
        last = page.css(".loadContainer div.index-post-block::attr(data-timestamp)").getall()[-1]
        more = shared_replica.get(f"{endpoint}?date={last.replace(' ', '%20')}&oldest=1")
        assert more.status == 200 and Selector(text=more.text).css("div.index-post-block")
        assert shared_replica.get(texts.LATEST_PATH[lang] + "/").body == shared_replica.get(texts.LATEST_PATH[lang]).body


def test_layouts_endpoint_covers_every_ground_truth_url(shared_replica):
    response = shared_replica.get("/_replica/layouts")
    assert response.status == 200 and response.headers["Content-Type"].startswith("application/json")
    layouts = json.loads(response.body)
    truth = shared_replica.ground_truth()
    assert list(layouts) == [t["url"] for t in truth]
    for record in truth:
        layout = layouts[record["url"]]
        assert layout["version"] in ("current", "legacy") and layout["tags"] in TAG_VARIANTS
        assert layout["editions"] in EDITION_VARIANTS and layout["captions"] in CAPTION_VARIANTS
        assert isinstance(layout["jsonld"], bool) and layout["site_id"] == record["site_id"]
        assert layout["images"] == len(record["images"])
    # Each page is served as its layout says.
    for record in truth[:20]:
        layout = layouts[record["url"]]
        page = Selector(text=fetch(record["url"]).text)
        assert bool(page.css("h1.section-title")) == (layout["version"] == "current")
        assert bool(page.css('script[type="application/ld+json"]')) == layout["jsonld"]


# --- slug edits and late editions ----------------------------------------------------------------

def _site_id(html: str) -> str | None:
    return Selector(text=html).css(".copy-url::attr(data-url)").get()


@pytest.mark.parametrize("mode", ["301", "404"])
def test_rename_moves_every_edition_to_a_new_slug_with_the_same_site_id(replica, mode):
    running = replica(stories=30, renamed_old=mode)
    corpus = Corpus(30)
    story = next(s for s in corpus.stories[2:] if len(s.langs) == 3 and corpus.layout(s.index, "en").version == "current")
    before = {t["url"]: t for t in running.ground_truth()}
    old = {lang: running.url(corpus.path(story, lang)) for lang in story.langs}
    pages_before = {lang: fetch(url).text for lang, url in old.items()}
    answer = running.rename(story.index)
    new = {lang: running.url(path) for lang, path in answer["paths"].items()}
    assert answer["story"] == story.index and set(new) == set(story.langs)
    assert running.get(f"/_replica/rename?story={story.index}").status == 409
    after = {t["url"]: t for t in running.ground_truth()}
    assert set(after) == set(before) - set(old.values()) | set(new.values())
    for lang in story.langs:
        assert new[lang] != old[lang] and new[lang].endswith("/") == old[lang].endswith("/")
        record = after[new[lang]]
        assert record["title"] == before[old[lang]]["title"] + RENAMED_SUFFIX[lang]
        assert record["article_id"] == article_id(new[lang]) and record["site_id"] == before[old[lang]]["site_id"]
        assert {t["url"] for t in record["translations"]} == set(new.values()) - {new[lang]}
        response = running.get(path_of(new[lang]))
        assert response.status == 200 and _site_id(response.text) == _site_id(pages_before[lang]) is not None
        item = extract_article(response.text, new[lang]).item
        assert {k: item[k] for k in GROUND_TRUTH_FIELDS} == record
        gone = running.get(path_of(old[lang]), follow_redirects=False)
        if mode == "301":
            assert gone.status == 301 and gone.headers["Location"] == new[lang]
        else:
            assert gone.status == 404
    # Listings link the new path only.
    linked = {canonical_url(c.url) for c in walk_feed(running, "en")}
    assert new["en"] in linked and old["en"] not in linked


def test_late_editions_are_published_with_links_both_ways(replica):
    corpus = Corpus(30)
    running = replica(stories=30, late=2)
    multi = [s for s in corpus.stories if len(s.langs) > 1][:2]
    held = {(s.index, s.langs[-1]) for s in multi}
    held_urls = {running.url(corpus.path(corpus.stories[i], lang)) for i, lang in held}
    truth = running.ground_truth()
    assert len(truth) == sum(len(s.langs) for s in corpus.stories) - 2
    assert not held_urls & {t["url"] for t in truth}
    assert not held_urls & {tr["url"] for t in truth for tr in t["translations"]}
    for url in held_urls:
        assert fetch(url).status == 404
    linked = set()
    for lang in LANGS:
        linked |= {canonical_url(c.url) for c in walk_feed(running, lang)}
        rss = ET.fromstring(running.get(f"{PREFIX[lang]}rss/").body)
        linked |= {link.text for link in rss.iter("link")}
    siblings = [t for t in truth if any(t["story_id"] == s for s in
                                        {x["story_id"] for x in truth if path_of(x["url"]) in
                                         {corpus.path(st, l) for st in multi for l in st.langs}})]
    for record in siblings:
        hrefs = Selector(text=fetch(record["url"]).text).css("a::attr(href)").getall()
        linked |= {canonical_url(running.url(h)) for h in hrefs if h.startswith("/")}
    assert not held_urls & linked

    assert running.publish_late() == {"published": 2}
    after = {t["url"]: t for t in running.ground_truth()}
    assert held_urls <= set(after) and len(after) == len(truth) + 2
    for record in siblings:
        now = after[record["url"]]
        assert now["translations"] != record["translations"]  # the sibling's page changed: an update
        assert {t["url"] for t in now["translations"]} & held_urls
        item = extract_article(fetch(record["url"]).text, record["url"]).item
        assert {k: item[k] for k in GROUND_TRUTH_FIELDS} == now
    for url in held_urls:
        response = fetch(url)
        assert response.status == 200
        assert {t["url"] for t in after[url]["translations"]} == {
            u for u in after if after[u]["story_id"] == after[url]["story_id"]} - {url}
    feed = {canonical_url(c.url) for lang in LANGS for c in walk_feed(running, lang)}
    assert held_urls <= feed


# --- categories: the replica's own table ------------------------------------------------------

def test_the_replica_category_table_is_its_own_and_covers_what_the_crawler_must_learn():
    table = category_table()
    source = (ROOT / "tests" / "replica" / "content.py").read_text("utf-8") + \
        (ROOT / "tests" / "replica" / "categories.py").read_text("utf-8")
    # It reads no table of newsbot's: an independent source of truth for the crawler's key rule.
    assert not re.search(r"categories\.json\b(?! on purpose)|from newsbot(\.site)?(\.categories| import categories)",
                         source)
    known = {key: {lang for lang, (segment, name) in editions.items() if categories.lookup(lang, segment)}
             for key, editions in table.items()}
    assert [k for k, langs in known.items() if not langs and len(table[k]) == 3], "unknown in every edition"
    assert [k for k, langs in known.items() if langs == {"en"}], "known in the en edition only"
    assert [k for k, editions in table.items() if set(editions) == {"az"}], "only in the az edition"
    # No en section, known by the az slug alone: its ru slug learns the key from a linked edition.
    assert [k for k, editions in table.items() if "en" not in editions and len(editions) > 1 and known[k] == {"az"}]
    for key, editions in table.items():
        # The hand-written key is what an analyst gets: a known key, else the en slug, else ru's, else az's.
        known_keys = {categories.lookup(lang, segment).key for lang, (segment, _) in editions.items()
                      if categories.lookup(lang, segment)}
        expected = (next(iter(known_keys)) if known_keys else
                    next(editions[lang][0] for lang in ("en", "ru", "az") if lang in editions))
        assert key == expected, key
