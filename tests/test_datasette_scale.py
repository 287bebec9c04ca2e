"""Datasette at scale (issue 32). bench.datasette on a small store built as the benchmark builds its large
ones: every page of `scrapy browse` an analyst reaches, opened in headless Chromium, passes, and a page
Datasette gives up on (a facet, a query) is reported as failing. And the stories and story_editions views,
which read story_rows from schema v9, stay what they computed from the articles before."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import urllib.parse
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.datasette import browsing, visit
from bench.exports import _hash, articles, build_store
from newsbot.normalize import story_id
from newsbot.store import Store
from newsbot.store.datasette import CANNED_QUERIES
from tests.browser import in_browser
from tests.crawling import ROOT


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return build_store(300, tmp_path_factory.mktemp("datasette-scale"))


def bench(db: Path, out: Path, *settings: str) -> tuple[int, list[dict[str, Any]]]:
    """python -m bench.datasette on `db`: its exit status and its pages."""
    command = [sys.executable, "-m", "bench.datasette", "--db", str(db), "--out", str(out)]
    for setting in settings:
        command += ["--setting", *setting.split("=")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.exists(), run.stderr[-2000:]
    return run.returncode, json.loads(out.read_text(encoding="utf-8"))


def test_every_page_of_browse_answers_on_a_store_built_as_the_bench_builds_it(store, tmp_path):
    status, pages = bench(store, tmp_path / "pages.json")
    assert [p for p in pages if not p["passed"]] == [] and status == 0
    kinds = Counter(p["kind"] for p in pages)
    assert set(kinds) == {"index", "database", "table", "view", "search", "row", "story", "query", "facet", "next"}
    urls = [p["url"] for p in pages]
    for name in CANNED_QUERIES:
        assert any(url.split("?")[0].endswith(f"/{name}") for url in urls), name
    for table in ("articles", "article_view", "stories", "story_editions", "tags", "translations"):
        assert any(f"/{table}?" in url and p["kind"] == "facet" for url, p in zip(urls, pages)), table


def test_a_facet_out_of_time_fails_the_bench(store, tmp_path):
    status, pages = bench(store, tmp_path / "pages.json", "facet_time_limit_ms=1")
    assert status == 1
    (tags,) = [p for p in pages if p["kind"] == "table" and p["url"].endswith("/tags")]
    assert tags["problems"] == ["facets timed out: tag"] and not tags["passed"]
    assert any(p["passed"] for p in pages)  # a page without facets still answers


def test_a_query_out_of_time_is_a_failing_page(store):
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    with browsing(store, []) as base:
        url = f"{base}/{store.stem}?" + urllib.parse.urlencode({"sql": endless})
        page = in_browser(lambda browser: visit(browser.new_page(), "query", url))
    assert page["problems"][:1] == ["SQL query took too long"] and not page["passed"]


# The stories and story_editions views as schema v2-v8 defined them: an aggregate over every article.
STORIES = """
    SELECT a.story_id, min(nullif(a.published_at, '')), max(nullif(a.published_at, '')),
           (SELECT group_concat(language) FROM (SELECT DISTINCT e.language FROM articles AS e
                                                WHERE e.story_id = a.story_id ORDER BY e.language)),
           count(*), min(a.first_seen_at)
    FROM articles AS a GROUP BY a.story_id"""
STORY_EDITIONS = """
    SELECT story_id, min(nullif(published_at, '')), max(category_slug),
           max(CASE language WHEN 'az' THEN title END), max(CASE language WHEN 'en' THEN title END),
           max(CASE language WHEN 'ru' THEN title END), max(CASE language WHEN 'az' THEN url END),
           max(CASE language WHEN 'en' THEN url END), max(CASE language WHEN 'ru' THEN url END)
    FROM articles GROUP BY story_id"""


def views_and_aggregates(db: Path) -> tuple[list, list]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return ([sorted(conn.execute(f"SELECT * FROM {view}").fetchall()) for view in ("stories", "story_editions")],
                [sorted(conn.execute(sql).fetchall()) for sql in (STORIES, STORY_EDITIONS)])


def test_the_story_views_stay_the_aggregate_of_the_articles_through_edits_merges_and_deletes(tmp_path):
    """story_rows, kept by triggers, against the views' former aggregate, after each kind of write."""
    db = tmp_path / "store.sqlite"
    items = list(articles(300))
    with Store(db) as store:
        store.write(items)
    views, aggregates = views_and_aggregates(db)
    assert views == aggregates
    stories = len(views[0])
    # Story 1's editions were stored unlinked, three stories; its az edition, edited, links the other two: one
    # story (a merge moves the en and ru articles), a new title, and a publication a day earlier.
    az, en, ru = items[3:6]
    edited = {**az, "title": "Edited title", "crawled_at": "2027-01-01T00:00:00Z",
              "published_at": (datetime.fromisoformat(az["published_at"]) - timedelta(days=1)).isoformat(),
              "translations": [{"language": e["language"], "url": e["url"], "title": e["title"]} for e in (en, ru)],
              "story_id": story_id([az["url"], en["url"], ru["url"]])}
    edited["content_hash"] = _hash(edited)
    with Store(db) as store:
        store.write([edited])
    views, aggregates = views_and_aggregates(db)
    assert views == aggregates and len(views[0]) == stories - 2
    (merged,) = [row for row in views[1] if row[3] == "Edited title"]
    assert merged[1] == edited["published_at"] and None not in merged
    # A deleted article leaves its story, and a story of one article goes with it.
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM articles WHERE url IN (?, ?)", (en["url"], items[7]["url"]))
    views, aggregates = views_and_aggregates(db)
    assert views == aggregates and len(views[0]) == stories - 3
    assert [row[3:5] for row in views[1] if row[0] == merged[0]] == [("Edited title", None)]
