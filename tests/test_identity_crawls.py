"""Identity end to end (issue 12): real crawls of the replica whose stories change between runs —
an edition published a day later, titles (and so slugs) edited, links that point one way — end
with one article under one id and one story under one id, in the store and in its export, and
every multi-edition story's editions share one category key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pytest_twisted

from newsbot.store import Store
from tests.crawling import crawl, crawl_settings, scrapy_cli

STORIES = 40
LATE = 30  # enough to hold back some en editions of az+en stories, whose path is the smallest


def settings_for(base_url: str, db: Path):
    # Pages that lose their edition links on purpose would close the crawl as extraction_degraded.
    settings = crawl_settings(base_url, db)
    settings.set("NEWSBOT_FILL_FLOORS", {}, priority="cmdline")
    return settings


def story_indices(truth: list[dict]) -> list[list[dict]]:
    """The ground truth's stories in the replica's order (its editions are consecutive)."""
    stories: list[list[dict]] = []
    for record in truth:
        if stories and stories[-1][0]["story_id"] == record["story_id"]:
            stories[-1].append(record)
        else:
            stories.append([record])
    return stories


def by_story(db: Path) -> dict[str, list[dict]]:
    stories: dict[str, list[dict]] = {}
    with Store(db, readonly=True) as store:
        for article in store.iter_articles():
            stories.setdefault(article["story_id"], []).append(article)
    return stories


def assert_one_story_per_truth_story(db: Path, truth: list[dict]) -> None:
    """The store's stories are the ground truth's: the same editions together, one key each."""
    with Store(db, readonly=True) as store:
        stored = {a["url"]: a for a in store.iter_articles()}
    assert sorted(stored) == sorted(t["url"] for t in truth)
    groups: dict[str, set[str]] = {}
    for t in truth:
        groups.setdefault(t["story_id"], set()).add(stored[t["url"]]["story_id"])
    assert [ids for ids in groups.values() if len(ids) != 1] == [], "a story split in the store"
    assert len({next(iter(ids)) for ids in groups.values()}) == len(groups), "two stories share an id"
    mixed = {sid: {(a["language"], a["category_slug"]) for a in articles}
             for sid, articles in by_story(db).items() if len({a["category_slug"] for a in articles}) > 1}
    assert mixed == {}, "editions of one story with different category keys"


@pytest_twisted.ensureDeferred
async def test_an_edition_published_a_day_later_joins_its_story_under_the_first_id(replica, tmp_path):
    site = replica(stories=STORIES, late=LATE)
    db = tmp_path / "news.sqlite"
    settings = settings_for(site.base_url, db)
    first = await crawl("latest", settings)
    assert first.reason == "finished"
    before = {sid: {a["language"] for a in articles} for sid, articles in by_story(db).items()}
    site.publish_late()
    # Incremental: the earlier editions' cards did not change, so only the new pages are fetched;
    # their links alone join them to their stories.
    second = await crawl("latest", settings)
    assert second.reason == "finished"
    assert second.stat("newsbot/store/inserted") == LATE
    truth = site.ground_truth()
    assert_one_story_per_truth_story(db, truth)
    after = {sid: {a["language"] for a in articles} for sid, articles in by_story(db).items()}
    grown = {sid for sid in after if sid in before and after[sid] != before[sid]}
    assert len(grown) == LATE, (before, after)
    assert set(before) == set(after), "a story changed its id as an edition joined it"
    # The test can tell: some late editions hold the smallest path of their story, so they
    # propose another id than the story had (the ground truth's), and still took the story's.
    assert grown - {t["story_id"] for t in truth}, "no late edition proposed another id: hold back others"



@pytest.mark.parametrize("old", ["301", "404"])
@pytest_twisted.ensureDeferred
async def test_an_edited_slug_is_one_article_under_its_first_id_with_the_new_url(old, replica, tmp_path):
    site = replica(stories=STORIES, renamed_old=old)
    db = tmp_path / "news.sqlite"
    settings = settings_for(site.base_url, db)
    await crawl("latest", settings)
    before = {t["url"]: t for t in site.ground_truth()}
    with Store(db, readonly=True) as store:
        ids = {a["url"]: a["article_id"] for a in store.iter_articles()}
    # Stories whose every page shows its short link (site_id): a page without one cannot be told
    # from a new article once its slug changes.
    renamed = [i for i, editions in enumerate(story_indices(list(before.values())))
               if all(e["site_id"] for e in editions) and len(editions) > 1][:2]
    assert len(renamed) == 2
    for story in renamed:
        site.rename(story)
    again = await crawl("latest", settings)
    assert again.reason == "finished"
    truth = site.ground_truth()
    new_urls = sorted(set(t["url"] for t in truth) - set(before))
    old_urls = sorted(set(before) - set(t["url"] for t in truth))
    assert len(new_urls) == len(old_urls) >= len(renamed)
    assert again.stat("newsbot/store/slug_edits") == len(new_urls)
    assert_one_story_per_truth_story(db, truth)
    with Store(db, readonly=True) as store:
        stored = {a["url"]: a for a in store.iter_articles()}
        found = store.lookup(old_urls + new_urls)
    # Same ids as before the edit; the current URL and title; both URLs find the article.
    by_site_id = {t["site_id"]: t for t in before.values()}
    for url in new_urls:
        article = stored[url]
        first = by_site_id[article["site_id"]]
        assert article["article_id"] == ids[first["url"]]
        assert article["title"] != first["title"]
    assert {found[u].article_id for u in old_urls} == {found[u].article_id for u in new_urls}
    # The export shows the current URL only.
    exported = scrapy_cli("export", "--db", str(db))
    assert exported.returncode == 0, exported.stderr
    urls = [json.loads(line)["url"] for line in exported.stdout.splitlines()]
    assert sorted(urls) == sorted(t["url"] for t in truth)


@pytest_twisted.ensureDeferred
async def test_pages_that_link_no_other_edition_still_end_in_one_story_when_a_sibling_links_them(replica,
                                                                                                tmp_path):
    # Every ru page shows no edition links: only the az and en pages link it (one-way links).
    site = replica(stories=STORIES, faults=[{"match": r"^/ru/", "mode": "no_translations"}])
    db = tmp_path / "news.sqlite"
    done = await crawl("latest", settings_for(site.base_url, db))
    assert done.reason == "finished"
    truth = site.ground_truth()
    assert any(t["language"] == "ru" and len(t["translations"]) for t in truth)
    assert_one_story_per_truth_story(db, truth)


@pytest.mark.parametrize("order", [("az", "en", "ru"), ("ru", "en", "az")])
@pytest_twisted.ensureDeferred
async def test_editions_crawled_one_at_a_time_in_either_order_end_in_the_same_stories(order, replica, tmp_path):
    # One-way links: az pages link none, so the order decides which page shows the story first.
    site = replica(stories=STORIES, faults=[{"match": r"^/(?!en/|ru/)[^_]", "mode": "no_translations"}])
    db = tmp_path / "news.sqlite"
    settings = settings_for(site.base_url, db)
    for lang in order:
        done = await crawl("latest", settings, lang=lang)
        assert done.reason == "finished"
    assert_one_story_per_truth_story(db, site.ground_truth())


def test_two_shards_each_holding_editions_of_the_same_stories_merge_into_one_story_each(replica, tmp_path):
    site = replica(stories=STORIES)
    truth = site.ground_truth()
    shards = []
    for name, langs in (("one", "az,en"), ("two", "ru")):
        db = tmp_path / f"{name}.sqlite"
        done = scrapy_cli("crawl", "latest", "-a", f"lang={langs}", "-s", f"NEWSBOT_BASE_URL={site.base_url}",
                          "-s", f"NEWSBOT_DB={db}", "-s", "NEWSBOT_LATEST_SINCE=", "-s", "AUTOTHROTTLE_ENABLED=0",
                          "-s", "DOWNLOAD_DELAY=0", "-s", "TELNETCONSOLE_ENABLED=0")
        assert done.returncode == 0, done.stderr[-2000:]
        shards.append(db)
    merged = tmp_path / "merged.sqlite"
    result = scrapy_cli("merge", *map(str, shards), "--db", str(merged))
    assert result.returncode == 0, result.stderr
    assert_one_story_per_truth_story(merged, truth)
