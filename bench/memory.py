"""Memory: peak RSS of a `category` backfill of N stories vs 3N stories (same settings).

Each size gets its own replica (started, crawled once, stopped). Peak RSS is the kernel's
high-water mark of the crawler process image: VmHWM, polled from /proc every 0.25 s and
read by the crawler itself at engine_stopped (the larger). Not ru_maxrss, which is what
Scrapy's memusage/max reports: Linux carries a parent's high-water mark into a child
over fork/vfork + exec, so memusage/* of a crawl spawned by a big process (this
benchmark, or Scrapyd) starts at the parent's size; it is recorded for reference only.
bench.statsfile records, when the crawl first goes idle (all pages done, every
structure of the run still alive), what holds memory: the dupe filter's fingerprints,
the pipelines' in-run sets, stats keys, live objects by type; with trace=True also
tracemalloc's top allocation sites (slow: only for diagnosis).
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from bench.common import load_stats, log, newsbot_crawl, ratio, run_measured, start_replica, tail


# How often the crawl samples its memory and queue (bench.statsfile): ~1 ms a sample.
TIMELINE_SECONDS = 5


def timeline_peaks(timeline: dict[str, Any]) -> dict[str, Any]:
    """Each sampled field's peak, and the whole sample at the peaks of RSS and of Python's arenas:
    what was queued and how far the crawl was when memory peaked."""
    fields, samples = timeline.get("fields", []), timeline.get("samples", [])
    if not samples:
        return {}
    rows = [dict(zip(fields, sample)) for sample in samples]
    peaks = {f"max_{name}": max((row[name] for row in rows if row[name] is not None), default=None)
             for name in fields if name != "seconds"}
    for name in ("rss_kb", "pymalloc_arenas_kb", "scheduler_pending"):
        if peaks.get(f"max_{name}") is not None:
            peaks[f"at_max_{name}"] = max(rows, key=lambda row, n=name: row[n] or 0)
    return {"samples": len(rows), **peaks}


def _rows(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]


def crawl_size(stories: int, workdir: Path, trace: bool = False) -> dict[str, Any]:
    log(f"memory: starting a {stories}-story replica")
    replica = start_replica(stories)
    try:
        expected = len(replica.ground_truth())
        db, stats_file = workdir / f"memory-{stories}.sqlite", workdir / f"memory-{stories}.json"
        settings = {"BENCH_TRACEMALLOC": "1"} if trace else {"BENCH_TIMELINE": str(TIMELINE_SECONDS)}
        log(f"memory: category backfill of {stories} stories ({expected} articles){' with tracemalloc' if trace else ''}")
        measured = run_measured(newsbot_crawl("category", replica.base_url, db, stats_file, settings=settings),
                                replica_pid=replica.pid)
        stats = load_stats(stats_file)
        if measured.returncode or stats.get("finish_reason") != "finished":
            raise RuntimeError(f"category crawl of {stories} failed ({measured.returncode}):\n{tail(measured.stderr)}")
    finally:
        replica.stop()
    peak_kb = max(measured.peak_rss_kb, stats.get("bench/vmhwm_kb", 0))
    samples = measured.rss_samples
    return {
        "stories": stories, "articles": expected, "pages": stats.get("downloader/response_count", 0),
        "items_scraped": stats.get("item_scraped_count", 0), "stored_rows": _rows(db) if db.exists() else 0,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        # Scrapy's memusage/* is ru_maxrss, which includes the parent's peak inherited through
        # vfork + exec (here: the benchmark process holding the ground truth); kept for reference.
        "memusage_max_mb": round(stats.get("memusage/max", 0) / 2 ** 20, 1),
        "rss_when_idle_mb": round(stats.get("bench/census", {}).get("rss_kb", 0) / 1024, 1),
        "elapsed_seconds": round(stats.get("elapsed_time_seconds", 0), 1),
        "pages_per_second": round(stats.get("downloader/response_count", 0) / stats["elapsed_time_seconds"], 1)
        if stats.get("elapsed_time_seconds") else None,
        "rss_mb_at_quarters": [round(samples[min(len(samples) - 1, int(len(samples) * q))][1] / 1024, 1)
                               for q in (0.25, 0.5, 0.75, 0.999)] if samples else [],
        "census": stats.get("bench/census", {}),
        "timeline": stats.get("bench/timeline", {}),
        "timeline_peaks": timeline_peaks(stats.get("bench/timeline", {})),
        **{f"crawler_{k}": v for k, v in measured.summary().items() if k in ("wall_seconds", "cpu_seconds")},
    }


def run(small: int, large: int, workdir: Path, trace: bool = False) -> dict[str, Any]:
    first = crawl_size(small, workdir, trace)
    second = crawl_size(large, workdir, trace)
    grown = ratio(second["peak_rss_mb"], first["peak_rss_mb"])
    census_a, census_b = first.get("census", {}), second.get("census", {})
    growth = {}
    for key in ("rss_kb", "dupefilter_fingerprints", "stats_keys", "gc_objects", "set_bytes_kb", "sqlite_kb",
                "malloc_in_use_kb", "malloc_free_kept_kb", "pymalloc_arenas_kb", "pymalloc_in_use_kb",
                "pymalloc_free_kb"):
        if key in census_a and key in census_b:
            growth[key] = [census_a[key], census_b[key]]
    for part in ("pipeline_sets", "spider_sets"):
        for name in set(census_a.get(part, {})) | set(census_b.get(part, {})):
            growth[name] = [census_a.get(part, {}).get(name), census_b.get(part, {}).get(name)]
    types_a, types_b = census_a.get("top_types", {}), census_b.get("top_types", {})
    growth["types_grown"] = {t: [types_a.get(t, 0), types_b.get(t, 0)] for t in types_b
                             if types_b[t] > 1.5 * types_a.get(t, 0) + 1000}
    return {
        "small": first, "large": second, "ratio": grown, "target": "<= 1.2",
        "passed": bool(grown and grown <= 1.2 and first["stored_rows"] == first["articles"]
                       and second["stored_rows"] == second["articles"]),
        "growth_small_vs_large": growth,
    }


if __name__ == "__main__":
    import json
    import sys

    sizes = [int(a) for a in sys.argv[1:3]] or [300, 900]
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        print(json.dumps(run(sizes[0], sizes[1], Path(tmp), trace="--trace" in sys.argv), indent=1))
