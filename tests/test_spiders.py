"""End-to-end crawls of the replica over real sockets: latest, category and article spiders."""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections import Counter
from datetime import datetime
from urllib.parse import urlsplit

import pytest
import pytest_twisted
from parsel import Selector

from newsbot.site import categories
from newsbot.site.clock import BAKU
from newsbot.listing import parse_cards
from newsbot.site import MARKUPS, selectors, split_article_path
from newsbot.store import Store
from tests.crawling import assert_matches_ground_truth, crawl, crawl_settings, scrapy_cli
from tests.replica import renderings
from tests.test_fault_drills import english_paths, only, pick
from tests.test_store import downgrade

LANGS = ("az", "en", "ru")


def requests_beyond_robots(result) -> int:
    return result.stat("downloader/request_count") - result.stat("robotstxt/request_count")


# The replica's names for the furniture it renders -> newsbot's rules (newsbot/site/furniture.py).
FURNITURE_RULES = {"source": "source_line", "share": "share_prompt", "subscribe": "subscription", "empty": "empty"}


@pytest_twisted.ensureDeferred
async def test_latest_first_run_gets_every_article_then_rerun_is_cheap(replica, tmp_path):
    site = replica(stories=60)
    settings = crawl_settings(site.base_url, tmp_path / "news.sqlite")

    first = await crawl("latest", settings)
    assert first.reason == "finished"
    assert first.errors == 0
    assert_matches_ground_truth(first.items, site.ground_truth())
    # Which design generation read each page, and what furniture went, as the replica rendered them.
    layouts = json.loads(site.get("/_replica/layouts").text).values()
    versions = Counter(layout["version"] for layout in layouts)
    assert {f"newsbot/markup/{v}": n for v, n in versions.items()} == {
        k: v for k, v in first.stats.items() if k.startswith("newsbot/markup/")}
    assert set(versions) == {m.version for m in MARKUPS}
    furniture = Counter(FURNITURE_RULES[kind] for layout in layouts for kind in layout["furniture"])
    for rule, count in furniture.items():
        # An embed alone in a paragraph (<p><iframe></p>) is an empty paragraph too.
        assert first.stat(f"newsbot/boilerplate/{rule}") >= count if rule == "empty" else \
            first.stat(f"newsbot/boilerplate/{rule}") == count, rule
    assert first.stat("newsbot/source/tags/structure") == sum(1 for t in site.ground_truth() if t["tags"])
    # The blocks that only point to other stories went, one count each; every page's charset was decided
    # by its bytes, and the labels that lied about UTF-8 bytes (articles' and listings') were counted.
    assert first.stat("newsbot/boilerplate/related") == sum(1 for layout in layouts if layout["related_blocks"])
    charsets = [renderings.ALL_CHARSETS[layout["charset"]] for layout in layouts]
    not_utf8 = [c for c in charsets if c.encoding != "utf-8"]
    # Bytes that are not UTF-8 are decided by the page's <meta> where it has one, else by the header.
    assert first.stat("newsbot/charset/meta") == sum(1 for c in not_utf8 if c.meta) > 0
    assert first.stat("newsbot/charset/header") == sum(1 for c in not_utf8 if not c.meta) > 0
    assert first.stat("newsbot/warnings/wrong_charset") >= sum(
        1 for c in charsets if c.encoding == "utf-8" and re.search(r"charset=[\"']?(?![\"']|utf)", f"{c.header} {c.meta}", re.I)) > 0
    with Store(tmp_path / "news.sqlite", readonly=True) as store:
        assert store.count_articles() == len(first.items)

    second = await crawl("latest", settings)
    assert second.reason == "finished" and second.errors == 0
    assert second.items == []
    # Per edition: the home page (navigation) and the first feed batch, all of it stored, even where
    # a listing's header lies about its charset (a card title read wrongly would look edited).
    assert requests_beyond_robots(second) <= 2 * len(LANGS)
    assert all(second.stats[f"newsbot/stop/{lang}"] == "already_stored" for lang in LANGS)


@pytest.mark.parametrize("charset", ["windows-1251", "koi8-r", "iso-8859-1"])
@pytest_twisted.ensureDeferred
async def test_a_rerun_stays_cheap_when_every_listing_lies_about_its_charset(replica, tmp_path, charset):
    """Card titles read in the charset a lying header names would all look edited: the bytes decide."""
    listings = r"^/((en|ru)/)?(son-xeberler|latest-news|poslednie-novosti|infinity/index)?/?$"
    site = replica(stories=30, faults=[{"match": listings, "mode": "wrong_charset", "charset": charset}])
    settings = crawl_settings(site.base_url, tmp_path / "news.sqlite")
    first = await crawl("latest", settings)
    assert first.reason == "finished"
    assert_matches_ground_truth(first.items, site.ground_truth())
    second = await crawl("latest", settings)
    assert second.reason == "finished" and second.items == []
    assert second.stat("newsbot/cards/updated") == 0
    assert requests_beyond_robots(second) <= 2 * len(LANGS)
    assert second.stat("newsbot/warnings/wrong_charset") >= 2 * len(LANGS)


@pytest_twisted.ensureDeferred
async def test_latest_follows_the_feed_endpoint_the_page_names(replica, tmp_path):
    # The endpoint is only on the feed page (.loadContainer[data-url]); the known path answers 404.
    site = replica(stories=60, extra_args=("--infinity-path", "news/older"))
    result = await crawl("latest", crawl_settings(site.base_url, tmp_path / "news.sqlite"))
    assert result.reason == "finished" and result.errors == 0
    assert_matches_ground_truth(result.items, site.ground_truth())
    paths = site.hits()["paths"]
    assert not [p for p in paths if "infinity" in p]
    assert {p for p in paths if p.endswith("news/older")} == {"/news/older", "/en/news/older", "/ru/news/older"}


@pytest_twisted.ensureDeferred
async def test_latest_picks_up_new_and_edited_stories_only(replica, tmp_path):
    site = replica(stories=60, hidden=10)
    settings = crawl_settings(site.base_url, tmp_path / "news.sqlite")
    first = await crawl("latest", settings)
    assert_matches_ground_truth(first.items, site.ground_truth())
    before = {t["url"] for t in site.ground_truth()}

    site.publish(10)
    site.edit(12)  # already stored, and still in the feed's first batch
    truth = site.ground_truth()
    second = await crawl("latest", settings)
    new_urls = {t["url"] for t in truth} - before
    edited = [t for t in truth if t["url"] in before and t["title"].endswith("(updated)")]
    assert new_urls and edited
    assert_matches_ground_truth(second.items, [t for t in truth if t["url"] in new_urls] + edited)
    assert second.stat("newsbot/cards/updated") == len(edited)
    assert requests_beyond_robots(second) <= 3 * len(LANGS) + len(new_urls) + len(edited)


@pytest_twisted.ensureDeferred
async def test_latest_honours_lang_since_and_max_pages(replica, tmp_path):
    site = replica(stories=120)
    truth = site.ground_truth()
    en = sorted((t for t in truth if t["language"] == "en"), key=lambda t: t["published_at"], reverse=True)
    since = en[30]["published_at"]
    settings = crawl_settings(site.base_url, tmp_path / "a.sqlite")
    result = await crawl("latest", settings, lang="en", since=since)
    assert_matches_ground_truth(result.items, [t for t in en if t["published_at"] >= since])
    assert result.stats["newsbot/stop/en"] == "since"

    capped = await crawl("latest", crawl_settings(site.base_url, tmp_path / "b.sqlite"), lang="ru,az", max_pages=1)
    assert {i["language"] for i in capped.items} == {"ru", "az"}
    assert 0 < len([i for i in capped.items if i["language"] == "ru"]) <= 20
    assert capped.stats["newsbot/stop/ru"] == "max_pages"


@pytest_twisted.ensureDeferred
async def test_category_backfill_honours_since_until_and_category(replica, tmp_path):
    site = replica(stories=150)
    truth = site.ground_truth()
    since, until = "2026-01-10", "2026-01-20"
    window = [t for t in truth if since <= t["published_at"][:10] <= until]
    assert window and len(window) < len(truth)
    result = await crawl("category", crawl_settings(site.base_url, tmp_path / "c.sqlite"), since=since, until=until)
    assert result.reason == "finished" and result.errors == 0
    assert_matches_ground_truth(result.items, window)

    energy = await crawl("category", crawl_settings(site.base_url, tmp_path / "d.sqlite"), category="energy",
                         lang="az,en")
    assert_matches_ground_truth(energy.items, [t for t in truth if t["category_slug"] == "energy"
                                               and t["language"] in ("az", "en")])


def assert_one_key_per_topic(db) -> None:
    """Every story with several editions has one category key, and every key is the table's (an
    English word) or the site's own en slug: no az or ru slug stands for a topic."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT story_id, language, url, category_slug FROM articles").fetchall()
    keys_of_story: dict[str, set[str]] = {}
    for story, _, _, key in rows:
        keys_of_story.setdefault(story, set()).add(key)
    assert {story: keys for story, keys in keys_of_story.items() if len(keys) > 1} == {}
    en_slugs = {split_article_path(urlsplit(url).path)[1] for _, language, url, _ in rows if language == "en"}
    assert sorted({key for *_, key in rows} - en_slugs - categories.known_keys()) == []


@pytest_twisted.ensureDeferred
async def test_category_key_crawls_every_edition_that_has_it(replica, tmp_path):
    """The ru edition's energy section has a slug no table knows (energetika): its stories' linked
    editions tell, and the crawl stores every edition's energy articles under one key."""
    site = replica(stories=150)
    truth = [t for t in site.ground_truth() if t["category_slug"] == "energy"]
    assert {t["language"] for t in truth} == set(LANGS)
    result = await crawl("category", crawl_settings(site.base_url, tmp_path / "c.sqlite"), category="energy")
    assert result.reason == "finished" and result.errors == 0
    assert_matches_ground_truth(result.items, truth)
    with sqlite3.connect(tmp_path / "c.sqlite") as conn:
        assert conn.execute("SELECT language, category_slug, count(*) FROM articles GROUP BY 1, 2").fetchall() == [
            (lang, "energy", sum(1 for t in truth if t["language"] == lang)) for lang in LANGS]
    assert result.stat("newsbot/discovery/categories_from_stories") == 1
    # The next run knows the ru slug from the store: no article is read to learn it again.
    again = await crawl("category", crawl_settings(site.base_url, tmp_path / "c.sqlite"), category="energy")
    assert again.reason == "finished" and again.stat("newsbot/discovery/categories_from_stories") == 0
    assert again.stat("newsbot/discovery/categories_from_nav") == 3


@pytest_twisted.ensureDeferred
async def test_a_crawl_of_the_replica_gives_one_category_key_per_topic(replica, tmp_path):
    site = replica(stories=150)
    result = await crawl("category", crawl_settings(site.base_url, tmp_path / "c.sqlite"))
    assert result.reason == "finished"
    assert_one_key_per_topic(tmp_path / "c.sqlite")


@pytest_twisted.ensureDeferred
async def test_a_store_keyed_under_the_old_table_converges_to_one_key_per_topic(replica, tmp_path):
    """A schema 6 store holds the keys the table before REPORT_AZ's slugs gave (az hadise, ru
    zdravookhranenie for the az sehiyye-xeberler story, and what category_map learnt from that):
    opened by this newsbot, every article is keyed again."""
    site = replica(stories=150)
    db = tmp_path / "c.sqlite"
    assert (await crawl("category", crawl_settings(site.base_url, db))).reason == "finished"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE articles SET category_slug = 'hadise' WHERE category_slug = 'incidents'")
        conn.execute("UPDATE articles SET category_slug = 'zdravookhranenie' WHERE category_slug = 'health'")
        conn.execute("INSERT INTO category_map VALUES ('az', 'sehiyye-xeberler', 'zdravookhranenie', '2026-01-01')")
    downgrade(db, 6)
    Store(db).close()
    assert_one_key_per_topic(db)
    with sqlite3.connect(db) as conn:
        assert {key for (key,) in conn.execute("SELECT DISTINCT category_slug FROM articles")} >= {"incidents", "health"}


def test_a_requested_edition_without_the_category_is_an_error_naming_its_categories(replica, tmp_path):
    site = replica(stories=60)
    ran = scrapy_cli("crawl", "category", "-a", "category=incidents", "-a", "lang=az,ru",
                     "-s", f"NEWSBOT_BASE_URL={site.base_url}", "-s", f"NEWSBOT_DB={tmp_path / 'c.sqlite'}",
                     "-s", "AUTOTHROTTLE_ENABLED=0")
    assert ran.returncode == 1, ran.stderr[-2000:]
    errors = [line for line in ran.stderr.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and "Traceback" not in ran.stderr
    assert "(category_not_found): category incidents not found in the ru edition: its navigation shows biznes, " \
           "drugie-strany, " in errors[0] and "zdravookhranenie" in errors[0]
    # The edition that has it was crawled all the same.
    with sqlite3.connect(tmp_path / "c.sqlite") as conn:
        assert conn.execute("SELECT DISTINCT language, category_slug FROM articles").fetchall() == [("az", "incidents")]
    # A key of the table's (ru cop29) in an edition whose navigation and table lack it: not a warning and exit 0.
    az = scrapy_cli("crawl", "category", "-a", "category=cop29", "-a", "lang=az",
                    "-s", f"NEWSBOT_BASE_URL={site.base_url}", "-s", f"NEWSBOT_DB={tmp_path / 'd.sqlite'}",
                    "-s", "AUTOTHROTTLE_ENABLED=0")
    assert az.returncode == 1, az.stderr[-2000:]
    assert "(category_not_found): category cop29 not found in the az edition: its navigation shows " in az.stderr


@pytest_twisted.ensureDeferred
async def test_category_on_cumulative_pages_fetches_each_article_once_and_stops_at_stored(replica, tmp_path):
    """Page N of a category repeats pages 1..N-1 (the live site's cumulative pages): each article is
    still one request, and a re-run stops at page 1 of each category, whose new cards are all stored."""
    site = replica(stories=300, hidden=12)
    truth = site.ground_truth()
    article_paths = {urlsplit(t["url"]).path for t in truth}
    settings = crawl_settings(site.base_url, tmp_path / "c.sqlite")
    site.hits(reset=True)
    first = await crawl("category", settings)
    assert first.reason == "finished" and first.errors == 0
    assert_matches_ground_truth(first.items, truth)
    paths = site.hits()["paths"]
    assert {p: n for p, n in paths.items() if p in article_paths} == {p: 1 for p in article_paths}
    assert first.stat("newsbot/cards/repeated") > 0 and any("/page/" in p for p in paths)
    site.hits(reset=True)
    again = await crawl("category", settings)
    paths = site.hits()["paths"]
    assert again.reason == "finished" and not again.items
    assert not set(paths) & article_paths and not [p for p in paths if "/page/" in p], sorted(paths)
    # New stories on top: page 1 of their categories has new cards, page 2's own cards are all stored
    # (its repeats of page 1 are not judged again, stored or still in flight): the walk stops there.
    site.publish(12)
    fresh = [t for t in site.ground_truth() if t["url"] not in {x["url"] for x in truth}]
    site.hits(reset=True)
    third = await crawl("category", settings)
    paths = site.hits()["paths"]
    assert third.reason == "finished"
    assert_matches_ground_truth(third.items, fresh)
    # No jump either: a page with stored cards on it is followed by its next page only.
    assert not [p for p in paths if re.search(r"/page/(?!2$)", p)], sorted(p for p in paths if "/page/" in p)


# Four categories of the en edition of a 1,200-story replica: 8, 8, 7 and 2 pages of 16 cards.
JUMP_CATEGORIES = "energy,foreign-politics,business,ict"


def category_walks(site, truth: list[dict]) -> dict[str, int]:
    """{listing path: its last page} of the en categories the JUMP_CATEGORIES crawl walks."""
    counts = Counter(urlsplit(t["url"]).path.split("/")[2] for t in truth)
    return {f"/en/{segment}": math.ceil(n / 16) for segment, n in counts.items()}


def page_hits(site, walks: dict[str, int]) -> dict[str, list[int]]:
    """{listing path: the page numbers requested, sorted} from the replica's hit counter."""
    requested = {path: [] for path in walks}
    for path, hits in site.hits()["paths"].items():
        match = re.fullmatch(r"(/en/[^/]+)(?:/page/(\d+))?", path)
        if match and match[1] in requested:
            requested[match[1]] += [int(match[2] or 1)] * hits
    return {path: sorted(pages) for path, pages in requested.items()}


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("past_end", ["404", "cap", "empty"])
async def test_category_jumps_ahead_on_cumulative_pages_and_stores_every_article(replica, tmp_path, past_end):
    """Cumulative pages (page N shows pages 1..N): the walks jump ahead instead of reading every page,
    and a jump past the end (404, every card again, or a page without cards) is walked back: every
    article is stored, each fetched once, with fewer listing pages than a page-by-page walk."""
    site = replica(stories=1200, category_past_end=past_end)
    truth = [t for t in site.ground_truth() if t["language"] == "en"
             and t["category_slug"] in JUMP_CATEGORIES.split(",")]
    walks = category_walks(site, truth)
    assert sorted(walks.values()) == [2, 7, 8, 8]
    site.hits(reset=True)
    result = await crawl("category", crawl_settings(site.base_url, tmp_path / "c.sqlite"), lang="en",
                         category=JUMP_CATEGORIES)
    assert result.reason == "finished" and result.errors == 0
    assert_matches_ground_truth(result.items, truth)
    requested = page_hits(site, walks)
    assert all(pages.count(1) == 1 and len(set(pages)) == len(pages) for pages in requested.values()), requested
    beyond = {path: [p for p in pages if p > walks[path]] for path, pages in requested.items()}
    linear = sum(walks.values())  # a page-by-page walk reads every page once
    if past_end == "cap":
        # Past the end is free: once the first walk found that out, one jump ends each walk.
        assert sum(map(len, requested.values())) <= linear // 2, requested
        assert sum(1 for pages in requested.values() if len(pages) == 2) >= 2, requested
    else:
        assert sum(map(len, requested.values())) < linear, requested
        # Each page past the end answered 404 or nothing new, and was counted so.
        assert sum(map(len, beyond.values())) == result.stat("newsbot/listing/past_end")
    assert result.stat("newsbot/listing/numbering") == "cumulative"
    assert result.stat("newsbot/listing/past_end_shows") == ("all" if past_end == "cap" else "none")
    assert result.stat("newsbot/listing/jumps") > 0


@pytest_twisted.ensureDeferred
async def test_category_jumps_to_the_last_page_the_pagination_names(replica, tmp_path):
    """A pagination that names the last page ("1 2 3 … 8"): on cumulative pages, page 1 and that page
    are each walk's only pages (the walk that found out they are cumulative read page 2 first, and
    the page after its last one to learn what the site answers there)."""
    site = replica(stories=1200, category_pagination="numbered")
    truth = [t for t in site.ground_truth() if t["language"] == "en"
             and t["category_slug"] in JUMP_CATEGORIES.split(",")]
    walks = category_walks(site, truth)
    site.hits(reset=True)
    result = await crawl("category", crawl_settings(site.base_url, tmp_path / "c.sqlite"), lang="en",
                         category=JUMP_CATEGORIES)
    assert result.reason == "finished" and result.errors == 0
    assert_matches_ground_truth(result.items, truth)
    requested = page_hits(site, walks)
    assert all(set(pages) <= {1, 2, last, last + 1} for (path, pages), last in zip(requested.items(), walks.values()))
    assert sum(map(len, requested.values())) <= 2 * len(walks) + 2, requested


@pytest_twisted.ensureDeferred
async def test_category_walks_classic_pages_one_by_one(replica, tmp_path):
    """Each page shows only its own 16 cards: no jump, every page once, nothing past the last one."""
    site = replica(stories=1200, category_pages="paged")
    truth = [t for t in site.ground_truth() if t["language"] == "en"
             and t["category_slug"] in JUMP_CATEGORIES.split(",")]
    walks = category_walks(site, truth)
    site.hits(reset=True)
    result = await crawl("category", crawl_settings(site.base_url, tmp_path / "c.sqlite"), lang="en",
                         category=JUMP_CATEGORIES)
    assert result.reason == "finished" and result.errors == 0
    assert_matches_ground_truth(result.items, truth)
    assert page_hits(site, walks) == {path: list(range(1, last + 1)) for path, last in walks.items()}
    assert result.stat("newsbot/listing/numbering") == "paged"
    assert result.stat("newsbot/listing/jumps") == 0 and result.stat("newsbot/cards/repeated") == 0


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("numbering", ["cumulative", "paged"])
async def test_category_jumps_keep_to_max_pages_and_since(replica, tmp_path, numbering):
    site = replica(stories=1200, category_pages=numbering)
    truth = [t for t in site.ground_truth() if t["language"] == "en"
             and t["category_slug"] in JUMP_CATEGORIES.split(",")]
    walks = category_walks(site, truth)
    # max_pages=5: the cards of pages 1..5 of each category, and no page after the fifth.
    first_five = []
    for path, last in walks.items():
        for number in range(1, min(last, 5) + 1) if numbering == "paged" else [min(last, 5)]:
            page = site.get(path if number == 1 else f"{path}/page/{number}")
            first_five += [c.url for c in parse_cards(Selector(text=page.text), site.base_url)]
    site.hits(reset=True)
    capped = await crawl("category", crawl_settings(site.base_url, tmp_path / "a.sqlite"), lang="en",
                         category=JUMP_CATEGORIES, max_pages="5")
    assert capped.reason == "finished" and capped.errors == 0
    assert sorted(i["url"] for i in capped.items) == sorted(set(first_five))
    assert max(p for pages in page_hits(site, walks).values() for p in pages) == 5
    # since: a window reaching a quarter of the way down each category; its walks stop at the first page
    # that shows a card older than since.
    newest = sorted((t["published_at"] for t in truth), reverse=True)
    since = newest[len(newest) // 4][:16]
    window = [t for t in truth if t["published_at"][:16] >= since]
    site.hits(reset=True)
    recent = await crawl("category", crawl_settings(site.base_url, tmp_path / "b.sqlite"), lang="en",
                         category=JUMP_CATEGORIES, since=since)
    assert recent.reason == "finished" and recent.errors == 0
    assert_matches_ground_truth(recent.items, window)
    requested = page_hits(site, walks)
    assert all(max(pages) < walks[path] for path, pages in requested.items() if walks[path] > 4), requested


@pytest_twisted.ensureDeferred
async def test_article_spider_recrawls_named_urls_even_when_stored(replica, tmp_path):
    site = replica(stories=20)
    truth = site.ground_truth()[:3]
    settings = crawl_settings(site.base_url, tmp_path / "e.sqlite")
    urls = ",".join(t["url"] for t in truth) + f",{site.base_url}/en/"
    first = await crawl("article", settings, url=urls)
    assert_matches_ground_truth(first.items, truth)
    assert first.stat("newsbot/skipped/not_an_article_url") == 1
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text("# re-crawl\n" + truth[0]["url"].removesuffix("/") + "\n", encoding="utf-8")
    again = await crawl("article", settings, urls_file=str(urls_file))
    # Fetched although stored; the store then knows it is unchanged.
    assert again.stat("newsbot/pages/article") == 1
    assert again.stat("newsbot/store/unchanged") == 1 and len(again.items) == 1


@pytest_twisted.ensureDeferred
async def test_js_only_feed_is_rendered_with_chromium(replica, tmp_path):
    site = replica(stories=60, js_feed=True)
    truth = [t for t in site.ground_truth() if t["language"] == "en"]
    newest = sorted(truth, key=lambda t: t["published_at"], reverse=True)
    result = await crawl("latest", crawl_settings(site.base_url, tmp_path / "f.sqlite"), lang="en")
    assert result.stat("newsbot/listing/rendered") >= 1
    assert result.stat("playwright/page_count") >= 1
    assert_matches_ground_truth(result.items, newest)

    never = await crawl("latest", crawl_settings(site.base_url, tmp_path / "g.sqlite", NEWSBOT_JS_MODE="never"),
                        lang="en")
    assert never.items == [] and never.reason == "no_listings"


def test_scrapy_crawl_exits_nonzero_when_the_crawl_is_broken(replica, tmp_path):
    site = replica(stories=30, faults=[{"match": r"^/en/(?!latest-news|infinity)[^/]+/[^/]+", "mode": "no_body"}])
    ok = scrapy_cli("crawl", "latest", "-a", "lang=az", "-s", f"NEWSBOT_BASE_URL={site.base_url}",
                    "-s", f"NEWSBOT_DB={tmp_path / 'ok.sqlite'}", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "NEWSBOT_LATEST_SINCE=")
    assert ok.returncode == 0, ok.stderr[-2000:]
    # Nothing needed a browser, so Playwright's driver was never started (the JS test starts it).
    assert "Starting download handler" not in ok.stderr and "Closing download handler" in ok.stderr
    # The telnet console (and the password it logs, which Scrapyd serves with the log) is off unless asked for.
    assert "Telnet Password" not in ok.stderr and "TelnetConsole" not in ok.stderr
    broken = scrapy_cli("crawl", "latest", "-a", "lang=en", "-s", f"NEWSBOT_BASE_URL={site.base_url}",
                        "-s", f"NEWSBOT_DB={tmp_path / 'broken.sqlite'}", "-s", "AUTOTHROTTLE_ENABLED=0",
                        "-s", "NEWSBOT_DEGRADED_MIN_PAGES=5", "-s", "NEWSBOT_LATEST_SINCE=")
    assert broken.returncode == 1
    assert "'finish_reason': 'extraction_degraded'" in broken.stderr
    assert f"Selector {selectors('body')!r} found nothing" in broken.stderr
    unreachable = scrapy_cli("crawl", "latest", "-s", "NEWSBOT_BASE_URL=http://127.0.0.1:9",
                             "-s", f"NEWSBOT_DB={tmp_path / 'none.sqlite'}", "-s", "RETRY_TIMES=0",
                             "-s", "TELNETCONSOLE_ENABLED=1")
    assert unreachable.returncode == 1
    assert "Telnet console listening" in unreachable.stderr
    assert "'finish_reason': 'site_unreachable'" in unreachable.stderr


def test_spider_arguments_are_checked(tmp_path):
    result = scrapy_cli("crawl", "latest", "-a", "lang=de", "-s", f"NEWSBOT_DB={tmp_path / 'x.sqlite'}")
    assert result.returncode != 0
    assert "lang must be a comma-separated subset of az,en,ru" in result.stderr


def test_since_accepts_dates_datetimes_and_durations():
    from newsbot.spiders.base import parse_moment

    now = datetime(2026, 1, 28, 12, 0, tzinfo=BAKU)
    assert parse_moment("6h", now=now) == datetime(2026, 1, 28, 6, 0, tzinfo=BAKU)
    assert parse_moment("2d", now=now) == datetime(2026, 1, 26, 12, 0, tzinfo=BAKU)
    assert parse_moment("2025-01-01") == datetime(2025, 1, 1, tzinfo=BAKU)
    assert parse_moment("2025-06-30", end_of_day=True).date().isoformat() == "2025-06-30"
    assert parse_moment("2025-06-30T10:00:00+00:00").utcoffset().total_seconds() == 0
    with pytest.raises(ValueError):
        parse_moment("last tuesday")


@pytest_twisted.ensureDeferred
async def test_category_walks_wait_while_the_scheduler_is_full(replica, tmp_path):
    """Jumps on cumulative pages add many cards at once: with the pacing, a walk's next page waits
    until the scheduler has drained below NEWSBOT_WALK_BACKLOG, so what is queued stays about a
    page of cards instead of the whole backfill, and every article is still stored once."""
    site = replica(stories=1000)
    truth = site.ground_truth()
    # {(edition, category): its last page}
    walks = {k: math.ceil(n / 16) for k, n in Counter((t["language"], t["category_slug"]) for t in truth).items()}
    # Two downloads at a time: discovery outruns the downloader, as on a big backfill.
    watch = {"EXTENSIONS": {"tests.watch.QueueWatch": 0},
             "CONCURRENT_REQUESTS": 2}
    results = {}
    for backlog in (0, 20):
        results[backlog] = await crawl("category", crawl_settings(
            site.base_url, tmp_path / f"c{backlog}.sqlite", NEWSBOT_WALK_BACKLOG=backlog, **watch))
        assert results[backlog].reason == "finished" and results[backlog].errors == 0
        assert_matches_ground_truth(results[backlog].items, truth)
    free, paced = results[0], results[20]
    assert free.stat("newsbot/listing/walk_paused") == 0 < paced.stat("newsbot/listing/walk_paused")
    # Paced, a page's new cards go in only as the queue has room (the rest held as links), and what
    # was let in counts as queued until the scheduler has it, so steps and released links never
    # overshoot the backlog: the rest are the walks' first pages and the home pages, which are not
    # paced. Unpaced, the walks run ahead of the downloader: here 38 queued at most against 246
    # (42 walks). (tests/test_sitemap.py bounds the paced queue at the backlog exactly.)
    assert paced.stat("newsbot/listing/articles_held") > 0 == free.stat("newsbot/listing/articles_held")
    assert paced.stat("test/max_queued") <= 20 + len(walks) + 3
    assert paced.stat("test/max_queued") < 0.5 * free.stat("test/max_queued")
    assert "newsbot/listing/articles_held_at_close" not in paced.stats
    assert paced.stat("downloader/request_count") <= free.stat("downloader/request_count") + len(walks)


@pytest_twisted.ensureDeferred
async def test_the_backfill_spiders_count_article_links_redirected_off_site_as_lost(replica, tmp_path):
    """The pacing keeps its own signal handlers, so the spider's check of where a request was
    redirected (Scrapy drops a link sent to another host without request_dropped) runs for the
    category and sitemap spiders too, as it does for latest."""
    moved = pick(english_paths(30), 1)[0]
    site = replica(stories=30, faults=[{"match": only(moved), "mode": "redirect",
                                        "location": "http://elsewhere.invalid/en/energy/moved-story/"}])
    for spider in ("category", "sitemap"):
        result = await crawl(spider, crawl_settings(site.base_url, tmp_path / f"{spider}.sqlite"), lang="en")
        assert result.stat("newsbot/lost/off_site") == 1, spider
