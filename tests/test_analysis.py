"""For the analysts (issue 16): freshness stats, Parquet, the HTML report and Datasette in a real
browser, and every command of docs/analysis.md, on a store crawled from the replica (and, for the
doc's PostgreSQL section, on that store merged into PostgreSQL)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from datetime import datetime
from typing import Iterator
from pathlib import Path

import pytest

from newsbot.pipelines.store import freshness
from newsbot.store import EXPORT_FIELDS, Store
from tests.browser import in_browser, visit
from tests.crawling import ROOT, scrapy_cli
from tests.postgres import PASSWORD

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def crawled(shared_replica, tmp_path_factory) -> Path:
    """A store of one complete `latest` crawl of the 60-story replica, as `scrapy crawl` makes it."""
    db = tmp_path_factory.mktemp("analysis") / "data" / "newsbot.sqlite"
    db.parent.mkdir()
    run = scrapy_cli("crawl", "latest", "-s", f"NEWSBOT_BASE_URL={shared_replica.base_url}", "-s", f"NEWSBOT_DB={db}",
                     "-s", "NEWSBOT_LATEST_SINCE=", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0")
    assert run.returncode == 0, run.stderr[-2000:]
    return db


def rows(db: Path, query: str, *params) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(query, params).fetchall()


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- freshness -------------------------------------------------------------


def test_freshness_is_the_median_and_nearest_rank_p95():
    assert freshness([]) == {}
    assert freshness([float(s) for s in range(100, 0, -1)]) == {"median_seconds": 50.5, "p95_seconds": 95.0}
    assert freshness([7.0]) == {"median_seconds": 7.0, "p95_seconds": 7.0}


def test_a_crawl_records_the_freshness_of_its_new_articles(crawled):
    (stats,) = rows(crawled, "SELECT stats FROM crawl_runs")
    stats = json.loads(stats[0])
    # Every article is new in this one run: the latencies are the store's first_seen_at - published_at_utc.
    latencies = sorted((instant(seen) - instant(published)).total_seconds() for seen, published in rows(
        crawled, "SELECT first_seen_at, published_at_utc FROM articles WHERE published_at_utc != ''"))
    assert len(latencies) == stats["newsbot/store/inserted"] > 100
    assert stats["newsbot/freshness/median_seconds"] == pytest.approx(statistics.median(latencies), abs=0.1)
    assert stats["newsbot/freshness/p95_seconds"] == pytest.approx(latencies[int(0.95 * len(latencies)) - 1], abs=0.1)
    # The replica's news is from around January 2026 and was crawled just now: months, never negative.
    assert 0 < stats["newsbot/freshness/median_seconds"] <= stats["newsbot/freshness/p95_seconds"]
    assert stats["newsbot/freshness/median_seconds"] > 86400


# --- Parquet ---------------------------------------------------------------


def test_parquet_export_is_typed_and_holds_what_jsonl_holds(crawled, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newsbot.parquet import SCHEMA

    target = tmp_path / "articles.parquet"
    result = scrapy_cli("export", "--db", str(crawled), "--format", "parquet", "-o", str(target))
    assert result.returncode == 0, result.stderr
    table = pq.read_table(target)
    assert table.schema.equals(SCHEMA)
    assert table.schema.field("tags").type == pa.list_(pa.string())
    assert table.schema.field("images").type == pa.list_(pa.struct([("url", pa.string()), ("caption", pa.string())]))
    assert str(table.schema.field("published_at").type) == "timestamp[ms, tz=+04:00]"
    assert table.schema.field("site_id").type == pa.int64() and table.schema.field("site_id").nullable
    with Store(crawled, readonly=True) as store:
        expected = list(store.iter_articles())
    parquet = table.to_pylist()
    assert len(parquet) == len(expected) == rows(crawled, "SELECT count(*) FROM articles")[0][0]
    for got, want in zip(parquet, expected):
        assert list(got) == list(EXPORT_FIELDS)
        for field in EXPORT_FIELDS:
            if field in ("published_at", "published_at_utc", "crawled_at"):
                assert got[field] == (instant(want[field]) if want[field] else None), field
            elif field == "published_date":
                assert got[field] == (instant(want["published_at"]).date() if want["published_at"] else None)
            else:
                assert got[field] == want[field], field
    assert any(a["site_id"] is None for a in parquet) and any(a["tags"] for a in parquet)
    # A .parquet name implies the format; a filter applies as for JSON Lines.
    english = tmp_path / "en.parquet"
    assert scrapy_cli("export", "--db", str(crawled), "--lang", "en", "-o", str(english)).returncode == 0
    assert set(pq.read_table(english).column("language").to_pylist()) == {"en"}


def test_parquet_is_written_in_row_groups_of_bounded_size(crawled, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from newsbot import parquet

    whole = tmp_path / "whole.parquet"
    assert scrapy_cli("export", "--db", str(crawled), "-o", str(whole)).returncode == 0
    # Groups of 7 made 3 rows at a time: a group of several Arrow batches, and a short last one.
    monkeypatch.setattr(parquet, "ROWS_PER_BATCH", 3)
    grouped = tmp_path / "grouped.parquet"
    with Store(crawled, readonly=True) as store:
        count = parquet.write_parquet(store.export_rows(encoded=True), grouped, rows_per_group=7)
    assert count == rows(crawled, "SELECT count(*) FROM articles")[0][0] > 14 and count % 7
    metadata = pq.ParquetFile(grouped).metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [7] * (count // 7) + [count % 7]
    assert pq.read_table(grouped).equals(pq.read_table(whole))
    # Nothing selected: a file with the schema and no rows.
    empty = tmp_path / "empty.parquet"
    assert scrapy_cli("export", "--db", str(crawled), "--since", "2099-01-01", "-o", str(empty)).returncode == 0
    table = pq.read_table(empty)
    assert table.num_rows == 0 and table.schema.equals(parquet.SCHEMA)


@pytest.mark.parametrize("output_format", ["parquet", "jsonl", "csv"])
def test_an_export_to_a_file_says_how_far_it_has_got(crawled, tmp_path, output_format):
    count = rows(crawled, "SELECT count(*) FROM articles")[0][0]
    target = tmp_path / f"articles.{output_format}"
    every_article = ("-s", "NEWSBOT_PROGRESS_INTERVAL=0.000001")
    done = scrapy_cli("export", "--db", str(crawled), "-o", str(target), *every_article)
    assert done.returncode == 0 and done.stdout == "", done.stderr
    *progress, last = done.stderr.splitlines()
    assert last == f"Exported {count} articles to {target}"
    counts = [int(re.fullmatch(rf"export: ([\d,]+) of {count:,} articles \([\d,]+/s\)", line)[1].replace(",", ""))
              for line in progress]
    assert len(counts) > count // 2 and counts == sorted(counts) and counts[-1] <= count, done.stderr
    # A selection's total is not known beforehand; on stdout the data goes alone.
    english = scrapy_cli("export", "--db", str(crawled), "--lang", "en", "-o", str(target), *every_article)
    assert re.fullmatch(r"export: [\d,]+ articles \([\d,]+/s\)", english.stderr.splitlines()[0]), english.stderr
    if output_format == "jsonl":
        to_stdout = scrapy_cli("export", "--db", str(crawled), *every_article)
        assert to_stdout.returncode == 0 and to_stdout.stderr == "" and len(to_stdout.stdout.splitlines()) == count


def test_parquet_and_report_say_what_to_install_when_missing(crawled, tmp_path):
    # Packages that fail to import, ahead on the path: as if the analysis extra were not installed.
    fake = tmp_path / "fake"
    for name in ("pyarrow", "matplotlib", "datasette"):
        (fake / name).mkdir(parents=True)
        (fake / name / "__init__.py").write_text(f"raise ImportError('no {name} here')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(fake), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for args in (("export", "--format", "parquet", "-o", str(tmp_path / "a.parquet")),
                 ("report", "-o", str(tmp_path / "r.html")), ("browse",)):
        result = scrapy_cli(*args, "--db", str(crawled), env=env)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "pip install -e '.[analysis]'" in result.stderr, result.stderr
    assert scrapy_cli("export", "--db", str(crawled), "--format", "parquet").returncode == 2  # no -o
    missing = scrapy_cli("report", "--db", str(crawled), "-o", str(tmp_path / "no" / "r.html"))
    assert missing.returncode == 2 and missing.stderr.startswith("report: error: -o ") and "no such directory" in missing.stderr


# --- scrapy report in Chromium ----------------------------------------------


def test_report_renders_every_chart_offline(crawled, tmp_path):
    page_file = tmp_path / "report.html"
    result = scrapy_cli("report", "--db", str(crawled), "-o", str(page_file))
    assert result.returncode == 0, result.stderr
    text = page_file.read_text(encoding="utf-8")
    assert "<script" not in text and not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    url = page_file.as_uri()
    shot = tmp_path / "report.png"
    (images, headings), requested = visit(url, lambda page: (
        page.evaluate("[...document.images].map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])"),
        page.locator("h2").all_inner_texts()), screenshot=shot)
    assert [alt for alt, *_ in images] == [
        "Articles per day per edition", "Stories by number of editions", "Category mix per edition",
        "Crawl runs", "Field fill rates", "Freshness"]
    assert all(complete and width > 0 and height > 0 for _, complete, width, height in images), images
    assert "Last crawl runs" in headings
    assert requested == [url]  # the page itself and nothing else: no CDN, no font, no image fetched
    assert shot.stat().st_size > 20_000


# --- Datasette in Chromium ---------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def datasette(crawled):
    """`scrapy browse` on the crawled store: the base URL of the Datasette it runs."""
    with browsing(crawled) as base:
        yield base


@contextlib.contextmanager
def browsing(db: Path, settings: tuple[tuple[str, str], ...] = (), start_seconds: float = 60) -> Iterator[str]:
    """`scrapy browse --db db` running, with these Datasette settings (bench.datasette's too): the base URL of
    its Datasette. start_seconds: how long it may take to answer (an older store is migrated first)."""
    port = free_port()
    # A file, not a pipe: nobody reads Datasette's access log while it serves, and a full pipe would stop it.
    log = db.with_name(db.stem + "-browse.log").open("w+b")
    command = [str(BIN / "scrapy"), "browse", "--db", str(db), "--port", str(port)]
    for name, value in settings:
        command += ["--setting", name, value]
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/versions.json", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise AssertionError(f"datasette did not start: {log.read().decode()[-2000:]}")
                time.sleep(0.3)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def test_datasette_full_text_search_shows_the_matching_articles(crawled, datasette, tmp_path):
    # A word of one story's titles that few articles have: the search must show exactly those.
    with Store(crawled, readonly=True) as store:
        candidates = sorted({w for (title,) in rows(crawled, "SELECT title FROM articles WHERE language = 'en'")
                             for w in re.findall(r"[A-Za-z]{6,}", title)})
        word, hits = next((w, found) for w in candidates if 1 < len(found := store.search(w, limit=100)) <= 6)
    url = f"{datasette}/newsbot/articles?_search={word}"
    (titles, body), _ = visit(url, lambda page: (page.locator("td.col-title").all_inner_texts(),
                                                 page.inner_text("body")), screenshot=tmp_path / "search.png")
    assert sorted(t.strip() for t in titles) == sorted(hit["title"] for hit in hits)
    assert f'{len(hits)} rows where search matches "{word}"' in body
    # The packaged descriptions and facets are there too.
    assert "One row per edition page" in body and "language" in body


def test_datasette_canned_query_shows_the_stories_in_all_editions(crawled, datasette, tmp_path):
    # Worked out from the articles table, not the view the query reads.
    complete = {story for (story,) in rows(
        crawled, "SELECT story_id FROM articles GROUP BY story_id HAVING count(DISTINCT language) = 3")}
    assert 0 < len(complete) < rows(crawled, "SELECT count(DISTINCT story_id) FROM articles")[0][0]
    (stories, body), _ = visit(f"{datasette}/newsbot/stories_in_all_editions", lambda page: (
        page.locator("td.col-story_id").all_inner_texts(), page.inner_text("body")),
        screenshot=tmp_path / "canned.png")
    assert "Stories in all three editions" in body
    assert sorted(s.strip() for s in stories) == sorted(complete)
    (facets, _), _ = visit(f"{datasette}/newsbot/article_view", lambda page: (
        page.locator(".facet-info").evaluate_all("nodes => nodes.map(n => n.dataset.column)"), None))
    assert sorted(facets) == ["category_slug", "language", "published_date"]


def link_kind(url: str) -> tuple[str, tuple[str, ...]]:
    """What a link is, not where it goes: its path with ids and numbers as '*', and its query's names."""
    parts = urllib.parse.urlsplit(url)
    path = re.sub(r"/[^/]*\d[^/]*(?=/|$)", "/*", parts.path)  # a row's key (ids, numbers, "id,position")
    return path, tuple(sorted(name for name, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)))


def test_datasette_links_resolve_and_an_article_lists_its_tags_images_and_editions(crawled, datasette, tmp_path):
    """In headless Chromium: an article's page counts its child rows, a child row leads back to the
    article, a story id to its editions, the articles table shows excerpts with the column descriptions
    in the column menu, and one link of every kind on the pages analysts start from resolves."""
    aid, title, story = rows(crawled, """
        SELECT article_id, title, story_id FROM articles AS a
        WHERE EXISTS (SELECT 1 FROM tags AS t WHERE t.article_id = a.article_id)
          AND EXISTS (SELECT 1 FROM images AS i WHERE i.article_id = a.article_id)
          AND EXISTS (SELECT 1 FROM translations AS r WHERE r.article_id = a.article_id)
        ORDER BY published_at DESC LIMIT 1""")[0]
    children = {table: rows(crawled, f"SELECT count(*) FROM {table} WHERE article_id = ?", aid)[0][0]
                for table in ("tags", "images", "translations")}
    editions = rows(crawled, "SELECT count(*) FROM articles WHERE story_id = ?", story)[0][0]
    longest = rows(crawled, "SELECT max(length(body)) FROM articles")[0][0]
    base = f"{datasette}/newsbot"

    def work(browser):
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        seen: dict[str, int] = {}

        def go(url: str) -> str:
            response = page.goto(url, wait_until="domcontentloaded")
            seen[url] = response.status
            assert response.status == 200, (url, response.status)
            return page.inner_text("body")

        # The article's page lists its children, each a link to exactly those rows.
        text = go(f"{base}/articles/{aid}")
        assert title in text
        for table, count in children.items():
            assert re.search(rf"\b{count} rows? from article_id in {table}\b", text), (table, text[-1500:])
        child_links = page.locator("h2:has-text('Links from other tables') + ul a").evaluate_all(
            "links => links.map(a => a.href)")
        # A tag row's article is a link back to the article (the primary key), labelled by its title.
        text = go(f"{base}/tags?" + urllib.parse.urlencode({"article_id": aid}))
        assert f"{children['tags']} row" in text
        back = page.locator("td.col-article_id a").first
        assert title in back.inner_text()
        back.click()
        page.wait_for_load_state("domcontentloaded")
        assert page.url.endswith(f"/articles/{aid}") and "Record not found" not in page.inner_text("body")
        # A story id is a link to the story's editions.
        go(f"{base}/articles/{aid}")
        page.locator("td.col-story_id a, dd a", has_text=story).first.click()
        page.wait_for_load_state("domcontentloaded")
        assert f"{editions} row" in page.inner_text("body") and f"story_id={story}" in page.url
        assert sorted(page.locator("td.col-story_id").all_inner_texts()) == [story] * editions
        # The table: excerpts, and the column descriptions in the column's menu, not above the rows.
        go(f"{base}/articles")
        bodies = page.locator("td.col-body").all_inner_texts()
        assert bodies and longest > 300 and max(len(b) for b in bodies) <= 301
        assert not page.locator("dl.column-descriptions").is_visible()
        page.locator("th.col-body .dropdown-menu-icon").click()
        assert page.locator(".dropdown-column-description").inner_text() == "Real paragraphs joined by blank lines"
        page.screenshot(path=str(tmp_path / "articles.png"))
        # One link of every kind from the pages an analyst starts from, and from the pages they lead to.
        pages = [f"{base}/articles/{aid}", f"{base}/articles", f"{base}/tags", f"{base}/images",
                 f"{base}/translations", f"{base}/stories", f"{base}/story_editions", f"{base}/article_view",
                 *child_links]
        kinds: set = set()
        for depth in range(2):
            found = []
            for url in pages:
                go(url)
                found += page.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
            pages = []
            for url in dict.fromkeys(found):
                kind = link_kind(url)
                if not url.startswith(base) or "#" in url or kind in kinds:
                    continue
                kinds.add(kind)
                if re.search(r"\.(json|csv|db)(\?|$)", url):  # a download: fetched, not shown
                    status = page.request.get(url).status
                    assert status == 200, (url, status)
                    seen[url] = status
                else:
                    pages.append(url)
        for url in pages:
            assert "Record not found" not in go(url), url
        return seen

    seen = in_browser(work)
    assert len(seen) > 40 and set(seen.values()) == {200}


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_datasette_never_serves_the_run_records_settings(crawled, datasette):
    stored = rows(crawled, "SELECT settings FROM crawl_runs")
    assert stored and all("NEWSBOT_DB" in settings for (settings,) in stored)
    table = get_json(f"{datasette}/newsbot/crawl_runs.json?_shape=array")
    assert len(table) == len(stored) and all(row["settings"] is None for row in table)
    assert all(row["spider"] for row in table)  # the rest of the run record is served
    for sql in ("select settings from crawl_runs", "select json_extract(settings, '$.NEWSBOT_DB') as s from crawl_runs",
                "select (select group_concat(settings) from crawl_runs) as s"):
        answer = get_json(f"{datasette}/newsbot.json?" + urllib.parse.urlencode({"sql": sql, "_shape": "array"}))
        assert answer and all(value is None for row in answer for value in row.values()), (sql, answer)
    # Nor as a yes/no oracle: a condition on the settings matches no run.
    probe = urllib.parse.urlencode({"sql": "select run_id from crawl_runs where settings like '%NEWSBOT_DB%'",
                                    "_shape": "array"})
    assert get_json(f"{datasette}/newsbot.json?{probe}") == []
    with urllib.request.urlopen(f"{datasette}/newsbot/crawl_runs/1", timeout=10) as response:
        assert "NEWSBOT_DB" not in response.read().decode("utf-8")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def test_browse_on_every_interface_warns_and_its_datasette_dies_with_it(crawled, tmp_path):
    port = free_port()
    log = tmp_path / "browse.log"
    scratch = tmp_path / "tmp"  # TMPDIR of both processes
    scratch.mkdir()
    with log.open("w") as stderr:
        process = subprocess.Popen([str(BIN / "scrapy"), "browse", "--db", str(crawled), "--port", str(port),
                                    "--host", "0.0.0.0"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
                                   start_new_session=True, env={**os.environ, "TMPDIR": str(scratch)})
    base = f"http://127.0.0.1:{port}/-/versions.json"
    try:
        deadline = time.monotonic() + 60
        while not answers(base):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.3)
        warning = [line for line in log.read_text().splitlines() if line.startswith("browse: WARNING")]
        assert len(warning) == 1 and "--host 0.0.0.0 serves the whole store to the network" in warning[0]
        process.kill()  # SIGKILL: this process runs no handler
        process.wait(10)
        deadline = time.monotonic() + 10
        while answers(base):
            assert time.monotonic() < deadline, "Datasette still serves after scrapy browse was killed"
            time.sleep(0.2)
        # Gone, not only deaf: nothing of the session is left.
        deadline = time.monotonic() + 10
        while session_alive(process.pid):
            assert time.monotonic() < deadline, "Datasette still runs after scrapy browse was killed"
            time.sleep(0.2)
        assert list(scratch.iterdir()) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the child too, whatever happened


def session_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_browse_writes_the_metadata_under_the_files_name(tmp_path):
    target = tmp_path / "meta.json"
    result = scrapy_cli("browse", "--db", "shards/en.sqlite", "--write-metadata", str(target))
    assert result.returncode == 0, result.stderr
    metadata = json.loads(target.read_text(encoding="utf-8"))
    database = metadata["databases"]["en"]
    assert set(database["queries"]) == {"stories_in_all_editions", "todays_stories_by_category",
                                        "edited_articles", "last_crawl_runs"}
    assert database["tables"]["articles"]["fts_table"] == "articles_fts"


def test_canned_queries_run_on_the_store(crawled):
    from newsbot.store.datasette import CANNED_QUERIES

    with sqlite3.connect(f"file:{crawled}?mode=ro", uri=True) as conn:
        for name, query in CANNED_QUERIES.items():
            conn.execute(query["sql"], {"day": "2026-01-20"}).fetchall()
        (day,) = conn.execute("SELECT substr(min(published_at), 1, 10) FROM articles WHERE published_at != ''").fetchone()
        by_category = conn.execute(CANNED_QUERIES["todays_stories_by_category"]["sql"], {"day": day}).fetchall()
        stories = conn.execute("SELECT count(*) FROM story_editions WHERE substr(first_published_at, 1, 10) = ?",
                               (day,)).fetchone()[0]
        assert sum(count for _, count, _ in by_category) == stories > 0
        runs = conn.execute(CANNED_QUERIES["last_crawl_runs"]["sql"]).fetchall()
        assert [r[5] for r in runs] == ["finished"]


# --- docs/analysis.md: every command, as written --------------------------------


def blocks_of(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(sh|python)\n(.*?)^```", text, flags=re.S | re.M)


def doc_parts() -> tuple[str, str]:
    """docs/analysis.md without its PostgreSQL section, and that section."""
    before, rest = (ROOT / "docs" / "analysis.md").read_text(encoding="utf-8").split("\n## PostgreSQL\n")
    section, _, after = rest.partition("\n## ")
    return before + "\n## " + after, section


def doc_blocks() -> list[tuple[str, str]]:
    """The blocks run on the SQLite store."""
    return blocks_of(doc_parts()[0])


def doc_env() -> dict[str, str]:
    """The doc's shell: the project's .venv/bin on the PATH, its settings and code importable."""
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "SCRAPY_SETTINGS_MODULE": "newsbot.settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def run_block(language: str, block: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = ["bash", "-euo", "pipefail", "-c", block] if language == "sh" else [sys.executable, "-c", block]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_docs_analysis_has_blocks_for_each_tool():
    code = "\n".join(block for _, block in doc_blocks())
    for needle in ("pd.read_parquet", "import duckdb", "sqlite3 -box", "scrapy export --format parquet"):
        assert needle in code


def test_docs_python_blocks_read_only_the_columns_they_use():
    """Every column of a million articles takes many gigabytes of memory (bench.docs_memory measures the
    blocks): every pandas read of the Parquet file names its columns, and no query selects every column."""
    import ast

    reads = 0
    for language, block in blocks_of((ROOT / "docs" / "analysis.md").read_text(encoding="utf-8")):
        if language != "python":
            continue
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "read_parquet":
                reads += 1
                assert "columns" in [keyword.arg for keyword in node.keywords], ast.unparse(node)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not re.search(r"\bSELECT\s+\*", node.value, flags=re.I), node.value
    assert reads >= 3


def test_docs_per_day_counts_of_duckdb_and_pandas_agree_with_scrapy_stats(crawled, tmp_path):
    """The blocks of docs/analysis.md's "Counting per day", run as the doc shows them: the same count
    for every Baku day; and the UTC day, which the doc warns about, would not give it."""
    section = (ROOT / "docs" / "analysis.md").read_text(encoding="utf-8").split("## Counting per day")[1].split("\n## ")[0]
    blocks = blocks_of(section)
    assert [language for language, _ in blocks] == ["sh", "python", "python"]
    work = crawled.parent.parent
    env = doc_env()
    subprocess.run(["scrapy", "export", "-o", str(tmp_path / "a.parquet")], cwd=work, env=env, check=True,
                   capture_output=True, timeout=120)
    counts = []
    for language, block in blocks:
        result = run_block(language, block.replace("data/articles.parquet", str(tmp_path / "a.parquet")), work, env)
        assert result.returncode == 0, result.stderr[-2000:]
        counts.append({day: int(n) for day, n in re.findall(r"(\d{4}-\d\d-\d\d)\D+?(\d+)", result.stdout)})
    stats, duckdb_days, pandas_days = counts
    assert len(stats) > 5 and sum(stats.values()) == rows(crawled, "SELECT count(*) FROM articles")[0][0]
    assert duckdb_days == stats and pandas_days == stats
    utc_days = dict(rows(crawled, "SELECT substr(published_at_utc, 1, 10), count(*) FROM articles GROUP BY 1"))
    assert utc_days != stats


@pytest.mark.parametrize("index", range(len(doc_blocks())))
def test_docs_analysis_commands_run(crawled, index):
    language, block = doc_blocks()[index]
    work = crawled.parent.parent  # holds data/newsbot.sqlite, as the doc's project directory does
    env = doc_env()
    if not (work / "data" / "articles.parquet").exists():  # the Parquet export the doc's first block makes
        subprocess.run(["scrapy", "export", "--format", "parquet", "-o", "data/articles.parquet"], cwd=work, env=env,
                       check=True, capture_output=True, timeout=120)
    result = run_block(language, block, work, env)
    assert result.returncode == 0, f"{block}\n{result.stderr[-2000:]}"
    assert result.stdout.strip() or "scrapy export" in block, block
    assert "Error" not in result.stderr, result.stderr


# --- docs/analysis.md on PostgreSQL ---------------------------------------------


@pytest.fixture(scope="module")
def postgres_store(crawled, postgres_server) -> str:
    """The crawled store merged into an empty PostgreSQL database: its URL."""
    url = postgres_server.create_database("analysis_docs")
    with Store(url) as store:
        store.merge_from(crawled)
    return url


EDITIONS = ("az", "en", "ru")


def per_day_per_edition(output: str) -> dict[str, tuple[int, ...]]:
    """The lines of a printed table that start with a day (after a border): day -> the numbers after it."""
    return {day: tuple(int(n) for n in re.findall(r"\d+", rest))
            for day, rest in re.findall(r"^\W*(\d{4}-\d\d-\d\d)(.*)$", output, flags=re.M)}


def sqlite_per_day_per_edition(db: Path) -> dict[str, tuple[int, ...]]:
    counts = {(day, language): n for day, language, n in rows(db, """
        SELECT substr(published_at, 1, 10), language, count(*) FROM articles WHERE published_at != ''
        GROUP BY 1, 2""")}
    return {day: tuple(counts.get((day, language), 0) for language in EDITIONS) for day, _ in sorted(counts)}


def test_docs_postgresql_blocks_give_what_the_sqlite_store_gives(crawled, postgres_store, tmp_path):
    """docs/analysis.md's PostgreSQL blocks, run as the doc shows them on a PostgreSQL copy of the crawled
    store: the same articles per Baku day per edition as the SQLite store, through the exports, pandas
    and DuckDB, and no warning on the way."""
    import pyarrow.parquet as pq

    blocks = blocks_of(doc_parts()[1])
    assert [language for language, _ in blocks] == ["sh", "python", "python", "python"]
    expected = sqlite_per_day_per_edition(crawled)
    assert len(expected) > 5 and any(0 in counts for counts in expected.values())
    (tmp_path / "data").mkdir()  # the project directory of the doc, without an SQLite store in it
    env = {**doc_env(), "DATABASE_URL": postgres_store}
    outputs = []
    for language, block in blocks:
        result = run_block(language, block, tmp_path, env)
        assert result.returncode == 0, f"{block}\n{result.stderr[-2000:]}"
        assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr
        outputs.append(result.stdout)
    # The exports: the SQLite snapshot and the Parquet file.
    assert sqlite_per_day_per_edition(tmp_path / "data" / "newsbot.sqlite") == expected
    parquet = pq.read_table(tmp_path / "data" / "articles.parquet", columns=["published_date", "language"])
    counts = Counter(zip(parquet.column("published_date").to_pylist(), parquet.column("language").to_pylist()))
    assert {day.isoformat(): tuple(counts[day, language] for language in EDITIONS)
            for day, _ in counts if day} == expected
    # pandas on the view, then per day per edition by pandas and by DuckDB.
    ru = rows(crawled, "SELECT count(*) FROM articles WHERE language = 'ru'")[0][0]
    assert re.search(rf"^{ru} ru articles$", outputs[1], flags=re.M), outputs[1]
    assert per_day_per_edition(outputs[2]) == expected, outputs[2]
    assert per_day_per_edition(outputs[3]) == expected, outputs[3]


@pytest.mark.parametrize("args, message", [
    (("report", "--runs", "0"), "report: error: --runs: must be from 1 to 9223372036854775807, not 0"),
    (("report", "--runs", "99999999999999999999999"), "report: error: --runs: must be from 1 to 9223372036854775807, "
                                                      "not 99999999999999999999999"),
    (("report", "-o", "/"), "report: error: -o /: is a directory"),
    (("browse", "--port", "70000"), "browse: error: --port: not a port number: 70000"),
    (("export", "--format", "parquet", "--lang", "en"), "export: error: --format parquet: give the file with -o FILE"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    result = scrapy_cli(*args, "--db", str(tmp_path / "none.sqlite"))
    assert result.returncode == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr


def test_a_postgresql_teams_snapshot_is_browsed_in_datasette(postgres_store, tmp_path):
    """`scrapy export --format sqlite` of the PostgreSQL store, served by `scrapy browse`: its search
    finds what the PostgreSQL store's does, and the canned query lists the same stories (in Chromium)."""
    snapshot = tmp_path / "team.sqlite"
    result = scrapy_cli("export", "--db", postgres_store, "--format", "sqlite", "-o", str(snapshot))
    assert result.returncode == 0, result.stderr
    refused = scrapy_cli("browse", "--db", postgres_store)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "export --format sqlite" in refused.stderr
    assert PASSWORD not in refused.stderr
    with Store(postgres_store, readonly=True) as store:
        titles = [title for (title,) in rows(snapshot, "SELECT title FROM articles WHERE language = 'en'")]
        word, hits = next((w, found) for w in sorted({w for t in titles for w in re.findall(r"[A-Za-z]{6,}", t)})
                          if 1 < len(found := store.search(w, limit=100)) <= 6)
        complete = store.stories_by_editions()[-1]
    with browsing(snapshot) as base:
        (found, body), _ = visit(f"{base}/team/articles?_search={word}", lambda page: (
            page.locator("td.col-title").all_inner_texts(), page.inner_text("body")),
            screenshot=tmp_path / "search.png")
        assert sorted(t.strip() for t in found) == sorted(hit["title"] for hit in hits)
        assert "One row per edition page" in body
        (stories, _), _ = visit(f"{base}/team/stories_in_all_editions", lambda page: (
            page.locator("td.col-story_id").all_inner_texts(), None))
    assert complete[0] == 3 and len(stories) == complete[1]
