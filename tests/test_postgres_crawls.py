"""Issue 31 end to end: every spider and command on PostgreSQL (NEWSBOT_DB=postgresql://…), against the
replica over real sockets and a real server (tests/postgres.py): the same results as SQLite, and the
failures a shared server brings (stopped mid-crawl, a crawl killed mid-transaction, a bad URL)
said in one line, with nothing stored lost and nothing unstored journaled."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import psycopg
import pytest
import pytest_twisted
from scrapy import signals
from scrapy.crawler import CrawlerRunner

from newsbot.store import Store
from tests.crawling import ROOT, assert_matches_ground_truth, crawl, crawl_settings, logged, scrapy_cli
from tests.postgres import PASSWORD, PostgresServer, remove, start_postgres
from tests.replica.client import RunningReplica, start_replica
from tests.scrapyd_helpers import free_port
from tests.test_fault_drills import ANY_ARTICLE
from tests.test_pipelines import assert_journal_is_the_store, jsonl_lines
from tests.test_spiders import LANGS, requests_beyond_robots

# The sitemap spider backfills a window: one holding every day of the replica's stories.
SPIDER_ARGS = {"latest": {}, "category": {}, "sitemap": {"since": "2025-01-01", "until": "2026-12-31"}}
# Set by the crawl, not by the site: they differ between any two crawls.
CRAWL_TIME_FIELDS = ("crawled_at", "first_seen_at", "last_crawled_at")


@pytest.fixture(scope="module")
def site() -> Iterator[RunningReplica]:
    """A small replica the comparison crawls only read."""
    running = start_replica(stories=20)
    yield running
    running.stop()


def export(db: str) -> list[dict]:
    result = scrapy_cli("export", "--db", db, "--format", "jsonl")
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return sorted(({k: v for k, v in r.items() if k not in CRAWL_TIME_FIELDS} for r in records),
                  key=lambda r: r["url"])


def stats_json(db: str) -> dict:
    result = scrapy_cli("stats", "--db", db, "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    report.pop("database")
    report.pop("schema_version")  # each backend numbers its own migrations
    return report


@pytest.mark.parametrize("spider", list(SPIDER_ARGS))
@pytest_twisted.ensureDeferred
async def test_a_crawl_into_postgresql_exports_what_the_same_crawl_into_sqlite_does(
        site, tmp_path, postgres_url, spider):
    sqlite = str(tmp_path / "news.sqlite")
    results = {}
    for db in (sqlite, postgres_url):
        results[db] = await crawl(spider, crawl_settings(site.base_url, db), **SPIDER_ARGS[spider])
        assert results[db].reason == "finished" and results[db].errors == 0, results[db].stats
    assert results[postgres_url].stat("newsbot/store/inserted") == results[sqlite].stat("newsbot/store/inserted") > 0
    exported = export(postgres_url)
    assert exported == export(sqlite)
    assert_matches_ground_truth(exported, site.ground_truth())


@pytest_twisted.ensureDeferred
async def test_latest_on_postgresql_is_incremental_and_stats_and_report_agree_with_sqlite(
        site, tmp_path, postgres_url):
    sqlite = str(tmp_path / "news.sqlite")
    for db in (sqlite, postgres_url):
        first = await crawl("latest", crawl_settings(site.base_url, db))
        assert first.reason == "finished" and first.stat("newsbot/store/inserted") == len(site.ground_truth())
    site.hits(reset=True)
    second = await crawl("latest", crawl_settings(site.base_url, postgres_url))
    on_sqlite = await crawl("latest", crawl_settings(site.base_url, sqlite))
    # As on SQLite (tests/test_spiders.py): nothing new, and per edition the home page and the first
    # feed batch, found all stored; no article page fetched again.
    assert second.reason == "finished" and second.errors == 0
    assert {k: v for k, v in second.stats.items() if k.startswith(("newsbot/stop/", "downloader/request_count"))} \
        == {k: v for k, v in on_sqlite.stats.items() if k.startswith(("newsbot/stop/", "downloader/request_count"))}
    assert second.items == [] and second.stat("newsbot/store/inserted") == 0
    assert requests_beyond_robots(second) <= 2 * len(LANGS)
    assert all(second.stats[f"newsbot/stop/{lang}"] == "already_stored" for lang in LANGS)
    articles = {t["url"].removeprefix(site.base_url) for t in site.ground_truth()}
    assert not articles & set(site.hits()["paths"])

    assert stats_json(postgres_url) == stats_json(sqlite)
    for db, name in ((sqlite, "sqlite.html"), (postgres_url, "pg.html")):
        result = scrapy_cli("report", "--db", db, "-o", str(tmp_path / name))
        assert result.returncode == 0, result.stderr[-3000:]
        # The page's size differs with the store's name and the runs each store had.
        assert result.stderr.strip().endswith(f" KB, {len(articles)} articles)"), result.stderr
    page = (tmp_path / "pg.html").read_text("utf-8")
    assert PASSWORD not in page and postgres_url.replace(PASSWORD, "***") in page


@pytest.fixture
def private_server() -> Iterator[PostgresServer]:
    """A server of this test's own, to stop and start without taking the session's from other tests.
    Its commits are synchronous: without that (tests/postgres.py trades it for speed) an immediate stop
    loses transactions the server had already said were committed."""
    server = start_postgres()
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET synchronous_commit = on")
        conn.execute("SELECT pg_reload_conf()")
    yield server
    remove(server)


def assert_said_once(caplog: pytest.LogCaptureFixture, store: str, cause: str | tuple[str, ...], unsaved: int) -> None:
    """The log's errors: the cause (one of them), once, naming the store without its password, and what
    was not stored; no traceback. What follows from the cause (the last attempt at close failing again,
    the run's end not recorded) is no second error."""
    assert not [r for r in caplog.records if r.exc_info] and "Traceback" not in caplog.text
    assert PASSWORD not in caplog.text
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2, errors
    causes = (cause,) if isinstance(cause, str) else cause
    assert errors[0].startswith("Cannot write to the article store, stopping the crawl"), errors
    assert any(c in errors[0] for c in causes), errors
    assert errors[1].startswith(f"{unsaved} items were not stored in {store}"), errors


# Write transactions of newsbot waiting on a lock (another's: here the test's).
WAITING_WRITERS = ("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'newsbot' "
                   "AND wait_event_type = 'Lock'")


def scalar(url: str, sql: str) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchone()[0]


def wait_for(condition: Callable[[], Any], what: str, process: subprocess.Popen | None = None,
             limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert process is None or process.poll() is None, f"the crawl ended before {what}"
        assert time.monotonic() < deadline, f"no {what} in {limit}s"
        time.sleep(0.02)


def hold_back_the_journal(url: str) -> psycopg.Connection:
    """A connection holding the lock a batch's transaction takes last, after its rows are written and its
    journal lines appended: the batch then waits to commit, at the worst moment for the journal."""
    holder = psycopg.connect(url)
    holder.execute("LOCK TABLE journal_files IN EXCLUSIVE MODE")
    return holder


@pytest.mark.parametrize("mode", ["fast", "immediate"])
@pytest_twisted.ensureDeferred
async def test_a_server_stopped_mid_commit_closes_the_crawl_in_one_line_and_loses_nothing_stored(
        replica, tmp_path, private_server, caplog, mode):
    # Slowed article pages and small batches: transactions commit before the stop, and more would after.
    site = replica(stories=20, faults=[{"match": ANY_ARTICLE, "delay": 0.3}])
    url, jsonl = private_server.create_database("news"), tmp_path / "news.jsonl"
    settings = crawl_settings(site.base_url, url, NEWSBOT_JSONL=str(jsonl), NEWSBOT_DB_BATCH_SIZE=3,
                              NEWSBOT_DB_FLUSH_INTERVAL=0.2, NEWSBOT_DB_TIMEOUT=30)
    runner = CrawlerRunner(settings)
    crawler = runner.create_crawler("latest")
    held: list[bool] = []

    def stop_mid_commit() -> None:
        holder = hold_back_the_journal(url)
        try:
            wait_for(lambda: scalar(url, WAITING_WRITERS), "batch held back")
            held.append(True)
        finally:
            private_server.stop(mode)
            holder.close()

    stopper = threading.Thread(target=stop_mid_commit)

    def item_scraped(item, response, spider):
        if crawler.stats.get_value("newsbot/store/transactions", 0) >= 2 and stopper.ident is None:
            stopper.start()

    crawler.signals.connect(item_scraped, signals.item_scraped)
    with caplog.at_level(logging.WARNING):
        await runner.crawl(crawler)
    assert stopper.ident is not None, "the crawl ended before two batches were committed"
    stopper.join(60)
    stats = crawler.stats.get_stats()
    private_server.start()
    assert held, "no batch was waiting to commit when the server stopped"

    assert stats["finish_reason"] == "store_unavailable"
    stored = stats.get("newsbot/store/inserted", 0) + stats.get("newsbot/store/updated", 0)
    assert 0 < stored < len(site.ground_truth())
    with Store(url, readonly=True) as store:
        articles = list(store.iter_articles())
    assert len(articles) == stored
    truth = {t["url"]: t for t in site.ground_truth()}
    assert_matches_ground_truth(articles, [truth[a["url"]] for a in articles])
    # The batch the stop caught had its lines appended: they went with its transaction.
    assert_journal_is_the_store(jsonl, url)
    name = url.replace(PASSWORD, "***")
    # Stopped mid-commit, or while the writer's connection sat between batches: then opening it again
    # meets the server shutting down.
    assert_said_once(caplog, name, (f"{name} is unreachable", f"Cannot connect to PostgreSQL at {name}"),
                     stats["newsbot/store/unsaved"])


def test_a_crawl_killed_mid_transaction_leaves_no_partial_batch_and_the_next_one_each_article_once(
        replica, tmp_path, postgres_url):
    site = replica(stories=20, faults=[{"match": ANY_ARTICLE, "delay": 0.2}])
    truth = {t["url"]: t for t in site.ground_truth()}
    jsonl = tmp_path / "news.jsonl"
    args = ["crawl", "latest", "-s", f"NEWSBOT_BASE_URL={site.base_url}", "-s", f"NEWSBOT_DB={postgres_url}",
            "-s", f"NEWSBOT_JSONL={jsonl}", "-s", "NEWSBOT_DB_BATCH_SIZE=4", "-s", "NEWSBOT_DB_TIMEOUT=60",
            "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0", "-s", "NEWSBOT_LATEST_SINCE=",
            "-s", "TELNETCONSOLE_ENABLED=0"]
    scrapy = str(Path(sys.executable).with_name("scrapy"))
    process = subprocess.Popen([scrapy, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: scalar(postgres_url, "SELECT to_regclass('articles')") and
                 scalar(postgres_url, "SELECT count(*) FROM articles") >= 8, "two batches committed", process)
        with hold_back_the_journal(postgres_url):
            wait_for(lambda: scalar(postgres_url, WAITING_WRITERS), "batch held back", process)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
    assert process.returncode == -signal.SIGKILL

    with Store(postgres_url, readonly=True) as store:
        stored = list(store.iter_articles())
    assert 8 <= len(stored) < len(truth)
    assert len(jsonl_lines(jsonl)) > len(stored)  # the killed batch's lines, never committed
    # Each stored article whole: its tags, images and editions as the page had them.
    assert_matches_ground_truth(stored, [truth[a["url"]] for a in stored])

    resumed = scrapy_cli(*args, timeout=180)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "'finish_reason': 'finished'" in resumed.stderr
    assert "Traceback" not in resumed.stderr and not logged(resumed.stderr, "ERROR")
    with Store(postgres_url, readonly=True) as store:
        assert_matches_ground_truth(list(store.iter_articles()), list(truth.values()))
    assert_journal_is_the_store(jsonl, postgres_url)


SECRET = "s3cret-never-shown"


def bad_urls(server: PostgresServer) -> dict[str, tuple[str, str]]:
    """What a user may give NEWSBOT_DB or --db, holding SECRET: (URL, what its one line says)."""
    return {
        "wrong password": (server.url("postgres", SECRET), "password authentication failed"),
        "server down": (f"postgresql://newsbot:{SECRET}@127.0.0.1:{free_port()}/news", "Connection refused"),
        "unclosed IPv6 host": (f"postgresql://newsbot:{SECRET}@[::1/news", "Invalid PostgreSQL URL"),
        "port not a number": (f"postgresql://newsbot:{SECRET}@127.0.0.1:port/news", 'invalid integer value "port"'),
        "bad escape in the password": (f"postgresql://newsbot:{SECRET}%zz@127.0.0.1/news", "percent-encoded"),
        "password in the query": (f"postgresql://newsbot@127.0.0.1:{free_port()}/news?password={SECRET}",
                                  "Connection refused"),
    }


@pytest.mark.parametrize("case", ["wrong password", "server down", "unclosed IPv6 host"])
def test_a_crawl_given_a_bad_postgresql_url_stops_in_one_line_without_the_password(site, postgres_server, case):
    url, message = bad_urls(postgres_server)[case]
    crawled = scrapy_cli("crawl", "latest", "-s", f"NEWSBOT_DB={url}", "-s", f"NEWSBOT_BASE_URL={site.base_url}",
                         "-s", "NEWSBOT_LATEST_SINCE=", "-s", "TELNETCONSOLE_ENABLED=0", timeout=120)
    assert crawled.returncode != 0 and "Traceback" not in crawled.stderr, crawled.stderr[-3000:]
    assert SECRET not in crawled.stderr + crawled.stdout
    assert "'finish_reason': 'store_unavailable'" in crawled.stderr
    [error] = logged(crawled.stderr, "ERROR")
    assert error.startswith("The article store is unavailable, stopping the crawl: ") and message in error, error


@pytest.mark.parametrize("case", ["wrong password", "server down", "unclosed IPv6 host", "port not a number",
                                  "bad escape in the password", "password in the query"])
def test_stats_given_a_bad_postgresql_url_says_so_in_one_line_without_the_password(postgres_server, case):
    url, message = bad_urls(postgres_server)[case]
    result = scrapy_cli("stats", "--db", url)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert SECRET not in result.stderr + result.stdout, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("stats: ") and message in line, line
