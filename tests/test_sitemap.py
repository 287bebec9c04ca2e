"""The `sitemap` spider (issue 14): backfills through the replica's sitemaps over real sockets.

The replica's index lists one shard per Baku publication day (tests/replica/server.py). A backfill of
a window reads the index and the shards of the window's days, and fetches each article page of the
window once: requests = articles + 1 index + the window's shards + robots.txt, nothing more.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest
import pytest_twisted

from newsbot.store import Store
from tests.crawling import assert_matches_ground_truth, crawl, crawl_settings, scrapy_cli
from tests.test_usage_errors import assert_no_request, assert_usage_error, crawl_cli

STORIES = 300
SINCE, UNTIL = "2026-01-10", "2026-01-20"
INDEX = "/sitemap-posts-archive.xml"
SHARDS = "/sitemap-posts-archive/"
FALLBACK_LINE = "No sitemap index at "


def in_window(truth: list[dict], since: str = SINCE, until: str = UNTIL) -> list[dict]:
    return [t for t in truth if since <= t["published_at"][:10] <= until]


def days(records: list[dict]) -> set[str]:
    return {t["published_at"][:10] for t in records}


def article_hits(site, truth: list[dict]) -> dict[str, int]:
    """Replica hits on the article pages of the whole ground truth, by path."""
    paths = {urlsplit(t["url"]).path for t in truth}
    return {p: n for p, n in site.hits()["paths"].items() if p in paths}


def sitemap_hits(site) -> dict[str, int]:
    return {p: n for p, n in site.hits()["paths"].items() if p == INDEX or p.startswith(SHARDS)
            or p == "/news-sitemap.xml"}


@pytest.fixture
def site(replica):
    return replica(stories=STORIES)


@pytest_twisted.ensureDeferred
async def test_a_window_is_backfilled_once_with_one_request_per_article_and_a_rerun_fetches_none(site, tmp_path):
    truth = site.ground_truth()
    # A story published before the window, edited now: its shard's lastmod moves into the window,
    # but the shard's date (and the next shard's) say it holds nothing published since then.
    before = next(t for t in truth if t["published_at"][:10] == "2026-01-05")
    # The ground truth lists the stories newest first, as the replica numbers them (nothing hidden).
    story_ids = list(dict.fromkeys(t["story_id"] for t in truth))
    site.edit(story_ids.index(before["story_id"]))
    truth = site.ground_truth()
    window = in_window(truth)
    assert window and len(window) < len(truth)
    all_days = days(truth)
    window_days = days(window)
    settings = crawl_settings(site.base_url, tmp_path / "s.sqlite")
    site.hits(reset=True)
    result = await crawl("sitemap", settings, since=SINCE, until=UNTIL)
    assert result.reason == "finished" and result.errors == 0
    assert_matches_ground_truth(result.items, window)
    hits = site.hits()
    articles = article_hits(site, truth)
    assert articles == {urlsplit(t["url"]).path: 1 for t in window}
    sitemaps = sitemap_hits(site)
    assert sitemaps == {INDEX: 1, **{f"{SHARDS}{day}.xml": 1 for day in window_days}}
    # The exact bound: every request is an article page of the window, the index, a shard of one
    # of the window's days, or robots.txt. (The target, <= 1.05 requests per article plus
    # the sitemaps, follows; how close to 1.0 it gets is the shards-per-article ratio: bench/backfill.py.)
    assert hits["total"] == len(window) + len(sitemaps) + hits["paths"].get("/robots.txt", 0)
    assert hits["total"] <= 1.05 * len(window) + len(sitemaps) + 1
    newer = {d for d in all_days if d > UNTIL}
    older = {d for d in all_days if d < SINCE}
    assert result.stat("newsbot/sitemap/shards") == len(window_days)
    assert result.stat("newsbot/sitemap/shards_skipped") == len(newer) + len(older)
    assert result.stat("newsbot/sitemap/shards_skipped/after_until") == len(newer)
    # Every older shard but the edited one is skipped on its lastmod, the edited one on its date.
    assert result.stat("newsbot/sitemap/shards_skipped/lastmod_before_since") == len(older) - 1
    assert result.stat("newsbot/sitemap/shards_skipped/before_since") == 1
    assert result.stat("newsbot/sitemap/entries") == len(window)
    assert result.stat("newsbot/sitemap/fallback") == 0

    site.hits(reset=True)
    again = await crawl("sitemap", settings, since=SINCE, until=UNTIL)
    assert again.reason == "finished" and again.errors == 0 and not again.items
    assert article_hits(site, truth) == {}
    assert sitemap_hits(site) == sitemaps
    assert again.stat("newsbot/sitemap/already_stored") == len(window)
    with Store(tmp_path / "s.sqlite", readonly=True) as store:
        assert store.count_articles() == len(window)

    # refresh=1: stored or not, every page of the window once more.
    site.hits(reset=True)
    refreshed = await crawl("sitemap", settings, since=SINCE, until=UNTIL, refresh="1")
    assert refreshed.reason == "finished"
    assert article_hits(site, truth) == {urlsplit(t["url"]).path: 1 for t in window}


@pytest_twisted.ensureDeferred
async def test_lang_and_max_pages_choose_editions_and_shards(site, tmp_path):
    truth = site.ground_truth()
    window = in_window(truth)
    english = [t for t in window if t["language"] == "en"]
    site.hits(reset=True)
    result = await crawl("sitemap", crawl_settings(site.base_url, tmp_path / "en.sqlite"), since=SINCE, until=UNTIL,
                         lang="en")
    assert result.reason == "finished" and result.errors == 0
    assert_matches_ground_truth(result.items, english)
    assert article_hits(site, truth) == {urlsplit(t["url"]).path: 1 for t in english}
    assert result.stat("newsbot/sitemap/other_edition") == len(window) - len(english)

    # max_pages=2: the index's first two shards in the window, its newest days.
    newest = sorted(days(window), reverse=True)[:2]
    site.hits(reset=True)
    capped = await crawl("sitemap", crawl_settings(site.base_url, tmp_path / "cap.sqlite"), since=SINCE,
                         until=UNTIL, max_pages="2")
    assert capped.reason == "finished"
    assert_matches_ground_truth(capped.items, [t for t in window if t["published_at"][:10] in newest])
    assert set(sitemap_hits(site)) == {INDEX} | {f"{SHARDS}{day}.xml" for day in newest}


@pytest_twisted.ensureDeferred
async def test_without_sitemaps_it_says_so_once_and_backfills_through_the_listings(replica, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    site = replica(stories=STORIES, sitemaps=False)
    truth = site.ground_truth()
    window = in_window(truth)
    site.hits(reset=True)
    result = await crawl("sitemap", crawl_settings(site.base_url, tmp_path / "f.sqlite"), since=SINCE, until=UNTIL)
    assert result.reason == "finished" and result.errors == 0
    assert_matches_ground_truth(result.items, window)
    assert article_hits(site, truth) == {urlsplit(t["url"]).path: 1 for t in window}
    said = [r.getMessage() for r in caplog.records if FALLBACK_LINE in r.getMessage()]
    assert len(said) == 1 and "HTTP 404" in said[0] and "category listings" in said[0], said
    assert result.stat("newsbot/sitemap/fallback") == 1
    assert result.stat("newsbot/listing/pages") > 0 and result.stat("newsbot/sitemap/shards") == 0


def stored_ids(db) -> tuple[set[str], set[str]]:
    with Store(db, readonly=True) as store:
        rows = list(store.iter_articles())
    return {r["article_id"] for r in rows}, {r["story_id"] for r in rows}


def test_two_nodes_split_the_shards_and_merge_into_the_single_node_crawl(site, tmp_path):
    truth = site.ground_truth()
    window = in_window(truth)

    def backfill(db, *args: str) -> None:
        done = scrapy_cli("crawl", "sitemap", "-a", f"since={SINCE}", "-a", f"until={UNTIL}", *args,
                          "-s", f"NEWSBOT_BASE_URL={site.base_url}", "-s", f"NEWSBOT_DB={db}",
                          "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0", "-s", "TELNETCONSOLE_ENABLED=0")
        assert done.returncode == 0, done.stderr[-3000:]

    single = tmp_path / "single.sqlite"
    backfill(single)
    parts = []
    for k in (1, 2):
        parts.append(tmp_path / f"part{k}.sqlite")
        backfill(parts[-1], "-a", f"shards={k}/2")
    one, two = (stored_ids(p)[0] for p in parts)
    assert one and two and not one & two  # each node its own days
    merged = tmp_path / "merged.sqlite"
    result = scrapy_cli("merge", *map(str, parts), "--db", str(merged))
    assert result.returncode == 0, result.stderr[-3000:]
    assert stored_ids(merged) == stored_ids(single)
    assert len(stored_ids(single)[0]) == len(window)
    assert len(stored_ids(single)[1]) == len({t["story_id"] for t in window})


@pytest.mark.parametrize("value, message", [
    ("3/2", "crawl: error: shards: K/N needs 1 <= K <= N; got '3/2'"),
    ("half", "crawl: error: shards: not K/N (the K-th of N parts, e.g. 1/2): 'half'"),
    ("0/2", "crawl: error: shards: K/N needs 1 <= K <= N; got '0/2'"),
])
def test_a_bad_shards_argument_is_a_usage_error(replica, tmp_path, value, message):
    site = replica(stories=12)
    site.hits(reset=True)
    assert_usage_error(crawl_cli(site, tmp_path, "sitemap", "-a", f"shards={value}"), message)
    assert_no_request(site)


@pytest_twisted.ensureDeferred
async def test_shards_without_dates_are_judged_by_lastmod_and_the_page_by_its_date(replica, tmp_path):
    """Shard names that tell no dates (N.xml): only <lastmod> can skip a shard, and an entry edited
    after since may still be a page published before it, which is fetched but not kept."""
    site = replica(stories=STORIES, numbered_shards=True)
    since, until = "2026-01-10T12:00:00+04:00", "2026-01-20T12:00:00+04:00"
    truth = site.ground_truth()
    story_ids = list(dict.fromkeys(t["story_id"] for t in truth))
    early = next(t for t in truth if t["published_at"][:10] == "2026-01-10" and t["published_at"] < since)
    site.edit(story_ids.index(early["story_id"]))
    truth = site.ground_truth()
    window = [t for t in truth if since <= t["published_at"] <= until]
    older_days = {d for d in days(truth) if d < "2026-01-10"}
    site.hits(reset=True)
    result = await crawl("sitemap", crawl_settings(site.base_url, tmp_path / "n.sqlite"),
                         since="2026-01-10T12:00", until="2026-01-20T12:00")
    assert result.reason == "finished" and result.errors == 0
    assert_matches_ground_truth(result.items, window)
    shards = set(sitemap_hits(site)) - {INDEX}
    assert shards and all(p.removeprefix(SHARDS).removesuffix(".xml").isdigit() for p in shards)
    assert result.stat("newsbot/sitemap/shards_skipped/lastmod_before_since") == len(older_days)
    assert result.stat("newsbot/sitemap/shards") == len(days(truth)) - len(older_days)
    # Fetched and judged on the page: the edited early story's editions and everything after until.
    after = [t for t in truth if t["published_at"] > until]
    edited = [t for t in truth if t["story_id"] == early["story_id"]]
    assert result.stat("newsbot/sitemap/page_outside_window") == len(after) + len(edited)
    with Store(tmp_path / "n.sqlite", readonly=True) as store:
        assert store.count_articles() == len(window)


@pytest_twisted.ensureDeferred
async def test_shards_wait_while_the_scheduler_is_full_and_every_article_is_stored_once(replica, tmp_path):
    """An index names every shard at once and each shard thousands of links: paced
    (NEWSBOT_WALK_BACKLOG), a shard is read only while no links are held, and its links go into
    the scheduler as it has room, so the queue stays about the backlog, not the whole backfill."""
    site = replica(stories=600)
    truth = site.ground_truth()
    assert len(days(truth)) > 10  # shards, one a day: more than the two steps out at a time
    # Two downloads at a time: the sitemaps outrun the downloader, as on a big backfill.
    watch = {"EXTENSIONS": {"tests.watch.QueueWatch": 0}, "CONCURRENT_REQUESTS": 2}
    results = {}
    for backlog in (0, 20):
        site.hits(reset=True)
        results[backlog] = await crawl("sitemap", crawl_settings(
            site.base_url, tmp_path / f"s{backlog}.sqlite", NEWSBOT_WALK_BACKLOG=backlog, **watch))
        assert results[backlog].reason == "finished" and results[backlog].errors == 0
        assert_matches_ground_truth(results[backlog].items, truth)
        assert article_hits(site, truth) == {urlsplit(t["url"]).path: 1 for t in truth}
        assert set(sitemap_hits(site).values()) == {1}
    free, paced = results[0], results[20]
    assert free.stat("newsbot/listing/articles_held") == 0 == free.stat("newsbot/listing/walk_paused")
    assert paced.stat("newsbot/listing/articles_held") > 0 and paced.stat("newsbot/listing/walk_paused") > 0
    # Paced: at most the backlog, and the index and the news sitemap (not paced) before it. Unpaced:
    # the shards' links as fast as they come (here 159 against 20, 42 shards, 1,634 articles).
    assert paced.stat("test/max_queued") <= 20 + 2
    assert free.stat("test/max_queued") > 4 * paced.stat("test/max_queued")
    assert "newsbot/listing/articles_held_at_close" not in paced.stats
    assert paced.stat("downloader/request_count") == free.stat("downloader/request_count")
