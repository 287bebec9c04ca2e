"""Storage: the store pipeline's rate (search index on) vs a bare insert of the same rows, on SQLite
(plain executemany into a bare table) and on PostgreSQL (COPY into the store's own schema).

Items are the replica's ground truth (realistic titles, bodies, tags, images,
translations), with crawled_at and content_hash added as the loader adds them.

- pipelines: the classes of newsbot's ITEM_PIPELINES (project settings, in priority
  order; ones that raise NotConfigured, like the JSON Lines writer without NEWSBOT_JSONL,
  left out as in a crawl), built from a crawler with the project's settings, opened on a
  fresh store (schema v2: FTS5 index kept by triggers, tags/images/translations tables,
  indexes), fed the N items one by one through process_item as Scrapy's item manager
  would, then closed (final flush). Rate = N / (first process_item -> close done);
  opening the store (schema creation) is timed apart.
- fts: the store's FTS5 index alone (its own articles_fts, tokenizer and settings) fed the same
  titles and bodies in the same transactions and multi-row statements: the least a write path
  keeping that index spends, so fts_share is the part of newsbot's time per article it takes.
- writer (once, after the rounds): Store.write_rows alone on rows made beforehand, each SQL
  statement kind timed: where the writer thread's time per article goes (SQL by statement, and
  the store's Python), the thread whose pace the pipelines' rate follows.
- baseline: the articles' 15 scalar columns of the same N items (prepared before the
  clock starts) inserted with executemany into a bare table (no keys, no indexes, no
  FTS), in transactions of NEWSBOT_DB_BATCH_SIZE rows, WAL and synchronous=NORMAL like
  the store.

PostgreSQL (--backend postgresql): a real server (tests.postgres), restarted with fsync,
synchronous_commit and full_page_writes on as in production (the tests' clusters run without them);
a fresh database per run, created by Store(url) so the GIN search index is on in both arms.

- pipelines: as above, with NEWSBOT_DB=<the database's URL>.
- copy (the baseline): the same rows the items become (articles with the columns the store fills,
  tags, images, translations), made before the clock starts, loaded with COPY (psycopg's
  cursor.copy) into the same schema, one transaction per NEWSBOT_DB_BATCH_SIZE articles: the least
  a writer of those rows and that index spends on this server.
- copy_nosearch: the same COPY into a schema without the search index: with copy, what keeping
  the index costs (copy_search_share).
- writer (once): Store.write_rows alone with every statement timed, as above, plus the CPU the
  server's backend process spent (read from /proc: the server runs here).

    python -m bench.storage --items 20000 [--backend sqlite|postgresql|both] [--rounds 5] [--out results.json]
    (each part in its own subprocess)
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import CHILD_PREEXEC, ROOT, cpu_seconds, log, median, project_settings

BASE_URL = "http://127.0.0.1:8000"


def _is_url(db: object) -> bool:
    from newsbot.store import is_postgres_url

    return is_postgres_url(db)


def ground_truth(count: int, workdir: Path) -> Path:
    """A JSON Lines file of at least `count` ground-truth records."""
    stories = math.ceil(count / 2.6) + 10
    path = workdir / f"truth-{stories}.jsonl"
    while True:
        subprocess.run([sys.executable, "-m", "tests.replica", "--stories", str(stories), "--ground-truth", str(path),
                        "--base-url", BASE_URL], cwd=ROOT, check=True)
        with path.open(encoding="utf-8") as handle:
            lines = sum(1 for _ in handle)
        if lines >= count:
            return path
        stories = math.ceil(stories * count / lines) + 10


def load_items(truth: Path, count: int) -> list:
    from newsbot.items import ArticleItem
    from newsbot.normalize import content_hash, utc_now_iso

    items = []
    with truth.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            record["crawled_at"] = utc_now_iso()
            record["content_hash"] = content_hash({k: record.get(k) for k in (
                "title", "body", "category_slug", "published_at", "tags", "images", "translations")})
            items.append(ArticleItem(record))
            if len(items) >= count:
                break
    return items


# --- child processes ----------------------------------------------------------------

def child_pipelines(truth: Path, count: int, db: str | Path, out: Path) -> None:
    """newsbot's ITEM_PIPELINES, built from a crawler with the project's settings, fed the items."""
    import asyncio
    import inspect

    import scrapy
    from scrapy import signals
    from scrapy.exceptions import DropItem
    from scrapy.utils.misc import build_from_crawler, load_object
    from scrapy.utils.reactor import install_reactor
    from scrapy.utils.test import get_crawler

    items = load_items(truth, count)
    settings = project_settings().copy_to_dict()
    install_reactor(settings["TWISTED_REACTOR"])  # a crawler needs one; nothing runs on it here
    settings.update({"NEWSBOT_DB": str(db), "LOG_LEVEL": "WARNING"})

    class StorageBenchSpider(scrapy.Spider):
        name = "storage_bench"

    crawler = get_crawler(StorageBenchSpider, settings)
    crawler.spider = StorageBenchSpider.from_crawler(crawler)
    order = crawler.settings.getwithbase("ITEM_PIPELINES")
    classes = [load_object(path) for path, priority in sorted(order.items(), key=lambda kv: kv[1]) if priority is not None]
    loop = asyncio.new_event_loop()

    def call(method, *args):
        result = method(*args)
        return loop.run_until_complete(result) if inspect.isawaitable(result) else result

    started = time.perf_counter()
    pipelines = []
    for cls in classes:
        try:
            pipelines.append(build_from_crawler(cls, crawler))
        except Exception as exc:  # NotConfigured: e.g. the JSON Lines writer without NEWSBOT_JSONL
            if type(exc).__name__ != "NotConfigured":
                raise
    for pipeline in pipelines:
        if hasattr(pipeline, "open_spider"):
            call(pipeline.open_spider)
    # As the engine does: pipelines open, then spider_opened; at the end spider_closed.
    crawler.signals.send_catch_log(signal=signals.spider_opened, spider=crawler.spider)
    opened = time.perf_counter()
    dropped = 0
    spent = [0.0] * len(pipelines)  # per pipeline: process_item and close_spider time
    clock = time.perf_counter
    for item in items:
        try:
            for number, pipeline in enumerate(pipelines):
                before = clock()
                try:
                    item = call(pipeline.process_item, item)
                finally:
                    spent[number] += clock() - before
        except DropItem as exc:
            dropped += 1
            crawler.signals.send_catch_log(signal=signals.item_dropped, item=item, response=None,
                                           exception=exc, spider=crawler.spider)
    for number, pipeline in enumerate(pipelines):
        if hasattr(pipeline, "close_spider"):
            before = clock()
            call(pipeline.close_spider)
            spent[number] += clock() - before
    crawler.signals.send_catch_log(signal=signals.spider_closed, spider=crawler.spider, reason="finished")
    ended = time.perf_counter()
    seconds = ended - opened
    stats = crawler.stats.get_stats()
    result = {"items": len(items), "seconds": round(seconds, 3), "items_per_second": round(len(items) / seconds, 1),
              "open_seconds": round(opened - started, 3), "dropped": dropped,
              "us_per_item_by_pipeline": {type(p).__name__: round(1e6 * t / len(items), 1)
                                          for p, t in zip(pipelines, spent)},
              "pipelines": [f"{type(p).__module__}.{type(p).__name__}" for p in pipelines],
              "store_stats": {k: v for k, v in stats.items() if k.startswith(("newsbot/store", "newsbot/items", "newsbot/dropped"))}}
    if _is_url(db):
        import psycopg

        with psycopg.connect(db) as conn:
            result["rows"] = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            # The search index holds every article: a word of the last item's title finds it.
            word = items[-1]["title"].split()[0]
            result["search_finds_last"] = items[-1]["article_id"] in {aid for (aid,) in conn.execute(
                "SELECT article_id FROM articles WHERE newsbot_document(title, body) @@ "
                "plainto_tsquery('simple', newsbot_fold(%s))", (word,))}
    elif Path(db).exists():
        with sqlite3.connect(db) as conn:
            result["rows"] = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            result["fts_rows"] = conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0]
    out.write_text(json.dumps(result), encoding="utf-8")


def child_baseline(truth: Path, count: int, db: Path, out: Path) -> None:
    from newsbot.store import ARTICLE_COLUMNS, article_row

    items = load_items(truth, count)
    batch = max(1, project_settings().getint("NEWSBOT_DB_BATCH_SIZE"))
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"CREATE TABLE bare ({', '.join(ARTICLE_COLUMNS)})")
    insert = f"INSERT INTO bare VALUES ({', '.join('?' * len(ARTICLE_COLUMNS))})"
    rows_all = [article_row(item).scalars for item in items]
    started = time.perf_counter()
    for start in range(0, len(rows_all), batch):
        rows = rows_all[start:start + batch]
        conn.execute("BEGIN")
        conn.executemany(insert, rows)
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    rows = conn.execute("SELECT count(*) FROM bare").fetchone()[0]
    conn.close()
    out.write_text(json.dumps({"items": len(items), "rows": rows, "batch": batch, "seconds": round(seconds, 3),
                               "items_per_second": round(len(items) / seconds, 1)}), encoding="utf-8")


def child_fts(truth: Path, count: int, db: Path, out: Path) -> None:
    """The store's FTS5 index alone: the same items' titles and bodies into the articles_fts of a
    fresh store (its tokenizer and settings), in the same transactions and multi-row statements the
    store uses. The least any write path that keeps this index must spend per article."""
    from newsbot.store import Store
    from newsbot.store.connection import chunks

    items = load_items(truth, count)
    batch = max(1, project_settings().getint("NEWSBOT_DB_BATCH_SIZE"))
    Store(db).close()  # the schema as the store creates it
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    rows_all = [(number, item["title"], item["body"]) for number, item in enumerate(items, start=1)]
    started = time.perf_counter()
    for start in range(0, len(rows_all), batch):
        conn.execute("BEGIN")
        for chunk in chunks(rows_all[start:start + batch]):
            conn.execute(f"INSERT INTO articles_fts (rowid, title, body) VALUES {', '.join(['(?, ?, ?)'] * len(chunk))}",
                         [value for row in chunk for value in row])
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    out.write_text(json.dumps({"items": len(items), "seconds": round(seconds, 3),
                               "items_per_second": round(len(items) / seconds, 1)}), encoding="utf-8")


class _Rows(list):
    """A SELECT's rows, read inside the timing: what sqlite3's cursor gives the store."""

    def fetchall(self) -> list:
        return list(self)

    def fetchone(self) -> Any:
        return self[0] if self else None


class _TimedConnection:
    """The store's connection with each statement's time (its steps, and a SELECT's rows read out)
    added up by the statement's first words: a profile of where the writer thread's time goes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.seconds: dict[str, float] = {}

    def _add(self, sql: str, started: float) -> None:
        words = sql.split()
        if words[0] == "SELECT" and "FROM" in words:
            kind = f"SELECT FROM {words[words.index('FROM') + 1]}"
        else:
            kind = " ".join(words[:5] if words[:2] == ["INSERT", "OR"] else words[:3])
        self.seconds[kind] = self.seconds.get(kind, 0.0) + time.perf_counter() - started

    def execute(self, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        cursor = self.conn.execute(sql, *args)
        result = _Rows(cursor) if sql.lstrip().upper().startswith("SELECT") else cursor
        self._add(sql, started)
        return result

    def executemany(self, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        cursor = self.conn.executemany(sql, *args)
        self._add(sql, started)
        return cursor

    def select_in(self, sql: str, values: Any) -> Any:
        started = time.perf_counter()
        rows = list(self.conn.select_in(sql, values))
        self._add(sql, started)
        return iter(rows)

    def insert_rows(self, table: str, columns: Any, rows: list, conflict: str = "") -> None:
        started = time.perf_counter()
        self.conn.insert_rows(table, columns, rows, conflict)
        self._add(f"INSERT INTO {table}", started)

    def reopened(self) -> _TimedConnection:
        """PostgreSQL's Backend asks its connection for itself before each write: still this wrapper."""
        self.conn.reopened()
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


class _TimedRaw:
    """The psycopg connection under newsbot.store.postgres.Connection, its write transactions' own
    statements (the advisory lock) and their COMMIT (the WAL flushed to disk) timed too."""

    def __init__(self, raw: Any, timed: _TimedConnection) -> None:
        self._raw = raw
        self._timed = timed

    def execute(self, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        cursor = self._raw.execute(sql, *args)
        self._timed._add(sql, started)
        return cursor

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._raw.transaction():
            yield
            started = time.perf_counter()
        self._timed._add("COMMIT", started)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def child_writer(truth: Path, count: int, db: str | Path, out: Path) -> None:
    """The writer thread's work alone (Store.write_rows on rows made beforehand, in batches of
    NEWSBOT_DB_BATCH_SIZE), with its SQL timed statement by statement; the rest is the store's
    Python (identity, stories, categories). What bounds the pipelines' rate, which the writer sets.
    On PostgreSQL also the COMMITs, and the CPU of the server process that ran the SQL."""
    from newsbot.store import Store, article_row

    items = load_items(truth, count)
    batch = max(1, project_settings().getint("NEWSBOT_DB_BATCH_SIZE"))
    rows = [article_row(item) for item in items]
    store = Store(db, background_checkpoints=True)
    # The bench's profile, not a store feature: the backend's connection swapped for a timed one.
    timed = _TimedConnection(store.backend.conn)
    server_pid = None
    if _is_url(db):
        timed.raw = _TimedRaw(store.backend.conn.raw, timed)
        server_pid = store.backend.conn.raw.info.backend_pid
    store.backend.conn = timed
    server_cpu = cpu_seconds(server_pid) if server_pid else 0.0
    cpu = time.process_time()
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        store.write_rows(rows[start:start + batch])
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    server_cpu = cpu_seconds(server_pid) - server_cpu if server_pid else None
    store.close()
    sql = sum(timed.seconds.values())
    per = {kind: round(1e6 * value / len(rows), 1) for kind, value in
           sorted(timed.seconds.items(), key=lambda kv: -kv[1]) if 1e6 * value / len(rows) >= 0.5}
    result = {"items": len(rows), "seconds": round(seconds, 3), "items_per_second": round(len(rows) / seconds, 1),
              "us_per_article": round(1e6 * seconds / len(rows), 1),
              "sql_us_per_article": round(1e6 * sql / len(rows), 1),
              "python_us_per_article": round(1e6 * (seconds - sql) / len(rows), 1),
              "sql_us_per_article_by_statement": per,
              "client_cpu_us_per_article": round(1e6 * cpu / len(rows), 1)}
    if server_cpu is not None:
        result["server_cpu_us_per_article"] = round(1e6 * server_cpu / len(rows), 1)
    out.write_text(json.dumps(result), encoding="utf-8")


def child_copy(truth: Path, count: int, url: str, out: Path, search: bool = True) -> None:
    """PostgreSQL's baseline: the rows the items become, COPYed into a fresh store's own tables
    (its keys, its indexes, its GIN search index), one transaction per NEWSBOT_DB_BATCH_SIZE articles.
    search=False: the same without the search index, so the pair says what keeping it costs."""
    import psycopg

    from newsbot.store import ARTICLE_COLUMNS, Store, article_row
    from newsbot.store.articles import CHILD_COLUMNS

    items = load_items(truth, count)
    batch = max(1, project_settings().getint("NEWSBOT_DB_BATCH_SIZE"))
    Store(url).close()  # the schema as the store creates it
    if not search:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP INDEX articles_search")
    made = [article_row(item) for item in items]
    # Per table, each article's rows: the columns the store fills for a new article, then each list
    # field's child table.
    tables = [("articles", (*ARTICLE_COLUMNS, "first_seen_at", "last_crawled_at", "id"),
               [[(*r.scalars, r.crawled_at, r.crawled_at, n)] for n, r in enumerate(made, start=1)])]
    tables += [(table, columns, [r.children[n] for r in made]) for n, (table, columns) in enumerate(CHILD_COLUMNS.items())]
    with psycopg.connect(url, autocommit=True) as conn:
        server_pid = conn.info.backend_pid
        server_cpu, cpu = cpu_seconds(server_pid), time.process_time()
        started = time.perf_counter()
        for start in range(0, len(made), batch):
            with conn.transaction(), conn.cursor() as cursor:
                for table, columns, rows in tables:
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for article in rows[start:start + batch]:
                            for row in article:
                                copy.write_row(row)
        seconds = time.perf_counter() - started
        cpu, server_cpu = time.process_time() - cpu, cpu_seconds(server_pid) - server_cpu
        stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    out.write_text(json.dumps({"items": len(items), "rows": stored, "batch": batch, "seconds": round(seconds, 3),
                               "items_per_second": round(len(items) / seconds, 1),
                               "client_cpu_us_per_article": round(1e6 * cpu / len(items), 1),
                               "server_cpu_us_per_article": round(1e6 * server_cpu / len(items), 1)}), encoding="utf-8")


# --- the benchmark --------------------------------------------------------------------

def _child(mode: str, truth: Path, count: int, workdir: Path, db: str | None = None) -> dict[str, Any]:
    """One part in its own process, into `db` (a PostgreSQL URL), else a fresh SQLite file."""
    out = workdir / f"storage-{mode}.json"
    out.unlink(missing_ok=True)
    if db is None:
        db = str(workdir / f"storage-{mode}.sqlite")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-m", "bench.storage", "--child", mode, "--truth", str(truth),
                           "--items", str(count), "--db", str(db), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, preexec_fn=CHILD_PREEXEC)
    if done.returncode or not out.exists():
        raise RuntimeError(f"storage {mode} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def run(count: int, workdir: Path, rounds: int = 5) -> dict[str, Any]:
    """`rounds` pairs (bare executemany, then the pipelines; each in a fresh process and store): the
    median rate with its min and max, and the median of the pairs' ratios."""
    log(f"storage: generating {count} ground-truth items")
    truth = ground_truth(count, workdir)
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "pipelines": [], "fts": []}
    for number in range(rounds):
        for mode in ("baseline", "pipelines", "fts"):
            log(f"storage: {mode} ({number + 1}/{rounds}), {count} items")
            runs[mode].append(_child(mode, truth, count, workdir))
    log(f"storage: the writer alone, its statements timed, {count} items")
    writer = _child("writer", truth, count, workdir)
    ours, bare = runs["pipelines"], runs["baseline"]
    if any("rows" not in r for r in ours):
        raise RuntimeError(f"ITEM_PIPELINES in newsbot/settings.py stored nothing (pipelines: {ours[0]['pipelines']})")
    complete = all(r.get("rows") == count and r.get("fts_rows") == count for r in ours)
    rates = [r["items_per_second"] for r in ours]
    pairs = [o["items_per_second"] / b["items_per_second"] for o, b in zip(ours, bare) if b["items_per_second"]]
    rate = median(rates)
    return {
        "items": count, "rounds": rounds, "pipelines": ours[0]["pipelines"],
        "pipeline_articles_per_second": rate, "pipeline_min": min(rates), "pipeline_max": max(rates),
        "baseline_rows_per_second": median([b["items_per_second"] for b in bare]),
        "ratio": round(median(pairs), 3) if pairs else None,
        # What bounds the rate: the FTS5 index alone, and its share of each round's time per article.
        "fts_only_per_second": median([f["items_per_second"] for f in runs["fts"]]),
        "fts_share": round(median([o["items_per_second"] / f["items_per_second"]
                                   for o, f in zip(ours, runs["fts"])]), 3),
        # The writer thread's own time per article, by statement (one profiled run, not a ratio).
        "writer_profile": writer,
        "target": ">= 10000 articles/s (median of the rounds)", "passed": rate >= 10000 and complete,
        "stored_rows": ours[0].get("rows"), "fts_rows": ours[0].get("fts_rows"), "complete": complete,
        "runs": runs,
    }


# What production runs with; tests.postgres turns all three off for its throw-away clusters.
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
SERVER_FACTS = ("server_version", *DURABLE, "wal_level", "shared_buffers", "wal_buffers", "max_wal_size",
                "gin_pending_list_limit", "autovacuum")


def durable_postgres() -> Any:
    """A real server (tests.postgres) restarted with DURABLE settings, appended to its postgresql.conf
    (the last line of a setting wins)."""
    from tests.postgres import binaries, remove, start_postgres

    if binaries() is None:
        raise SystemExit("bench.storage: --backend postgresql needs PostgreSQL's server binaries (bin/setup installs them)")
    server = start_postgres()
    try:
        with open(server.directory / "data" / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("".join(f"{name} = {value}\n" for name, value in DURABLE.items()))
        server.stop()
        server.start()
    except BaseException:
        remove(server)
        raise
    return server


def server_facts(url: str, directory: Path) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url) as conn:
        facts = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in SERVER_FACTS}
    mounts = {line.split()[1]: line.split()[2] for line in Path("/proc/mounts").read_text().splitlines()}
    mount = next(str(p) for p in (directory, *directory.parents) if str(p) in mounts)
    facts["data_filesystem"] = f"{mounts[mount]} ({mount})"
    return facts


def run_postgres(count: int, workdir: Path, rounds: int = 5) -> dict[str, Any]:
    """`rounds` rounds on one durable server, each arm into a database of its own, the order of the pair
    alternating (COPY first in rounds 1, 3, 5, …), then COPY without the search index: the median pipeline rate with its min
    and max, COPY's, and the pairs' ratios; then the writer alone, its statements timed."""
    try:
        import psycopg  # noqa: F401  (the children need it)
    except ImportError:
        raise SystemExit("bench.storage: --backend postgresql needs psycopg: pip install -e '.[postgres]'") from None
    from tests.postgres import remove

    log(f"storage (PostgreSQL): generating {count} ground-truth items")
    truth = ground_truth(count, workdir)
    log("storage (PostgreSQL): starting a server, fsync and synchronous_commit on")
    server = durable_postgres()
    try:
        facts = server_facts(server.url(), server.directory)
        runs: dict[str, list[dict[str, Any]]] = {"copy": [], "pipelines": [], "copy_nosearch": []}
        for number in range(rounds):
            for mode in ("copy", "pipelines", "copy_nosearch") if number % 2 == 0 else (
                    "pipelines", "copy", "copy_nosearch"):
                log(f"storage (PostgreSQL): {mode} ({number + 1}/{rounds}), {count} items")
                db = server.create_database(f"bench_{mode}_{number}")
                runs[mode].append(_child(mode, truth, count, workdir, db))
        log(f"storage (PostgreSQL): the writer alone, its statements timed, {count} items")
        writer = _child("writer", truth, count, workdir, server.create_database("bench_writer"))
    finally:
        remove(server)
    ours, copies = runs["pipelines"], runs["copy"]
    complete = (all(r.get("rows") == count and r.get("search_finds_last") for r in ours)
                and all(c["rows"] == count for c in copies))
    rates = [r["items_per_second"] for r in ours]
    copy_rates = [c["items_per_second"] for c in copies]
    pairs = [o / c for o, c in zip(rates, copy_rates)]
    rate = median(rates)
    return {
        "backend": "postgresql", "items": count, "rounds": rounds, "server": facts, "pipelines": ours[0]["pipelines"],
        "pipeline_articles_per_second": rate, "pipeline_min": min(rates), "pipeline_max": max(rates),
        "copy_articles_per_second": median(copy_rates), "copy_min": min(copy_rates), "copy_max": max(copy_rates),
        "ratio": round(median(pairs), 3), "ratio_min": round(min(pairs), 3), "ratio_max": round(max(pairs), 3),
        # What the search index costs the least writer: COPY with it over COPY without it, per round.
        "copy_nosearch_articles_per_second": median([c["items_per_second"] for c in runs["copy_nosearch"]]),
        "copy_search_share": round(median([1 - c["items_per_second"] / n["items_per_second"]
                                           for c, n in zip(copies, runs["copy_nosearch"])]), 3),
        "writer_profile": writer,
        "target": ">= 5000 articles/s (median of the rounds)", "passed": rate >= 5000 and complete,
        "complete": complete, "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--child", choices=("pipelines", "baseline", "fts", "writer", "copy", "copy_nosearch"))
    parser.add_argument("--truth")
    parser.add_argument("--db")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.items < 1 or args.rounds < 1:
        parser.error("--items and --rounds must be at least 1")
    if args.child:
        child = {"pipelines": child_pipelines, "baseline": child_baseline, "fts": child_fts, "writer": child_writer,
                 "copy": child_copy, "copy_nosearch": partial(child_copy, search=False)}[args.child]
        child(Path(args.truth), args.items, args.db if _is_url(args.db) else Path(args.db), Path(args.out))
        return
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        if args.backend == "sqlite":
            result = run(args.items, Path(tmp), args.rounds)
        elif args.backend == "postgresql":
            result = run_postgres(args.items, Path(tmp), args.rounds)
        else:
            result = {"sqlite": run(args.items, Path(tmp), args.rounds),
                      "postgresql": run_postgres(args.items, Path(tmp), args.rounds)}
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
