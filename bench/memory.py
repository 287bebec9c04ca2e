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

A lever (`python -m bench.memory --pairs 5 --off NAME=VALUE STORIES`, or `--off-tree DIR`: the off
arm runs a copy of the tree with the lever taken out) is measured in paired rounds on one replica,
after one crawl not counted, the arms' order alternating: the on/off ratio of peak RSS (and of
CPU) per pair, their median, min and max. With no --off nor --off-tree both arms are the same
crawl: the noise of that ratio.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from bench.common import load_stats, log, median, newsbot_crawl, ratio, run_measured, start_replica, tail


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


def crawl(replica: Any, stories: int, workdir: Path, name: str, settings: dict[str, str] | None = None,
          tree: Path | None = None) -> dict[str, Any]:
    """One category backfill of the replica into a fresh store; tree: newsbot's code from that tree."""
    expected = len(replica.ground_truth())
    db, stats_file = workdir / f"{name}.sqlite", workdir / f"{name}.json"
    for stale in (db, stats_file):
        stale.unlink(missing_ok=True)
    env = {"PYTHONPATH": str(tree)} if tree else None
    measured = run_measured(newsbot_crawl("category", replica.base_url, db, stats_file, settings=settings),
                            replica_pid=replica.pid, env=env)
    stats = load_stats(stats_file)
    if measured.returncode or stats.get("finish_reason") != "finished":
        raise RuntimeError(f"category crawl of {stories} failed ({measured.returncode}):\n{tail(measured.stderr)}")
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


def crawl_size(stories: int, workdir: Path, trace: bool = False) -> dict[str, Any]:
    log(f"memory: starting a {stories}-story replica")
    replica = start_replica(stories)
    try:
        settings = {"BENCH_TRACEMALLOC": "1"} if trace else {"BENCH_TIMELINE": str(TIMELINE_SECONDS)}
        log(f"memory: category backfill of {stories} stories{' with tracemalloc' if trace else ''}")
        return crawl(replica, stories, workdir, f"memory-{stories}", settings)
    finally:
        replica.stop()


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": round(median(values), 3), "min": min(values), "max": max(values)}


def paired(stories: int, pairs: int, workdir: Path, off: dict[str, str] | None = None,
           off_tree: Path | None = None) -> dict[str, Any]:
    """A lever off (settings `off`, or newsbot from `off_tree`) against on, in `pairs` rounds on one
    replica, the first arm alternating; the on/off ratios of peak RSS and crawler CPU per round."""
    replica = start_replica(stories)
    rounds = []
    try:
        # The first crawl of a fresh replica peaks higher than the next ones whatever the arm, so
        # it would weigh on the arm that goes first in round 1.
        crawl(replica, stories, workdir, "paired-warm-up")
        for number in range(pairs):
            arms = {}
            for arm in (("off", "on") if number % 2 == 0 else ("on", "off")):
                settings = off if arm == "off" else None
                tree = off_tree if arm == "off" else None
                arms[arm] = crawl(replica, stories, workdir, f"paired-{arm}", settings, tree)
                log(f"memory: round {number + 1} {arm}: {arms[arm]['peak_rss_mb']} MB, "
                    f"{arms[arm]['crawler_cpu_seconds']} s CPU")
            rounds.append({arm: {key: arms[arm][key] for key in ("peak_rss_mb", "crawler_cpu_seconds", "pages",
                                                              "stored_rows", "articles", "rss_when_idle_mb")}
                           for arm in ("off", "on")})
    finally:
        replica.stop()
    if any(r[arm]["stored_rows"] != r[arm]["articles"] for r in rounds for arm in r):
        raise RuntimeError("a paired crawl did not store every article")
    return {
        "stories": stories, "pages": rounds[0]["on"]["pages"], "off": off or {},
        "off_tree": str(off_tree) if off_tree else None, "rounds": rounds,
        "peak_rss_on_over_off": _spread([ratio(r["on"]["peak_rss_mb"], r["off"]["peak_rss_mb"]) for r in rounds]),
        "cpu_on_over_off": _spread([ratio(r["on"]["crawler_cpu_seconds"], r["off"]["crawler_cpu_seconds"])
                                    for r in rounds]),
        "peak_rss_mb": {arm: _spread([r[arm]["peak_rss_mb"] for r in rounds]) for arm in ("off", "on")},
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

    parser = argparse.ArgumentParser(prog="python -m bench.memory")
    parser.add_argument("sizes", nargs="*", type=int, help="SMALL LARGE (default 300 900); with --pairs: STORIES")
    parser.add_argument("--trace", action="store_true", help="tracemalloc's top allocation sites (slow)")
    parser.add_argument("--pairs", type=int, help="a lever off against on in this many paired rounds")
    parser.add_argument("--off", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting that turns the lever off (repeatable)")
    parser.add_argument("--off-tree", type=Path, help="the off arm's newsbot from this copy of the tree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        if args.pairs:
            off = dict(item.split("=", 1) for item in args.off)
            tree = args.off_tree.resolve() if args.off_tree else None
            result = paired(args.sizes[0] if args.sizes else 2000, args.pairs, Path(tmp), off, tree)
        else:
            sizes = args.sizes[:2] or [300, 900]
            result = run(sizes[0], sizes[1], Path(tmp), trace=args.trace)
        print(json.dumps(result, indent=1))
