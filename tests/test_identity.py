"""Identity in the store (issue 12): one article under one id whatever the spelling or slug of its
URL, one story under one id whatever order or shard its edition links came from, one category key
for every edition of a story. Real SQLite files, and the same on a real PostgreSQL where the `db`
fixture gives both."""

from __future__ import annotations

import hashlib
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsbot.normalize import article_id, content_hash, story_id
from newsbot.store import SCHEMA_VERSION, Store
from newsbot.store.identity import assign_stories, learn_categories
from tests.conftest import rows
from tests.test_store import edition_url, make_item, sql

LANGS = ("az", "en", "ru")


def linked(n: int, lang: str, links: tuple[str, ...], *, category: str = "energy",
           slug_url: str | None = None, **overrides: Any):
    """make_item(n, lang) linking only the editions in `links` (one-way links, late editions)."""
    item = make_item(n, lang, category=category, **overrides)
    if slug_url is not None:
        item["url"] = slug_url
        item["article_id"] = article_id(slug_url)
    item["translations"] = [t for t in item["translations"] if t["language"] in links]
    item["story_id"] = story_id([item["url"]] + [t["url"] for t in item["translations"]])
    item["content_hash"] = content_hash({k: item.get(k) for k in (
        "title", "body", "category_slug", "published_at", "tags", "images", "translations")})
    return item


def stories_of(store: Store) -> dict[str, set[str]]:
    stories: dict[str, set[str]] = {}
    for article in store.iter_articles():
        stories.setdefault(article["story_id"], set()).add(article["language"])
    return stories


# --- the pure decisions ------------------------------------------------------------


def test_assign_stories_keeps_stored_ids_merges_to_the_smaller_and_proposes_for_new_components() -> None:
    # A new component takes the smallest proposal; nodes already stored keep their story.
    fresh = assign_stories([("p2", ["a", "b"]), ("p1", ["b", "c"]), ("p9", ["x"])], {})
    assert fresh.stories == ["p1", "p1", "p9"] and fresh.merged == {}
    assert fresh.new_nodes == {"a": "p1", "b": "p1", "c": "p1", "x": "p9"}
    grown = assign_stories([("p0", ["d", "a"])], {"a": "s5"})
    assert grown.stories == ["s5"] and grown.new_nodes == {"d": "s5"} and grown.merged == {}
    # One page linking two stored stories joins them: the smaller id survives.
    joined = assign_stories([("p0", ["e", "a", "z"])], {"a": "s5", "z": "s3"})
    assert joined.stories == ["s3"] and joined.merged == {"s5": "s3"}
    # A shard's story ids compete with the stored ones.
    shard = assign_stories([("s1", ["z", "q"])], {"z": "s3"}, proposals_are_ids=True)
    assert shard.stories == ["s1"] and shard.merged == {"s3": "s1"}


def test_learn_categories_takes_a_known_key_else_the_english_slug_and_never_relearns() -> None:
    assert learn_categories({"s": [("az", "futbol-xeberleri"), ("en", "football")]}, {}) == {
        ("az", "futbol-xeberleri"): "football"}
    assert learn_categories({"s": [("az", "neftgaz"), ("en", "energy"), ("ru", "tek")]}, {}) == {
        ("az", "neftgaz"): "energy", ("ru", "tek"): "energy"}
    assert learn_categories({"s": [("az", "futbol-xeberleri")]}, {}) == {}  # one edition teaches nothing
    assert learn_categories({"s": [("az", "futbol-xeberleri"), ("en", "soccer")]},
                            {("az", "futbol-xeberleri"): "football"}) == {("en", "soccer"): "football"}


# --- articles -----------------------------------------------------------------------


def test_both_spellings_of_a_link_are_one_article_and_the_url_follows_the_last_fetch(db) -> None:
    slash = edition_url(1, "en")
    plain = slash.rstrip("/")
    with Store(db) as store:
        store.write([make_item(1)])
        again = make_item(1, crawled_at="2026-01-29T08:00:00Z")
        again["url"] = plain
        again["article_id"] = article_id(plain)
        result = store.write([again])
        assert (result.inserted, result.unchanged) == (0, 1)
        assert store.count_articles() == 1
        [article] = store.iter_articles()
        assert article["url"] == plain and article["article_id"] == article_id(slash) == article_id(plain)
        assert set(store.lookup([slash, plain])) == {slash, plain}


def test_an_edited_slug_is_a_revision_of_the_same_article_and_the_old_url_stays_an_alias(db) -> None:
    old = edition_url(1, "en")
    new = old.replace("story-1", "story-1-corrected")
    with Store(db) as store:
        store.write([make_item(1), make_item(1, "az")])
        first_id = article_id(old)
        edited = make_item(1, title="Story 1 (en), corrected", crawled_at="2026-01-29T08:00:00Z")
        edited["url"], edited["article_id"] = new, article_id(new)
        result = store.write([edited])
        assert (result.inserted, result.updated, result.slug_edits) == (0, 1, 1)
        articles = {a["language"]: a for a in store.iter_articles()}
        assert len(articles) == 2
        assert (articles["en"]["article_id"], articles["en"]["url"]) == (first_id, new)
        assert articles["en"]["title"] == "Story 1 (en), corrected"
        assert articles["en"]["story_id"] == articles["az"]["story_id"]
        assert {url: a.article_id for url, a in store.lookup([old, new]).items()} == {old: first_id, new: first_id}
    assert rows(db, "SELECT revision FROM articles WHERE article_id = ?", first_id) == [(2,)]
    assert sorted(rows(db, "SELECT url FROM article_urls WHERE article_id = ?", first_id)) == sorted([(old,), (new,)])
    # Another edition's site_id is no match: an az page at the new en URL would be its own article.


# --- stories ------------------------------------------------------------------------


def test_an_edition_published_a_day_later_joins_its_story_under_the_same_id(db) -> None:
    with Store(db) as store:
        store.write([linked(1, "az", ("en",)), linked(1, "en", ("az",))])
        [(first_id, langs)] = stories_of(store).items()
        assert langs == {"az", "en"}
        later = "2026-01-29T17:00:00Z"
        store.write([linked(1, "ru", ("az", "en"), crawled_at=later), linked(1, "az", LANGS, crawled_at=later),
                     linked(1, "en", LANGS, crawled_at=later)])
        assert stories_of(store) == {first_id: set(LANGS)}


def test_one_way_links_make_one_story_in_either_crawl_order(tmp_path: Path) -> None:
    # az links ru, ru links nobody, en links az: no page shows all three, and which page proposes
    # the story's id depends on the order ("/en/..." is the smallest path, "/energetika/..." next).
    pages = {"az": linked(1, "az", ("ru",)), "ru": linked(1, "ru", ()), "en": linked(1, "en", ("az",))}
    assert len({p["story_id"] for p in pages.values()}) == 3
    for order in (("az", "ru", "en"), ("en", "ru", "az")):
        with Store(tmp_path / f"{''.join(order)}.sqlite") as store:
            for lang in order:  # one run per edition, as a crawl of one listing at a time
                store.write([pages[lang]])
            stories = stories_of(store)
            assert list(stories.values()) == [set(LANGS)], order
            [story] = stories
            assert {a["story_id"] for a in store.iter_articles(story=story)} == {story}
            # The first page's id stands while pages only join (az, ru, en); two stories that a
            # later page joins (en, then ru alone, then az) keep the smaller id.
            first = pages[order[0]]["story_id"]
            expected = first if order[0] == "az" else min(pages["en"]["story_id"], pages["ru"]["story_id"])
            assert story == expected, order


def test_a_link_that_joins_two_stories_merges_them_and_the_loser_id_stays_an_alias(db) -> None:
    with Store(db) as store:
        store.write([linked(1, "az", ())])
        store.write([linked(1, "ru", ())])
        before = stories_of(store)
        assert len(before) == 2
        store.write([linked(1, "en", ("az", "ru"))])
        after = stories_of(store)
        assert list(after.values()) == [set(LANGS)]
        survivor = next(iter(after))
        assert survivor == min(before)
        loser = max(before)
        assert store.story_of(loser) == survivor and store.story_of(survivor) == survivor
        assert [a["story_id"] for a in store.iter_articles(story=survivor)] == [survivor] * 3
        # An earlier export's id still finds the story, under its current id.
        assert [a["story_id"] for a in store.iter_articles(story=loser)] == [survivor] * 3
    assert rows(db, "SELECT alias, story_id FROM story_aliases") == [(loser, survivor)]
    assert rows(db, "SELECT DISTINCT story_id FROM story_nodes") == [(survivor,)]
    assert rows(db, "SELECT story_id, editions FROM stories") == [(survivor, 3)]


def test_two_shards_that_each_hold_part_of_a_story_merge_into_one(db, tmp_path: Path) -> None:
    one, two, main = tmp_path / "one.sqlite", tmp_path / "two.sqlite", db
    with Store(one) as store:
        store.write([linked(1, "az", ("en",)), linked(1, "en", ("az",)), make_item(2)])
    with Store(two) as store:
        store.write([linked(1, "ru", ()), make_item(3)])  # the ru page links nobody
    with Store(two) as store:
        store.write([linked(1, "ru", ("en",), crawled_at="2026-01-29T17:00:00Z")])  # ... until an edit
    with Store(main) as store:
        store.merge_from(one)
        store.merge_from(two)
        stories = stories_of(store)
        assert sorted(map(sorted, stories.values())) == [["az", "en", "ru"], ["en"], ["en"]]
        again = [store.merge_from(one), store.merge_from(two)]
        assert [(r.added, r.updated) for r in again] == [(0, 0), (0, 0)]
        assert stories_of(store) == stories
        # Every url spelling of every article is known to the merged store.
        assert len(store.lookup([edition_url(n, lang) for n in (1,) for lang in LANGS])) == 3


def test_a_shards_two_urls_of_one_article_here_merge_into_it(db, tmp_path: Path) -> None:
    """The target knows a slug edit; the shard, which never saw the site_id that tells, holds the old
    and the new URL as two articles: they merge into the target's one, children and all."""
    edited_url = edition_url(1, "en").replace("story-1", "story-1-edited")

    def edited(**overrides: Any):
        return make_item(1, url=edited_url, article_id=article_id(edited_url), body="Edited body.",
                         crawled_at="2026-01-28T18:00:00Z", **overrides)

    shard = tmp_path / "shard.sqlite"
    with Store(shard) as store:
        store.write([make_item(1, site_id=None)])
        store.write([edited(site_id=None)])
        assert store.count_articles() == 2
    with Store(db) as store:
        store.write([make_item(1)])
        store.write([edited()])
        result = store.merge_from(shard)
        assert (result.added, result.updated) == (0, 0)
        [article] = store.iter_articles()
        assert (article["url"], article["body"], len(article["tags"])) == (edited_url, "Edited body.", 2)


# --- categories -----------------------------------------------------------------------


def test_an_unknown_slug_learns_the_key_of_a_linked_edition_and_earlier_rows_follow(db) -> None:

    def football(n: int, lang: str, links: tuple[str, ...], slug: str):
        item = linked(n, lang, links)
        item["category_slug"] = slug
        return item

    with Store(db) as store:
        store.write([football(5, "az", (), "futbol-xeberleri")])  # az alone: nothing to learn from
        assert [a["category_slug"] for a in store.iter_articles()] == ["futbol-xeberleri"]
        result = store.write([football(6, "az", ("en",), "futbol-xeberleri"), football(6, "en", ("az",), "football")])
        assert result.categories_learned == 1
        store.write([football(7, "az", (), "futbol-xeberleri")])  # later, alone again
        slugs = {(a["language"], a["article_id"]): a["category_slug"] for a in store.iter_articles()}
        assert set(slugs.values()) == {"football"}, slugs
        assert store.identity_summary()["learned"] == [("az", "futbol-xeberleri", "football")]


# --- schema v4 from an older store ------------------------------------------------------


def _old_id(url: str) -> str:
    # Before v4, ids were the hash of the path with a trailing slash added.
    path = urlsplit(url).path
    return hashlib.sha1((path if path.endswith("/") else path + "/").encode()).hexdigest()[:16]


def test_a_v3_store_migrates_with_ids_rekeyed_aliases_kept_and_split_stories_joined(tmp_path: Path) -> None:
    db = tmp_path / "v3.sqlite"
    conn = sqlite3.connect(db)
    for name in ("schema_v1.sql", "migrate_v1_v2.sql", "migrate_v2_v3.sql"):
        conn.executescript(resources.files("newsbot").joinpath(f"data/{name}").read_text("utf-8"))
    # Story 1: az and en linked, ru stored under a story id of its own (it linked az only, and
    # v3's story_id was the smallest path of the links a page showed: the two disagreed).
    rows = [("az", ("en",), "s-az-en"), ("en", ("az",), "s-az-en"), ("ru", ("az",), "s-ru")]
    for lang, links, story in rows:
        url = edition_url(1, lang)
        conn.execute(
            "INSERT INTO articles (article_id, url, source, language, title, lead, body, word_count, published_at, "
            "published_at_utc, category, category_slug, story_id, crawled_at, content_hash, first_seen_at, "
            "last_crawled_at, site_id) VALUES (?, ?, 'report.az', ?, ?, '', 'Body.', 1, '', '', 'Energy', 'energy', "
            "?, '2026-01-28T17:00:00Z', ?, '2026-01-28T17:00:00Z', '2026-01-28T17:00:00Z', NULL)",
            (_old_id(url), url, lang, f"Story 1 ({lang})", story, "h" + lang))
        conn.executemany("INSERT INTO translations (article_id, language, url, title) VALUES (?, ?, ?, '')",
                         [(_old_id(url), other, edition_url(1, other)) for other in links])
        conn.execute("INSERT INTO tags (article_id, position, tag) VALUES (?, 0, 'SOCAR')", (_old_id(url),))
    conn.commit()
    conn.close()
    assert sql(db, "PRAGMA user_version") == [(3,)]

    with Store(db) as store:
        assert store.schema_version == SCHEMA_VERSION == 9
        articles = {a["language"]: a for a in store.iter_articles()}
        assert {lang: a["article_id"] for lang, a in articles.items()} == {
            lang: article_id(edition_url(1, lang)) for lang in LANGS}
        assert all(a["tags"] == ["SOCAR"] for a in articles.values())
        assert len({a["story_id"] for a in articles.values()}) == 1
        assert articles["az"]["story_id"] == "s-az-en" == store.story_of("s-ru")
        # A later crawl of the page as the site now writes it (no slash) finds it.
        assert len(store.lookup([edition_url(1, lang).rstrip("/") for lang in LANGS])) == 3
    assert sorted(sql(db, "SELECT alias, reason FROM article_aliases")) == sorted(
        (_old_id(edition_url(1, lang)), "rekeyed") for lang in LANGS)
    assert sql(db, "PRAGMA foreign_key_check") == []


def test_the_json_lines_journal_shows_the_ids_the_store_gave(db, tmp_path: Path) -> None:
    import json

    from newsbot.pipelines.jsonlines import JsonLinesFile

    journal = JsonLinesFile(tmp_path / "news.jsonl")
    journal.open()
    with Store(db) as store:
        store.open_journal(journal)
        store.write([linked(1, "az", ())], journal)
        store.write([linked(1, "ru", ())], journal)
        store.write([linked(1, "en", ("az", "ru"))], journal)  # joins the two: the smaller id survives
        renamed = linked(1, "en", ("az", "ru"), title="Story 1 (en), corrected", crawled_at="2026-01-29T08:00:00Z",
                         slug_url=edition_url(1, "en").replace("story-1", "story-1-corrected"))
        store.write([renamed], journal)
        [survivor] = stories_of(store)
    journal.close()
    lines = [json.loads(line) for line in (tmp_path / "news.jsonl").read_text("utf-8").splitlines()]
    assert [(r["language"], r["story_id"] == survivor) for r in lines] == [
        ("az", survivor == lines[0]["story_id"]), ("ru", survivor == lines[1]["story_id"]), ("en", True), ("en", True)]
    # The edited article's line carries its first id and its new URL.
    assert (lines[3]["article_id"], lines[3]["url"]) == (lines[2]["article_id"], renamed["url"])


def test_an_older_crawl_of_an_edited_article_changes_neither_its_content_nor_its_url(db) -> None:
    old = edition_url(1, "en")
    new = old.replace("story-1", "story-1-corrected")
    edited = make_item(1, title="Story 1 (en), corrected", crawled_at="2026-01-29T08:00:00Z")
    edited["url"], edited["article_id"] = new, article_id(new)
    with Store(db) as store:
        store.write([edited])
        # Another process, slower, writes what it fetched before the edit: stale, under the same id.
        result = store.write([make_item(1, crawled_at="2026-01-28T17:00:00Z")])
        assert (result.inserted, result.stale) == (0, 1)
        [article] = store.iter_articles()
        assert (article["url"], article["title"]) == (new, "Story 1 (en), corrected")
        assert len(store.lookup([old, new])) == 2
