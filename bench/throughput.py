"""Crawl throughput: newsbot's full stack vs a bare Scrapy spider downloading the same pages.

One replica process serves every run. A first newsbot run warms the replica's page cache
and, through /_replica/hits, yields the exact list of URLs newsbot fetches; the bare spider
is then given that list up front. Then `rounds` times: bare, newsbot (fresh store each), and
bare+parse (the bare spider building each page's lxml tree as newsbot does, and nothing else:
what reading a page at all costs, so bare+parse over bare is the ceiling for any full stack on
pages of this weight), alternating so all see the same machine state. The ratio is the median of the per-pair
ratios (newsbot / bare of the same round), quoted with their min and max: on a shared machine
one round's cost can swing by half, and a quotient of two medians swings with it. Requests
per stored article = newsbot's downloader/request_count / stored rows. pages/s = downloader/response_count /
elapsed_time_seconds (spider open to close, process start-up excluded); both use the
project's CONCURRENT_REQUESTS and CONCURRENT_REQUESTS_PER_DOMAIN, no delay, no AutoThrottle.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import (Measured, load_stats, log, median, newsbot_crawl, project_settings, ratio,
                          run_measured, start_replica, tail)


def _store_rows(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]


def _record(kind: str, run: Measured, stats: dict[str, Any], stored: int | None = None) -> dict[str, Any]:
    pages = stats.get("downloader/response_count", 0)
    elapsed = stats.get("elapsed_time_seconds") or run.wall_seconds
    record = {
        "kind": kind, "pages": pages, "elapsed_seconds": round(elapsed, 2),
        "pages_per_second": round(pages / elapsed, 1) if elapsed else 0.0,
        "pages_per_second_wall": round(pages / run.wall_seconds, 1) if run.wall_seconds else 0.0,
        "finish_reason": stats.get("finish_reason"),
        "crawler_cpu_ms_per_page": round(1000 * (run.cpu_user + run.cpu_system) / pages, 2) if pages else None,
        "replica_cpu_ms_per_page": round(1000 * run.replica_cpu / pages, 2) if pages else None,
        **run.summary(),
    }
    if stored is not None:
        record["items_scraped"] = stats.get("item_scraped_count", 0)
        record["stored_rows"] = stored
        record["requests"] = stats.get("downloader/request_count", 0)
    return record


def run(stories: int, rounds: int, workdir: Path) -> dict[str, Any]:
    settings = project_settings()
    concurrency = settings.getint("CONCURRENT_REQUESTS")
    per_domain = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
    replica = start_replica(stories)
    runs: list[dict[str, Any]] = []
    try:
        expected = len(replica.ground_truth())

        def newsbot(label: str) -> dict[str, Any]:
            db, stats_file = workdir / f"{label}.sqlite", workdir / f"{label}.json"
            measured = run_measured(newsbot_crawl("category", replica.base_url, db, stats_file),
                                    replica_pid=replica.pid)
            stats = load_stats(stats_file)
            if measured.returncode or stats.get("finish_reason") != "finished":
                raise RuntimeError(f"newsbot crawl failed ({measured.returncode}):\n{tail(measured.stderr)}")
            return _record("newsbot", measured, stats, _store_rows(db))

        replica.hits(reset=True)
        log(f"throughput: warm-up newsbot crawl of {stories} stories ({expected} articles)")
        warm = newsbot("warmup")
        targets = [t for t in replica.hits(reset=True)["targets"] if t != "/robots.txt"]
        # The weight of the pages served: parse cost grows with it and Scrapy's cost per response does
        # not, so the ratio is only comparable between runs on pages of the same weight.
        page_bytes = json.loads(replica.get("/_replica/sizes").text)
        urls_file = workdir / "urls.txt"
        urls_file.write_text("\n".join(replica.base_url + t for t in targets) + "\n", encoding="utf-8")
        def bare(kind: str, number: int) -> dict[str, Any]:
            stats_file = workdir / f"{kind}-{number}.json"
            log(f"throughput: round {number}/{rounds}: {kind} spider, {len(targets)} URLs")
            measured = run_measured([sys.executable, "-m", "bench.bare", "--urls", str(urls_file),
                                     "--stats", str(stats_file), "--concurrency", str(concurrency),
                                     "--per-domain", str(per_domain)] + (["--parse"] if kind == "parse" else []),
                                    replica_pid=replica.pid)
            stats = load_stats(stats_file)
            if measured.returncode or stats.get("finish_reason") != "finished":
                raise RuntimeError(f"{kind} crawl failed ({measured.returncode}):\n{tail(measured.stderr)}")
            return _record(kind, measured, stats)

        for number in range(1, rounds + 1):
            runs.append(bare("bare", number))
            log(f"throughput: round {number}/{rounds}: newsbot category backfill")
            runs.append(newsbot(f"newsbot-{number}"))
            runs.append(bare("parse", number))
            log(f"throughput: round {number}: bare {runs[-3]['pages_per_second']} pages/s, "
                f"newsbot {runs[-2]['pages_per_second']}, bare+parse {runs[-1]['pages_per_second']}")
    finally:
        replica.stop()

    bare = [r for r in runs if r["kind"] == "bare"]
    ours = [r for r in runs if r["kind"] == "newsbot"]
    parsed = [r for r in runs if r["kind"] == "parse"]
    # The ceiling: a spider that only builds each page's tree, against bare, in the same rounds.
    parse_pairs = [p["pages_per_second"] / b["pages_per_second"] for b, p in zip(bare, parsed) if b["pages_per_second"]]
    parse_cpu = [b["crawler_cpu_ms_per_page"] / p["crawler_cpu_ms_per_page"] for b, p in zip(bare, parsed)
                 if b["crawler_cpu_ms_per_page"] and p["crawler_cpu_ms_per_page"]]
    newsbot_rate = median([r["pages_per_second"] for r in ours])
    bare_rate = median([r["pages_per_second"] for r in bare])
    pairs = [o["pages_per_second"] / b["pages_per_second"] for b, o in zip(bare, ours) if b["pages_per_second"]]
    cpu_pairs = [b["crawler_cpu_ms_per_page"] / o["crawler_cpu_ms_per_page"] for b, o in zip(bare, ours)
                 if b["crawler_cpu_ms_per_page"] and o["crawler_cpu_ms_per_page"]]
    pair_ratio = median(pairs) if pairs else 0.0
    complete = all(r["items_scraped"] == expected and r["stored_rows"] == expected for r in ours)
    return {
        "stories": stories, "articles": expected, "rounds": rounds, "urls": len(targets),
        "concurrency": concurrency, "per_domain": per_domain,
        "newsbot_pages_per_second": newsbot_rate, "bare_pages_per_second": bare_rate,
        "ratio": round(pair_ratio, 3), "ratio_min": round(min(pairs), 3) if pairs else None,
        "ratio_max": round(max(pairs), 3) if pairs else None, "pair_ratios": [round(p, 3) for p in pairs],
        "cpu_pair_ratios": [round(p, 3) for p in cpu_pairs],
        "requests_per_article": round(median([o["requests"] / o["stored_rows"] for o in ours if o["stored_rows"]]), 4)
        if ours else None,
        "target": ">= 0.85 (median of the pairs)", "passed": bool(pairs and pair_ratio >= 0.85),
        "newsbot_cpu_ms_per_page": median([r["crawler_cpu_ms_per_page"] for r in ours]),
        "bare_cpu_ms_per_page": median([r["crawler_cpu_ms_per_page"] for r in bare]),
        # Pages per CPU-second of the crawler process, newsbot over bare: steadier than the
        # wall-clock ratio when other work shares the machine's cores.
        "cpu_ratio": round(median(cpu_pairs), 3) if cpu_pairs else None,
        "replica_cpu_ms_per_page": median([r["replica_cpu_ms_per_page"] for r in runs]),
        "parse_ratio": round(median(parse_pairs), 3) if parse_pairs else None,
        "parse_ratio_min": round(min(parse_pairs), 3) if parse_pairs else None,
        "parse_ratio_max": round(max(parse_pairs), 3) if parse_pairs else None,
        "parse_cpu_ratio": round(median(parse_cpu), 3) if parse_cpu else None,
        "parse_pages_per_second": median([r["pages_per_second"] for r in parsed]),
        "parse_cpu_ms_per_page": median([r["crawler_cpu_ms_per_page"] for r in parsed]),
        "article_page_bytes": page_bytes["article"], "listing_page_bytes": page_bytes["listing"],
        "newsbot_complete": complete, "warmup": warm, "runs": runs,
    }


if __name__ == "__main__":
    import json

    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 100, 1, Path(tmp)), indent=1))
