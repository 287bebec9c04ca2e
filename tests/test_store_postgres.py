"""The store on a real PostgreSQL server (tests/postgres.py): what only that backend has. What both
backends share runs on both in tests/test_store.py."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from importlib import resources

import psycopg
import pytest

from newsbot.store import Store, StoreBusyError, StoreError
from newsbot.store.postgres import _WRITE_LOCK, SCHEMA_VERSION as PG_SCHEMA_VERSION
from tests.conftest import rows
from tests.postgres import PASSWORD, PostgresServer
from tests.scrapyd_helpers import free_port
from tests.test_store import ROOT, edition_url, make_item, table_counts

WRONG_PASSWORD = "not-the-s3cret"


def refusal(db: str, readonly: bool = False) -> str:
    """The StoreError opening `db` gives, checked to be one line without a password in it."""
    with pytest.raises(StoreError) as info:
        Store(db, readonly=readonly)
    message = str(info.value)
    assert "\n" not in message and PASSWORD not in message and WRONG_PASSWORD not in message, message
    return message


@pytest.mark.parametrize("url, expected", [
    pytest.param(lambda s: f"postgresql://newsbot:{WRONG_PASSWORD}@127.0.0.1:notaport/x",
                 r"^Cannot connect to PostgreSQL at postgresql://newsbot:\*\*\*@127\.0\.0\.1:notaport/x: .*notaport",
                 id="malformed port"),
    pytest.param(lambda s: s.url("postgres") + "?sslmod=require",
                 r"^Invalid PostgreSQL URL postgresql://newsbot:\*\*\*@.*: .*sslmod", id="unknown option"),
    pytest.param(lambda s: f"postgresql://newsbot:{WRONG_PASSWORD}@[::1/x", r"PostgreSQL",
                 id="unclosed bracket"),
    pytest.param(lambda s: s.url("postgres", password=WRONG_PASSWORD), r"password authentication failed",
                 id="wrong password"),
    pytest.param(lambda s: f"postgresql://newsbot:{PASSWORD}@127.0.0.1:{free_port()}/x",
                 r"^Cannot connect to PostgreSQL at .*Connection refused", id="server down"),
    pytest.param(lambda s: s.url("no_such_database"), r'database "no_such_database" does not exist',
                 id="missing database"),
    pytest.param(lambda s: s.url("postgres", password="se/cr@" + WRONG_PASSWORD),
                 r"^Cannot connect to PostgreSQL at postgresql://newsbot:\*\*\*@", id="a password with / and @"),
])
def test_a_url_that_reaches_no_database_is_one_clear_line(postgres_server: PostgresServer,
                                                         url: Callable[[PostgresServer], str], expected: str):
    for readonly in (False, True):
        assert re.search(expected, refusal(url(postgres_server), readonly)), expected


def test_databases_that_are_not_this_newsbots_are_refused(postgres_url):
    assert refusal(postgres_url, readonly=True).endswith("is empty, not a newsbot database")
    rows(postgres_url, "CREATE TABLE x (y int)")
    for readonly in (False, True):
        assert refusal(postgres_url, readonly).endswith(
            "is not a newsbot database (it has tables but no newsbot_schema)")


def test_a_newer_schema_is_refused(postgres_url):
    with Store(postgres_url):
        pass
    rows(postgres_url, "UPDATE newsbot_schema SET version = ?", PG_SCHEMA_VERSION + 1)
    for readonly in (False, True):
        assert f"has schema version {PG_SCHEMA_VERSION + 1}, newer than this newsbot understands " \
               f"({PG_SCHEMA_VERSION}); upgrade newsbot" in refusal(postgres_url, readonly)


def test_a_v1_database_is_read_as_it_is_and_migrated_by_a_writer(postgres_url):
    """Version 1 is the tables without full-text search; the writer's migration builds the index over
    what is stored."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(resources.files("newsbot").joinpath("data/pg_schema_v1.sql").read_text("utf-8"))
        conn.execute("CREATE TABLE newsbot_schema (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO newsbot_schema VALUES (1)")
        old = make_item(7, "az", title="ŞİRKƏTİN köhnə xəbəri", body="Köhnə sxemdə saxlanılıb.")
        conn.execute("INSERT INTO articles (article_id, url, language, title, body, story_id, crawled_at, "
                     "content_hash, first_seen_at, last_crawled_at, id) VALUES (%s, %s, 'az', %s, %s, %s, %s, %s, "
                     "%s, %s, 1)", (old["article_id"], old["url"], old["title"], old["body"], old["story_id"],
                                    old["crawled_at"], old["content_hash"], old["crawled_at"], old["crawled_at"]))

    with Store(postgres_url, readonly=True) as reader:
        assert reader.schema_version == 1 and reader.count_articles() == 1
        for read in (lambda: reader.iter_articles(), lambda: reader.search("sirketin")):
            with pytest.raises(StoreError, match=r"has schema version 1; open it read-write once \(any crawl does\) "
                                                 rf"to migrate it to version {PG_SCHEMA_VERSION}$"):
                read()
    assert rows(postgres_url, "SELECT version FROM newsbot_schema") == [(1,)]  # the reader changed nothing

    with Store(postgres_url) as store:
        assert store.schema_version == PG_SCHEMA_VERSION
        assert [r["url"] for r in store.search("sirketin")] == [old["url"]]
        store.write([make_item(8, "en", body="A new article about the company.")])
        assert [r["url"] for r in store.search("company")] == [edition_url(8, "en")]
    assert rows(postgres_url, "SELECT version FROM newsbot_schema") == [(PG_SCHEMA_VERSION,)]


@pytest.mark.parametrize("query, found", [
    ("şirkəti", [1, 2]), ("sirketi", [1, 2]), ("ŞİRKƏTİ", [1, 2]), ("елка", [3]), ("Компания", [3]),
])
def test_search_folds_every_spelling_through_the_gin_index(postgres_url, query, found):
    """Debian's unaccent leaves ə and ı alone: newsbot_fold translates them itself."""
    with Store(postgres_url) as store:
        store.write([make_item(1, "az", title="ŞİRKƏTİ böyük"), make_item(2, "az", body="sirketi kiçik"),
                     make_item(3, "ru", body="Компания ёлка"), make_item(4, "ru", body="другое")])
        assert sorted(r["url"] for r in store.search(query)) == [
            edition_url(n, "az" if n < 3 else "ru") for n in found]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")  # four rows: the planner would rather read them all
        plan = conn.execute("EXPLAIN SELECT id FROM articles WHERE newsbot_document(title, body) @@ "
                            "websearch_to_tsquery('simple', newsbot_fold('x'))").fetchall()
    assert "articles_search" in str(plan)


# A writer killed while its transaction is open: the journal's append is the last step of a write,
# after every row of the batch went to the server, so blocking there holds the whole batch uncommitted.
KILLED_WRITER = """
import sys, time
sys.path.insert(0, {root!r})
from tests.test_store import make_item
from newsbot.store import Store

class StallingJournal:
    key = "stalling"
    def trim(self, committed):
        return 0
    def append(self, records):
        print(len(records), flush=True)
        time.sleep(120)

with Store(sys.argv[1]) as store:
    store.write([make_item(n, body=f"Batch story {{n}}.") for n in range(100, 600)], journal=StallingJournal())
"""


def test_a_writer_killed_mid_transaction_leaves_nothing_of_its_batch_and_no_lock(postgres_url):
    kept = [make_item(n) for n in range(1, 6)]
    with Store(postgres_url) as store:
        store.write(kept)
    before = table_counts(postgres_url)
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER.format(root=str(ROOT)), postgres_url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "500\n", child.stderr.read()
        # The batch is on the server, uncommitted, and the writer holds the write lock.
        assert rows(postgres_url, "SELECT state FROM pg_stat_activity WHERE application_name = 'newsbot' "
                                  "AND datname = current_database()") == [("idle in transaction",)]
        assert rows(postgres_url, "SELECT count(*) FROM pg_locks AS l JOIN pg_database AS d ON d.oid = l.database "
                                  "WHERE l.locktype = 'advisory' AND d.datname = current_database()") == [(1,)]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=30)

    assert table_counts(postgres_url) == before
    assert rows(postgres_url, "SELECT count(*) FROM article_urls") == [(5,)]
    assert rows(postgres_url, "SELECT count(*) FROM journal_files") == [(0,)]
    # No retries, a short wait: a lock left behind would be a StoreBusyError here.
    with Store(postgres_url, timeout=2, retries=0) as store:
        assert store.write([make_item(6)]).inserted == 1
        assert [a["url"] for a in store.iter_articles()] == [i["url"] for i in kept] + [edition_url(6, "en")]


def test_a_snapshot_is_an_sqlite_store_with_the_same_articles_and_search(postgres_url, tmp_path):
    target = tmp_path / "snap.sqlite"
    with Store(postgres_url) as store:
        store.write([make_item(1, "az", title="ŞİRKƏTİ böyük layihə"), make_item(2, "ru"), make_item(3)])
        store.write([make_item(3, body="Edited.", crawled_at="2026-01-29T00:00:00Z")])
        assert store.snapshot(target) == 3
        articles = list(store.iter_articles())
        with pytest.raises(StoreError, match="exists: a snapshot is written to a new file"):
            store.snapshot(target)
    with Store(target, readonly=True) as snapshot:
        assert list(snapshot.iter_articles()) == articles
        # Folded (case, cedilla) by SQLite's own index, which the snapshot built: FTS5 keeps ə apart from e.
        assert [r["url"] for r in snapshot.search("sirkəti")] == [edition_url(1, "az")]
    assert table_counts(target) == table_counts(postgres_url) == {
        "articles": 3, "tags": 6, "images": 3, "translations": 6, "article_revisions": 2}


# Writes, on a line from stdin naming a story, this process's edition of it linked to the other one,
# proposing a story id of its own: only the stored graph can make the two agree.
LINKING_WRITER = """
import sys
sys.path.insert(0, {root!r})
from newsbot.normalize import story_id
from tests.test_store import edition_url, make_item
from newsbot.store import Store

url, lang = sys.argv[1], sys.argv[2]
other = "en" if lang == "az" else "az"
with Store(url) as store:
    print("ready", flush=True)
    for line in sys.stdin:
        n = int(line)
        link = [{{"language": other, "url": edition_url(n, other), "title": f"Story {{n}} ({{other}})"}}]
        store.write([make_item(n, lang, translations=link, story_id=story_id([edition_url(n, lang)]))])
        print(n, flush=True)
"""


def test_two_writers_linking_one_story_from_both_sides_agree_on_its_id(postgres_url):
    with Store(postgres_url):  # created once, so neither writer migrates while the other writes
        pass
    script = LINKING_WRITER.format(root=str(ROOT))
    writers = [subprocess.Popen([sys.executable, "-c", script, postgres_url, lang], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for lang in ("az", "en")]
    stories = range(1, 13)
    try:
        for writer in writers:
            assert writer.stdout.readline() == "ready\n", writer.stderr.read()
        for n in stories:  # both are waiting on stdin: the two writes of a story start together
            for writer in writers:
                writer.stdin.write(f"{n}\n")
                writer.stdin.flush()
            for writer in writers:
                assert writer.stdout.readline() == f"{n}\n", writer.stderr.read()
    finally:
        for writer in writers:
            writer.communicate(timeout=30)  # closes stdin: the end of the stories
    assert [w.returncode for w in writers] == [0, 0]

    assert rows(postgres_url, "SELECT count(*) FROM stories WHERE editions = 2") == [(len(stories),)]
    with Store(postgres_url, readonly=True) as store:
        assert store.count_stories() == len(stories)
    # Every page's node in the graph names the story its article is in.
    assert rows(postgres_url, "SELECT count(*) FROM articles AS a JOIN article_urls AS u USING (article_id) "
                              "JOIN story_nodes AS n ON n.node = u.url_key WHERE n.story_id = a.story_id") == [
        (2 * len(stories),)]
    assert rows(postgres_url, "SELECT count(DISTINCT story_id) FROM story_nodes") == [(len(stories),)]


def test_unaccent_installed_in_another_schema_serves_the_search(postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA ext")
        conn.execute("CREATE EXTENSION unaccent SCHEMA ext")
    with Store(postgres_url) as store:
        store.write([make_item(1, title="ŞİRKƏTİN hesabatı")])
        assert [hit["title"] for hit in store.search("sirketin")] == ["ŞİRKƏTİN hesabatı"]


def test_a_connection_the_server_dropped_while_idle_is_opened_again(postgres_url):
    with Store(postgres_url) as store, Store(postgres_url, readonly=True) as reader:
        store.write([make_item(1)])
        assert reader.count_articles() == 1
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            dropped = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE application_name = 'newsbot'").fetchall()
        assert len(dropped) == 2
        assert store.write([make_item(2)]).inserted == 1
        assert reader.count_articles() == 2


def test_a_timeout_of_zero_fails_at_once_on_a_held_lock(postgres_url):
    Store(postgres_url).close()
    refused: list[Exception] = []

    def write(store: Store) -> None:
        try:
            store.write([make_item(1)])
        except StoreBusyError as exc:
            refused.append(exc)

    with Store(postgres_url, timeout=0, retries=0) as store:
        with psycopg.connect(postgres_url, autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (_WRITE_LOCK,))
            writer = threading.Thread(target=write, args=(store,), daemon=True)
            writer.start()
            writer.join(10)
            waited = writer.is_alive()
        writer.join(30)  # the holder is gone: a writer that waited gets the lock now
    assert not waited and len(refused) == 1


def test_a_read_the_server_cancels_is_one_line(postgres_url):
    Store(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        database = admin.info.dbname
        admin.execute(f'ALTER DATABASE "{database}" SET statement_timeout = 1')
    with Store(postgres_url, readonly=True) as store, pytest.raises(StoreError) as info:
        store._conn.execute("SELECT pg_sleep(1)")
    assert "\n" not in str(info.value) and "statement timeout" in str(info.value)
