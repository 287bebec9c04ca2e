"""The store: schema, migration, concurrency, revisions, full-text search, merging. Tests taking `db` run on
both backends (an SQLite file and a real PostgreSQL database); the others are about SQLite files."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import psycopg
import pytest

from newsbot.items import ArticleItem
from newsbot.normalize import article_id, content_hash, story_id
from newsbot.store import EXPORT_FIELDS, SCHEMA_VERSION, Store, StoreBusyError, StoreError, is_postgres_url
from newsbot.store.schema import _SCRIPTS
from newsbot.store.postgres import _WRITE_LOCK
from tests.conftest import rows

ROOT = Path(__file__).resolve().parent.parent
SEGMENTS = {"energy": {"az": "energetika", "en": "energy", "ru": "energetika"},
            "finance": {"az": "maliyye", "en": "finance", "ru": "finansy"}}
PREFIX = {"az": "", "en": "en/", "ru": "ru/"}


def edition_url(n: int, lang: str, category: str = "energy") -> str:
    return f"https://report.az/{PREFIX[lang]}{SEGMENTS[category][lang]}/story-{n}/"


def make_item(n: int, lang: str = "en", *, body: str | None = None, title: str | None = None,
              category: str = "energy", day: str = "2026-01-28", crawled_at: str = "2026-01-28T17:00:00Z",
              tags: list[str] | None = None, **overrides: Any) -> ArticleItem:
    """A valid article as the loaders make it (ids and content_hash computed the same way)."""
    url = edition_url(n, lang, category)
    site_id = 2844000 + 3 * n + ("az", "en", "ru").index(lang) if lang in ("az", "en", "ru") else 2844000 + n
    others = [{"language": other, "url": edition_url(n, other, category), "title": f"Story {n} ({other})"}
              for other in ("az", "en", "ru") if other != lang]
    body = body if body is not None else f"Story number {n} in {lang}.\n\nA second paragraph about energy."
    item = ArticleItem(
        url=url, article_id=article_id(url), site_id=site_id, source="report.az", language=lang,
        title=title if title is not None else f"Story {n} ({lang})", lead=body.split("\n\n")[0], body=body,
        word_count=len(body.split()), published_at=f"{day}T16:35:00+04:00", published_at_utc=f"{day}T12:35:00Z",
        category=category.title(), category_slug=category,
        tags=tags if tags is not None else ["SOCAR", f"tag-{n}"],
        images=[{"url": f"https://report.az/uploads/{n}.jpg", "caption": f"Photo {n}"}],
        translations=others, story_id=story_id([url] + [o["url"] for o in others]), crawled_at=crawled_at,
    )
    item.update(overrides)
    item.setdefault("content_hash", content_hash({k: item.get(k) for k in (
        "title", "body", "category_slug", "published_at", "tags", "images", "translations")}))
    return item


def sql(path: Path, query: str, *params: Any) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(query, params).fetchall()


def assert_search_index_intact(db: Path | str) -> None:
    """SQLite's FTS table is kept by the store and can drift from articles; PostgreSQL's index is the
    server's own (an expression index), so there is nothing to check."""
    if not is_postgres_url(db):
        assert sql(db, "INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')") == []


def sqlite3_cli(path: Path, query: str) -> str:
    """What a user sees in the plain sqlite3 shell."""
    result = subprocess.run(["sqlite3", str(path), query], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- schema --------------------------------------------------------------


def test_new_store_is_current_wal_and_readable_in_the_sqlite3_shell(tmp_path):
    path = tmp_path / "sub" / "dir" / "news.sqlite"
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 9
        assert store.write([make_item(1, "az"), make_item(1, "en"), make_item(1, "ru")]).inserted == 3
    assert sql(path, "PRAGMA journal_mode") == [("wal",)]
    tables = {name for (name,) in sql(path, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    assert {"articles", "tags", "images", "translations", "article_revisions", "crawl_runs", "feed_coverage",
            "articles_fts", "stories", "story_editions", "article_view"} <= tables
    assert sqlite3_cli(path, "SELECT title_az, title_en, title_ru FROM story_editions") == \
        "Story 1 (az)|Story 1 (en)|Story 1 (ru)\n"
    assert sqlite3_cli(path, "SELECT languages, editions FROM stories") == "az,en,ru|3\n"
    assert sqlite3_cli(path, "SELECT tags FROM article_view WHERE language = 'en'") == '["SOCAR","tag-1"]\n'
    assert sqlite3_cli(path, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'energy'") == "3\n"
    # Datasette finds the index of a table by this pattern, and then offers search on it.
    assert sql(path, "SELECT name FROM sqlite_master WHERE rootpage = 0 "
                     """AND sql LIKE '%VIRTUAL TABLE%USING FTS%content="articles"%'""") == [("articles_fts",)]


def test_write_then_lookup_and_count_see_other_processes_writes(db):
    with Store(db) as writer, Store(db, readonly=True) as reader:
        assert reader.lookup([edition_url(1, "en")]) == {}
        item = make_item(1, "en")
        writer.write([item])
        # Not cached: the reader sees the new row on its next call.
        found = reader.lookup([edition_url(1, "en"), edition_url(2, "en")])
        assert list(found) == [edition_url(1, "en")]
        stored = found[edition_url(1, "en")]
        assert (stored.url, stored.article_id, stored.title, stored.published_at, stored.content_hash) == (
            item["url"], item["article_id"], item["title"], item["published_at"], item["content_hash"])
        # A non-canonical spelling of the URL finds it too, keyed as asked.
        messy = "http://www.report.az/en/energy/story-1?utm_source=x"
        assert reader.lookup([messy])[messy] == stored
        writer.write([make_item(2, "en")])
        assert reader.count_articles() == 2


def _rows_in_main_file(path: Path) -> int:
    """Articles in the database file itself, ignoring the WAL: what checkpoints have copied back."""
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles'").fetchone():
            return 0  # even the schema is still in the WAL
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("background", [True, False])
def test_background_checkpoints_copy_commits_into_the_database_file_while_the_writer_goes_on(tmp_path, background):
    path = tmp_path / "news.sqlite"
    with Store(path, background_checkpoints=background) as store:
        store.write([make_item(n) for n in range(1, 11)])
        deadline = time.monotonic() + (5 if background else 0.5)
        while _rows_in_main_file(path) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        # Without the thread, a small write stays in the WAL until ~40 MB of it pile up.
        assert _rows_in_main_file(path) == (10 if background else 0)
        assert store.write([make_item(n) for n in range(11, 21)]).inserted == 10
    # Closing checkpoints everything (and stops the thread).
    assert _rows_in_main_file(path) == 20
    assert sql(path, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'energy'") == [(20,)]
    assert not any(t.name == "newsbot-checkpoint" for t in threading.enumerate())


def test_articles_round_trip_in_the_items_shape(db):
    items = [make_item(1, "en"), make_item(2, "ru", tags=[], images=[], translations=[]),
             make_item(3, "az", published_at="", published_at_utc="", site_id=None)]
    with Store(db) as store:
        store.write(items)
        exported = {a["url"]: a for a in store.iter_articles()}
    assert {url: list(a) for url, a in exported.items()} == {i["url"]: list(EXPORT_FIELDS) for i in items}
    assert exported == {i["url"]: {**dict(i), "published_date": i["published_at"][:10]} for i in items}
    # Stored as integers (SQLite would keep text or a float as given, and 1.0 == 1 in Python).
    assert [(type(site_id), site_id) for (site_id,) in rows(db, "SELECT site_id FROM articles ORDER BY id")] == [
        (int, items[0]["site_id"]), (int, items[1]["site_id"]), (type(None), None)]


def test_site_id_is_an_integer_or_null_and_a_known_one_is_never_lost_to_a_null(db):
    one, two = make_item(1), make_item(2, site_id=None)
    with Store(db) as store:
        store.write([one, two, {**make_item(3), "site_id": ""}])  # a dict item with '' (as from a CSV): NULL
        # An edit of a page that no longer shows its short link keeps the id known from before.
        assert store.write([make_item(1, body="Edited.", site_id=None, crawled_at="2026-01-29T00:00:00Z")]).updated == 1
        # The same content seen again with an id the store lacks fills it in, and is still no new revision.
        assert store.write([make_item(2, crawled_at="2026-01-30T00:00:00Z")]).unchanged == 1
        assert {a["url"]: a["site_id"] for a in store.iter_articles()} == {
            one["url"]: one["site_id"], two["url"]: make_item(2)["site_id"], edition_url(3, "en"): None}
    assert [(type(site_id), site_id, revision) for site_id, revision in rows(
        db, "SELECT site_id, revision FROM articles ORDER BY id")] == [
        (int, one["site_id"], 2), (int, make_item(2)["site_id"], 1), (type(None), None, 1)]
    # The index a later lookup by the site's id uses.
    if is_postgres_url(db):
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("SET enable_seqscan = off")  # three rows: the planner would rather scan them all
            plan = conn.execute("EXPLAIN SELECT article_id FROM articles WHERE site_id = 1").fetchall()
    else:
        plan = rows(db, "EXPLAIN QUERY PLAN SELECT article_id FROM articles WHERE site_id = ?", 1)
    assert "articles_site_id" in str(plan)


def test_an_edit_keeps_both_versions_and_the_index_follows(db):
    first = make_item(1, "en", body="SOCAR signs a pipeline deal.", tags=["SOCAR", "pipeline"])
    edited = make_item(1, "en", body="SOCAR signs a refinery deal.", tags=["refinery"],
                       crawled_at="2026-01-29T09:00:00Z")
    with Store(db) as store:
        store.write([first])
        again = store.write([make_item(1, "en", body="SOCAR signs a pipeline deal.", tags=["SOCAR", "pipeline"],
                                       crawled_at="2026-01-28T20:00:00Z")])
        assert (again.unchanged, again.updated) == (1, 0)
        assert store.write([edited]).updated == 1
        assert [a["body"] for a in store.iter_articles()] == ["SOCAR signs a refinery deal."]
        assert [r["url"] for r in store.search("refinery")] == [first["url"]]
        assert store.search("pipeline") == []
        # An older crawl of other content arriving late (another process) does not win.
        late = make_item(1, "en", body="SOCAR signs a gas deal.", crawled_at="2026-01-28T18:00:00Z")
        assert store.write([late]).stale == 1
    assert rows(db, "SELECT revision, content_hash, body, crawled_at FROM article_revisions ORDER BY revision") == [
        (1, first["content_hash"], first["body"], "2026-01-28T17:00:00Z"),
        (2, edited["content_hash"], edited["body"], "2026-01-29T09:00:00Z")]
    assert rows(db, "SELECT revision, crawled_at, first_seen_at, last_crawled_at FROM articles") == [
        (2, "2026-01-29T09:00:00Z", "2026-01-28T17:00:00Z", "2026-01-29T09:00:00Z")]
    assert rows(db, "SELECT tag FROM tags ORDER BY position") == [("refinery",)]
    assert_search_index_intact(db)


def test_unchanged_content_only_moves_last_crawled_at(db):
    with Store(db) as store:
        store.write([make_item(1)])
        assert store.write([make_item(1, crawled_at="2026-02-01T00:00:00Z")]).unchanged == 1
    assert rows(db, "SELECT revision, crawled_at, last_crawled_at FROM articles") == [
        (1, "2026-01-28T17:00:00Z", "2026-02-01T00:00:00Z")]
    assert rows(db, "SELECT count(*) FROM article_revisions") == [(0,)]


def test_full_text_search_finds_azerbaijani_and_russian_words(db):
    with Store(db) as store:
        store.write([
            make_item(1, "az", title="SOCAR Çin şirkəti ilə birgə müəssisə yaradır",
                      body="Azərbaycan Respublikasının Prezidenti İlham Əliyev Bakıda görüş keçirib."),
            make_item(2, "ru", title="SOCAR и китайская компания рассматривают создание СП",
                      body="Президент Азербайджана провел встречу в Баку."),
            make_item(3, "az", title="ŞİRKƏTİN YENİ LAYİHƏSİ", body="Nazirlik məlumat verib."),
        ])
        found = lambda query: sorted(r["url"] for r in store.search(query))  # noqa: E731
        assert found("şirkəti") == [edition_url(1, "az")]
        assert found("sirkəti") == [edition_url(1, "az")]        # without the cedilla
        assert found("ŞİRKƏTİ") == [edition_url(1, "az")]        # capitals, dotted İ
        assert found("şirkətin") == [edition_url(3, "az")]       # ...of an all-caps title
        assert found("ilham əliyev") == [edition_url(1, "az")]
        assert found("компания") == [edition_url(2, "ru")]
        assert found("КОМПАНИЯ") == [edition_url(2, "ru")]
        assert found("баку") == [edition_url(2, "ru")]
        assert found('"китайская компания"') == [edition_url(2, "ru")]  # a phrase in both syntaxes
        if not is_postgres_url(db):  # FTS5 syntax; PostgreSQL's web-search syntax has no prefixes
            assert found("компани*") == [edition_url(2, "ru")]


# --- versions and migration ----------------------------------------------


def make_v1_file(path: Path) -> None:
    """A database exactly as the first release made and filled it."""
    ddl = resources.files("newsbot").joinpath("data/schema_v1.sql").read_text("utf-8")
    conn = sqlite3.connect(path)
    conn.executescript(ddl)
    item = make_item(7, "az", title="Köhnə xəbər", body="SOCAR şirkəti köhnə sxemdə saxlanılıb.")
    conn.execute(
        "INSERT INTO articles (article_id, url, source, language, title, lead, body, word_count, published_at, "
        "published_at_utc, category, category_slug, story_id, images, crawled_at, content_hash, first_seen_at, "
        "last_crawled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (item["article_id"], item["url"], "report.az", "az", item["title"], item["lead"], item["body"],
         item["word_count"], item["published_at"], item["published_at_utc"], item["category"],
         item["category_slug"], item["story_id"],
         json.dumps([{"url": "https://report.az/a.jpg", "caption": "A"}, {"url": "https://report.az/b.jpg"}]),
         item["crawled_at"], item["content_hash"], item["crawled_at"], item["crawled_at"]))
    conn.executemany("INSERT INTO tags VALUES (?, ?, ?)", [(item["article_id"], 0, "SOCAR")])
    conn.executemany("INSERT INTO translations VALUES (?, ?, ?, ?)",
                     [(item["article_id"], t["language"], t["url"], t["title"]) for t in item["translations"]])
    conn.execute("INSERT INTO crawl_runs (spider, started_at, finished_at, finish_reason, items_scraped) "
                 "VALUES ('latest', '2026-01-01T00:00:00Z', '2026-01-01T00:10:00Z', 'finished', 1)")
    conn.commit()
    conn.close()


# The articles columns of schema v2, spelled out (not ARTICLE_COLUMNS): what release 2 wrote.
V2_ARTICLE_COLUMNS = ("article_id", "url", "source", "language", "title", "lead", "body", "word_count",
                      "published_at", "published_at_utc", "category", "category_slug", "story_id", "crawled_at",
                      "content_hash")


def make_v2_file(path: Path, items: list[ArticleItem]) -> None:
    """A database as release 2 made it (schema_v1.sql, then migrate_v1_v2.sql) and filled it: no site_id."""
    conn = sqlite3.connect(path)
    for script in ("schema_v1.sql", "migrate_v1_v2.sql"):
        conn.executescript(resources.files("newsbot").joinpath(f"data/{script}").read_text("utf-8"))
    for item in items:
        aid = item["article_id"]
        conn.execute(f"INSERT INTO articles ({', '.join(V2_ARTICLE_COLUMNS)}, first_seen_at, last_crawled_at) "
                     f"VALUES ({', '.join('?' * (len(V2_ARTICLE_COLUMNS) + 2))})",
                     (*(item[c] for c in V2_ARTICLE_COLUMNS), item["crawled_at"], item["crawled_at"]))
        conn.executemany("INSERT INTO tags VALUES (?, ?, ?)", [(aid, i, t) for i, t in enumerate(item["tags"])])
        conn.executemany("INSERT INTO images VALUES (?, ?, ?, ?)",
                         [(aid, i, im["url"], im["caption"]) for i, im in enumerate(item["images"])])
        conn.executemany("INSERT INTO translations VALUES (?, ?, ?, ?)",
                         [(aid, t["language"], t["url"], t["title"]) for t in item["translations"]])
    conn.commit()
    conn.execute("PRAGMA journal_mode = WAL")  # as every v2 store was
    conn.close()


def downgrade(path: Path, version: int) -> None:
    """Make a current store's schema that of `version`, articles and all: every trigger, view, table and
    index a later version added dropped, every trigger, view and index it changed made as it was. A table
    a later version made again keeps its data and its later form (each migration copes with that)."""
    reference = sqlite3.connect(":memory:")
    for number in range(1, version + 1):
        reference.executescript(resources.files("newsbot").joinpath(f"data/{_SCRIPTS[number]}").read_text("utf-8"))
    was = dict(((kind, name), sql) for kind, name, sql in reference.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
    with sqlite3.connect(path) as conn:
        for kind in ("trigger", "view", "index", "table"):
            for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = ? AND sql IS NOT NULL",
                                          (kind,)).fetchall():
                if was.get((kind, name)) != sql and not name.startswith("articles_fts_") and (
                        kind != "table" or (kind, name) not in was):
                    conn.execute(f"DROP {kind} IF EXISTS {name}")
                    if (kind, name) in was:
                        conn.execute(was[kind, name])
        conn.execute(f"PRAGMA user_version = {version}")


def schema_of(path: Path) -> list[tuple]:
    return sql(path, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")


def test_a_v2_file_migrates_to_v3_and_later_crawls_fill_in_site_ids(tmp_path):
    old = tmp_path / "v2.sqlite"
    stored = [make_item(1, "en"), make_item(2, "ru", tags=[], images=[])]
    make_v2_file(old, stored)
    assert sql(old, "PRAGMA user_version") == [(2,)]
    assert "site_id" not in [c[1] for c in sql(old, "PRAGMA table_info(articles)")]
    with Store(old, readonly=True) as reader:  # a reader neither migrates nor refuses it
        assert reader.schema_version == 2 and reader.count_articles() == 2
        assert reader.lookup([stored[0]["url"]])[stored[0]["url"]].content_hash == stored[0]["content_hash"]
        assert list(reader.lookup([stored[1]["url"]])) == [stored[1]["url"]]
        with pytest.raises(StoreError, match="schema version 2; open it read-write"):
            reader.iter_articles()
    assert sql(old, "PRAGMA user_version") == [(2,)]

    with Store(old) as store:
        assert store.schema_version == SCHEMA_VERSION == 9
        exported = {a["url"]: a for a in store.iter_articles()}
        assert {url: list(a) for url, a in exported.items()} == {i["url"]: list(EXPORT_FIELDS) for i in stored}
        assert exported == {i["url"]: {**dict(i), "site_id": None, "published_date": i["published_at"][:10]}
                            for i in stored}  # nothing else lost
        assert sorted(r["url"] for r in store.search("paragraph energy")) == sorted(i["url"] for i in stored)
        assert store.fill_rates()["site_id"] == 0.0
        result = store.write([make_item(1, "en", crawled_at="2026-02-01T00:00:00Z"),       # same content
                              make_item(2, "ru", body="Edited.", crawled_at="2026-02-01T00:00:00Z"),
                              make_item(3, "az")])
        assert (result.inserted, result.updated, result.unchanged) == (1, 1, 1)
        assert store.fill_rates()["site_id"] == 1.0
    assert sql(old, "SELECT url, site_id, revision FROM articles ORDER BY id") == [
        (i["url"], i["site_id"], revision) for i, revision in ((stored[0], 1), (stored[1], 2), (make_item(3, "az"), 1))]
    assert sql(old, "SELECT count(*) FROM article_revisions") == [(2,)]
    assert sql(old, "INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')") == []

    # The migrated file and a new one are the same database, site_id index and view included.
    with Store(tmp_path / "new.sqlite"):
        pass
    assert schema_of(old) == schema_of(tmp_path / "new.sqlite")
    assert ("index", "articles_site_id", "articles") in [row[:3] for row in schema_of(old)]


def test_a_v1_file_migrates_to_the_current_schema_with_its_data(tmp_path):
    old = tmp_path / "v1.sqlite"
    make_v1_file(old)
    assert sql(old, "PRAGMA user_version") == [(1,)]
    with Store(old, readonly=True) as reader:  # a reader neither migrates nor refuses it
        assert reader.schema_version == 1 and reader.count_articles() == 1
        with pytest.raises(StoreError, match="schema version 1; open it read-write"):
            reader.iter_articles()

    with Store(old) as store:
        assert store.schema_version == SCHEMA_VERSION
        [article] = store.iter_articles()
        assert article["site_id"] is None
        assert article["images"] == [{"url": "https://report.az/a.jpg", "caption": "A"},
                                     {"url": "https://report.az/b.jpg", "caption": ""}]
        assert article["tags"] == ["SOCAR"] and len(article["translations"]) == 2
        assert [r["title"] for r in store.search("şirkəti")] == ["Köhnə xəbər"]  # the index was built
        store.write([make_item(8, "en")])
        assert store.count_articles() == 2
    assert sql(old, "SELECT spider, finish_reason, items_scraped, arguments FROM crawl_runs") == [
        ("latest", "finished", 1, "{}")]
    assert sql(old, "SELECT revision FROM articles ORDER BY id") == [(1,), (1,)]
    assert "images" not in [c[1] for c in sql(old, "PRAGMA table_info(articles)")]

    # The migrated file and a new one are the same database.
    with Store(tmp_path / "new.sqlite"):
        pass
    assert schema_of(old) == schema_of(tmp_path / "new.sqlite")


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.sqlite"
    with Store(path):
        pass
    sql(path, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    for readonly in (False, True):
        with pytest.raises(StoreError, match=rf"schema version {SCHEMA_VERSION + 1}, newer than this newsbot "
                                             rf"understands \({SCHEMA_VERSION}\)"):
            Store(path, readonly=readonly)


def test_other_files_are_refused_clearly(tmp_path):
    foreign = tmp_path / "foreign.sqlite"
    sql(foreign, "CREATE TABLE x (y)")
    with pytest.raises(StoreError, match="not a newsbot database"):
        Store(foreign)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    for readonly in (False, True):  # not "corrupt": it never was a store
        with pytest.raises(StoreError, match=f"^Cannot (open|read) {garbage}.*: file is not a database$"):
            Store(garbage, readonly=readonly)
    with pytest.raises(StoreError, match="No newsbot database at"):
        Store(tmp_path / "missing.sqlite", readonly=True)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="Cannot create the directory"):
        Store(blocker / "news.sqlite")


def corrupt_in_the_middle(path: Path, articles: int = 300) -> None:
    """A store of `articles` articles written by the store API, then four pages in the middle of its
    file overwritten, as a disk fault may leave it: the header and the schema are whole."""
    with Store(path) as store:
        store.write([make_item(n, body=f"Story {n}. " + "A paragraph of reporting on energy. " * 100)
                     for n in range(1, articles + 1)])
    page = sql(path, "PRAGMA page_size")[0][0]
    data = bytearray(path.read_bytes())
    middle = len(data) // page // 2
    data[middle * page:(middle + 4) * page] = bytes(range(256)) * (4 * page // 256)
    path.write_bytes(bytes(data))


def test_a_store_corrupt_in_the_middle_is_refused_at_a_writable_open_and_said_where_a_read_meets_it(tmp_path):
    path = tmp_path / "news.sqlite"
    corrupt_in_the_middle(path)
    corrupt = rf"^{path} is corrupt \(.+\): restore it from a backup"
    with pytest.raises(StoreError, match=corrupt):
        Store(path)
    # A reader opens at once, whatever the size (no page-by-page check), and is told when it meets the damage.
    with Store(path, readonly=True) as store:
        with pytest.raises(StoreError, match=corrupt):
            list(store.export_rows())
        # A snapshot copies page by page, damage and all: it is checked before it takes the name.
        with pytest.raises(StoreError, match=corrupt):
            store.snapshot(tmp_path / "snapshot.sqlite")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("snapshot")) == []


def run_as_unprivileged(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Python code run as `nobody` when the tests run as root (root ignores file permissions)."""
    command = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot drop privileges")
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_read_only_file_or_directory_is_a_clear_error():
    # Not tmp_path: its parents are private to root, and the check runs as nobody.
    with tempfile.TemporaryDirectory() as base:
        base = Path(base)
        base.chmod(0o755)
        with Store(base / "news.sqlite") as store:
            store.write([make_item(1)])
        (base / "news.sqlite").chmod(0o444)
        probe = ("from newsbot.store import Store, StoreError\n"
                 "for path in ('news.sqlite', 'new.sqlite'):\n"
                 "    try:\n        Store(path)\n    except StoreError as exc:\n        print(exc)\n"
                 "print(Store('news.sqlite', readonly=True).count_articles())\n")
        result = run_as_unprivileged(probe, base)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "The database news.sqlite is read-only: newsbot needs to write to it",
        "The directory . is not writable: newsbot needs it for new.sqlite and its -wal and -shm files",
        "1"]


def test_an_older_store_nobody_may_write_says_why_a_reader_needs_to_write_it():
    with tempfile.TemporaryDirectory() as base:
        base = Path(base)
        base.chmod(0o755)
        make_v2_file(base / "v2.sqlite", [make_item(1)])
        (base / "v2.sqlite").chmod(0o444)
        result = run_as_unprivileged(
            "import os, sys\nos.environ['SCRAPY_SETTINGS_MODULE'] = 'newsbot.settings'\n"
            "sys.argv = ['scrapy', 'stats', '--db', 'v2.sqlite']\nfrom scrapy.cmdline import execute\nexecute()", base)
    lines = result.stderr.splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines == ["stats: v2.sqlite has schema version 2, older than this newsbot's 9: it is migrated once, by "
                     "the first process that may write it (The database v2.sqlite is read-only: newsbot needs to "
                     "write to it)"]


# --- concurrency ------------------------------------------------------------

WRITER = """
import json, random, sys, time
sys.path.insert(0, {root!r})
from tests.test_store import make_item
from newsbot.store import Store
path, first, last, crawled_at, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
rnd = random.Random(seed)
items = [make_item(n, ("az", "en", "ru")[n % 3], crawled_at=crawled_at,
                   body=f"Version {{crawled_at}} of story {{n}}." if n % 2 else None) for n in range(first, last)]
totals = dict(inserted=0, updated=0, unchanged=0, stale=0)
with Store(path, timeout=0.05, retries=50) as store:
    start = 0
    while start < len(items):
        size = rnd.randint(1, 15)
        result = store.write(items[start:start + size])
        for key in totals:
            totals[key] += getattr(result, key)
        start += size
print(json.dumps(totals))
"""


def test_two_processes_writing_overlapping_items_lose_and_duplicate_nothing(db):
    with Store(db):  # created once, so both writers start on the same schema
        pass
    script = WRITER.format(root=str(ROOT))
    # A writes stories 0-599, B 300-899 crawled later: odd stories in the overlap differ, even ones are equal.
    writers = [subprocess.Popen([sys.executable, "-c", script, str(db), str(first), str(last), crawled, seed],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for first, last, crawled, seed in ((0, 600, "2026-01-28T17:00:00Z", "1"),
                                                  (300, 900, "2026-01-28T18:00:00Z", "2"))]
    results = []
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
        results.append(json.loads(out))
    a, b = results
    assert sum(a.values()) == sum(b.values()) == 600
    assert a["inserted"] + b["inserted"] == 900            # every article inserted exactly once
    assert a["updated"] + b["updated"] + a["stale"] + b["stale"] == 150  # the odd overlap, one way or the other
    assert a["unchanged"] + b["unchanged"] == 150           # the even overlap

    assert rows(db, "SELECT count(*), count(DISTINCT url), count(DISTINCT article_id) FROM articles") == [
        (900, 900, 900)]
    assert rows(db, "SELECT count(*) FROM tags") == [(1800,)]
    assert rows(db, "SELECT count(*) FROM translations") == [(1800,)]
    # The later crawl's content won for every overlapping story, whichever process committed first.
    later = [n for n in range(300, 600) if n % 2]
    with Store(db, readonly=True) as store:
        bodies = {a["url"]: a["body"] for a in store.iter_articles()}
    assert all(bodies[edition_url(n, ("az", "en", "ru")[n % 3])] == f"Version 2026-01-28T18:00:00Z of story {n}."
               for n in later)
    assert_search_index_intact(db)


def hold_the_write_lock(db: Path | str) -> Callable[[], None]:
    """Another writer holding the store's write lock until the returned release() is called: an open
    BEGIN IMMEDIATE on SQLite, the advisory lock every PostgreSQL write transaction takes."""
    if is_postgres_url(db):
        holder = psycopg.connect(db, autocommit=True)
        holder.execute("SELECT pg_advisory_lock(%s)", (_WRITE_LOCK,))
        unlock = "SELECT pg_advisory_unlock(%s)", (_WRITE_LOCK,)
    else:
        holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        unlock = "COMMIT", ()

    def release() -> None:
        holder.execute(*unlock)
        holder.close()
    return release


def test_a_lock_held_too_long_fails_clearly_and_a_short_one_is_waited_out(db):
    with Store(db):
        pass
    release = hold_the_write_lock(db)
    with Store(db, timeout=0.05, retries=2) as store:
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match=r"stayed locked by another writer: gave up after 3 attempts"):
            store.write([make_item(1)])
        assert time.monotonic() - started >= 0.05 * 3 + 0.05 + 0.1  # three waits and two backoffs
        assert store.count_articles() == 0

        releaser = threading.Timer(0.3, release)
        releaser.start()
        patient = Store(db, timeout=0.05, retries=10)
        assert patient.write([make_item(1)]).inserted == 1
        releaser.join()
        patient.close()
    assert rows(db, "SELECT count(*) FROM articles") == [(1,)]


# --- crawl runs, coverage ---------------------------------------------------


def test_crawl_runs_and_feed_coverage_are_recorded(db):
    with Store(db) as store:
        run_id = store.start_run("latest", {"lang": "en"}, {"NEWSBOT_DB": str(db)}, job_id="job1",
                                 started_at="2026-01-28T17:00:00Z")
        store.finish_run(run_id, "finished", {"scraped": 5, "new": 3, "updated": 1, "unchanged": 1,
                                              "duplicate": 2, "dropped": 3},
                         stats={"item_scraped_count": 5}, finished_at="2026-01-28T17:05:00Z")
        assert store.coverage("latest", "en") is None
        store.record_coverage("latest", "en", "2026-01-27T10:00:00+04:00", "2026-01-28T16:00:00+04:00")
        store.record_coverage("latest", "en", "2026-01-26T10:00:00+04:00", "2026-01-28T18:00:00+04:00")
        assert store.coverage("latest", "en") == ("2026-01-26T10:00:00+04:00", "2026-01-28T18:00:00+04:00")
        assert store.coverage("latest", "ru") is None
    assert rows(db, "SELECT spider, job_id, arguments, started_at, finished_at, finish_reason, items_scraped, "
                    "items_new, items_updated, items_unchanged, items_duplicate, items_dropped, stats "
                    "FROM crawl_runs") == [
        ("latest", "job1", '{"lang": "en"}', "2026-01-28T17:00:00Z", "2026-01-28T17:05:00Z", "finished",
         5, 3, 1, 1, 2, 3, '{"item_scraped_count": 5}')]


# --- merging ----------------------------------------------------------------


def table_counts(db: Path | str) -> dict[str, int]:
    return {t: rows(db, f"SELECT count(*) FROM {t}")[0][0]
            for t in ("articles", "tags", "images", "translations", "article_revisions")}


def test_merge_adds_new_takes_the_later_crawl_and_unites_histories(db, tmp_path):
    ours, theirs = db, tmp_path / "theirs.sqlite"
    with Store(ours) as store:
        store.write([make_item(1), make_item(2), make_item(4, body="Four, first version.")])
    with Store(theirs) as store:
        store.write([make_item(2, crawled_at="2026-01-29T10:00:00Z"),                    # same content, seen later
                     make_item(1, body="Edited: a pipeline deal.", crawled_at="2026-01-29T10:00:00Z"),
                     make_item(3, "ru", body="Совместное предприятие."),
                     make_item(4, body="Four, first version.")])
        store.write([make_item(4, body="Four, second version.", crawled_at="2026-01-29T11:00:00Z")])

    with Store(ours) as store:
        result = store.merge_from(theirs)
        assert (result.added, result.updated, result.unchanged) == (1, 2, 1)
        merged = {a["url"]: a for a in store.iter_articles()}
        assert merged[edition_url(1, "en")]["body"] == "Edited: a pipeline deal."
        assert merged[edition_url(3, "ru")]["body"] == "Совместное предприятие."
        assert merged[edition_url(4, "en")]["body"] == "Four, second version."
        assert [r["url"] for r in store.search("совместное")] == [edition_url(3, "ru")]
        assert store.search("pipeline") and not store.search("number 1")  # the index followed the edit
        before = table_counts(ours)
        again = store.merge_from(theirs)
        assert (again.added, again.updated, again.unchanged) == (0, 0, 4)
    assert table_counts(ours) == before == {"articles": 4, "tags": 8, "images": 4, "translations": 8,
                                            "article_revisions": 4}
    assert rows(ours, "SELECT a.revision, r.revision, r.body FROM articles a JOIN article_revisions r "
                      "USING (article_id) WHERE a.url = ? ORDER BY r.revision", edition_url(1, "en")) == [
        (2, 1, "Story number 1 in en.\n\nA second paragraph about energy."), (2, 2, "Edited: a pipeline deal.")]
    assert rows(ours, "SELECT last_crawled_at FROM articles WHERE url = ?", edition_url(2, "en")) == [
        ("2026-01-29T10:00:00Z",)]
    assert_search_index_intact(ours)


def test_merge_takes_a_v2_and_a_v3_shard_and_keeps_every_site_id(db, tmp_path):
    ours, v2, v3 = db, tmp_path / "v2.sqlite", tmp_path / "v3.sqlite"
    later = "2026-01-29T10:00:00Z"
    with Store(ours) as store:
        store.write([make_item(1), make_item(2, site_id=None), make_item(3),
                     make_item(7, body="Seven, newer here.", site_id=None, crawled_at=later)])
    make_v2_file(v2, [make_item(1, body="Edited in the v2 shard.", tags=["v2"], crawled_at=later), make_item(4)])
    with Store(v3) as store:
        store.write([make_item(2),                                       # same content, the id only here
                     make_item(3, body="Edited in the v3 shard.", tags=["v3"], site_id=None, crawled_at=later),
                     make_item(5), make_item(6, site_id=None),
                     make_item(7, body="Seven, older there.", tags=["old"])])  # ours is newer: kept, id filled in

    with Store(ours) as store:
        from_v2 = store.merge_from(v2)
        assert (from_v2.added, from_v2.updated, from_v2.unchanged) == (1, 1, 0)
        from_v3 = store.merge_from(v3)
        assert (from_v3.added, from_v3.updated, from_v3.unchanged) == (2, 2, 1)
        merged = {a["url"]: a for a in store.iter_articles()}
        # The later crawls' content won; a shard without the id (v2) or without a value (v3 NULL) kept ours.
        assert [(merged[edition_url(n, "en")]["body"], merged[edition_url(n, "en")]["tags"]) for n in (1, 3, 7)] == [
            ("Edited in the v2 shard.", ["v2"]), ("Edited in the v3 shard.", ["v3"]),
            ("Seven, newer here.", ["SOCAR", "tag-7"])]
        assert {url: a["site_id"] for url, a in merged.items()} == {
            edition_url(n, "en"): make_item(n)["site_id"] if n in (1, 2, 3, 5, 7) else None for n in range(1, 8)}
        assert all(list(a) == list(EXPORT_FIELDS) for a in merged.values())
        before = table_counts(ours)
        again = [store.merge_from(v2), store.merge_from(v3)]
        assert [(r.added, r.updated, r.unchanged) for r in again] == [(0, 0, 2), (0, 0, 5)]
    assert table_counts(ours) == before
    assert sql(v2, "PRAGMA user_version") == [(2,)]  # the shard was read as it is, not migrated
    assert_search_index_intact(ours)


def test_merge_refuses_itself_and_unmigrated_sources(db, tmp_path):
    ours, old = db, tmp_path / "v1.sqlite"
    make_v1_file(old)
    with Store(ours) as store:
        if not is_postgres_url(ours):  # a shard is an SQLite file: only one can be the store itself
            with pytest.raises(StoreError, match="into itself"):
                store.merge_from(ours)
        with pytest.raises(StoreError, match="schema version 1; open it read-write once"):
            store.merge_from(old)
        with pytest.raises(StoreError, match="No newsbot database"):
            store.merge_from(tmp_path / "missing.sqlite")
        assert store.count_articles() == 0
