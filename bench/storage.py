"""Storage: the SQLite pipeline's rate (FTS on) vs a plain executemany into a bare table.

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

    python -m bench.storage --items 20000 [--out results.json]   (each part in its own subprocess)
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
from pathlib import Path
from typing import Any

from bench.common import CHILD_PREEXEC, ROOT, log, median, project_settings

BASE_URL = "http://127.0.0.1:8000"


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

def child_pipelines(truth: Path, count: int, db: Path, out: Path) -> None:
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
    if db.exists():
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

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def child_writer(truth: Path, count: int, db: Path, out: Path) -> None:
    """The writer thread's work alone (Store.write_rows on rows made beforehand, in batches of
    NEWSBOT_DB_BATCH_SIZE), with its SQL timed statement by statement; the rest is the store's
    Python (identity, stories, categories). What bounds the pipelines' rate, which the writer sets."""
    from newsbot.store import Store, article_row

    items = load_items(truth, count)
    batch = max(1, project_settings().getint("NEWSBOT_DB_BATCH_SIZE"))
    rows = [article_row(item) for item in items]
    store = Store(db, background_checkpoints=True)
    timed = store._conn = _TimedConnection(store._conn)  # the bench's profile, not a store feature
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        store.write_rows(rows[start:start + batch])
    seconds = time.perf_counter() - started
    store.close()
    sql = sum(timed.seconds.values())
    per = {kind: round(1e6 * value / len(rows), 1) for kind, value in
           sorted(timed.seconds.items(), key=lambda kv: -kv[1]) if 1e6 * value / len(rows) >= 0.5}
    out.write_text(json.dumps({"items": len(rows), "seconds": round(seconds, 3),
                               "items_per_second": round(len(rows) / seconds, 1),
                               "us_per_article": round(1e6 * seconds / len(rows), 1),
                               "sql_us_per_article": round(1e6 * sql / len(rows), 1),
                               "python_us_per_article": round(1e6 * (seconds - sql) / len(rows), 1),
                               "sql_us_per_article_by_statement": per}), encoding="utf-8")


# --- the benchmark --------------------------------------------------------------------

def _child(mode: str, truth: Path, count: int, workdir: Path) -> dict[str, Any]:
    out, db = workdir / f"storage-{mode}.json", workdir / f"storage-{mode}.sqlite"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--child", choices=("pipelines", "baseline", "fts", "writer"))
    parser.add_argument("--truth")
    parser.add_argument("--db")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.child == "baseline":
        child_baseline(Path(args.truth), args.items, Path(args.db), Path(args.out))
    elif args.child == "writer":
        child_writer(Path(args.truth), args.items, Path(args.db), Path(args.out))
    elif args.child == "fts":
        child_fts(Path(args.truth), args.items, Path(args.db), Path(args.out))
    elif args.child:
        child_pipelines(Path(args.truth), args.items, Path(args.db), Path(args.out))
    else:
        with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
            result = run(args.items, Path(tmp))
        print(json.dumps(result, indent=1))
        if args.out:
            Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
