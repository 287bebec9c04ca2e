"""Backfill cost: `scrapy crawl sitemap` against `scrapy crawl category` on the same window (issue 14).

One replica (cumulative category pages, 16 new cards a page, and day shards in its sitemap index);
paired rounds, sitemap then category, each a fresh store, both with -a since/-a until of the same
window; two windows, a recent and a deep one (WINDOWS). Per run: total requests
(`downloader/request_count`, robots.txt included), the article pages among them and the rest
(sitemaps, or home and listing pages), from the replica's own hit counter; articles stored (`newsbot/store/inserted`, checked against the window's ground truth);
response bytes (a cumulative page N carries 16·N cards); wall time of the whole `scrapy crawl`
process and the spider's `elapsed_time_seconds`. Reported: the median of the rounds with min and
max. Target: the sitemap spider at most 1.05 requests per stored article.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import load_stats, log, newsbot_crawl, run_measured, start_replica, tail

SPIDERS = ("sitemap", "category")
TARGET = 1.05
METRICS = ("requests", "article_requests", "other_requests", "stored", "requests_per_article", "cards_seen",
           "response_mb", "wall_seconds", "elapsed_seconds")


def spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return {"median": round(median, 3), "min": round(ordered[0], 3), "max": round(ordered[-1], 3)}


# A recent window (near the top of every listing) and a deep one (the corpus' oldest two weeks:
# the category spider pages down to the bottom of every category, through cumulative pages).
WINDOWS = (("recent", "2026-01-08", "2026-01-21"), ("deep", "2025-12-17", "2025-12-30"))


def run(stories: int, rounds: int, workdir: Path, windows=WINDOWS) -> dict[str, Any]:
    replica = start_replica(stories)
    results = []
    try:
        truth = replica.ground_truth()
        article_paths = {urlsplit(t["url"]).path for t in truth}
        for label, since, until in windows:
            window = [t for t in truth if since <= t["published_at"][:10] <= until]
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in SPIDERS}

            def crawl(spider: str, number: int) -> dict[str, Any]:
                db = workdir / f"{label}-{spider}-{number}.sqlite"
                stats_file = workdir / f"{label}-{spider}-{number}.json"
                replica.hits(reset=True)
                measured = run_measured(newsbot_crawl(spider, replica.base_url, db, stats_file,
                                                      args={"since": since, "until": until}), replica_pid=replica.pid)
                stats = load_stats(stats_file)
                hits = replica.hits(reset=True)
                if measured.returncode or stats.get("finish_reason") != "finished":
                    raise RuntimeError(f"{spider} failed ({measured.returncode}):\n{tail(measured.stderr)}")
                articles = sum(n for path, n in hits["paths"].items() if path in article_paths)
                robots = hits["paths"].get("/robots.txt", 0)
                stored = stats.get("newsbot/store/inserted", 0)
                if stored != len(window) or articles != len(window):
                    raise RuntimeError(f"{spider} stored {stored} articles from {articles} article requests; "
                                       f"the window has {len(window)}")
                requests = stats.get("downloader/request_count", 0)
                return {"requests": requests, "replica_hits": hits["total"], "article_requests": articles,
                        "other_requests": hits["total"] - articles - robots, "robots": robots, "stored": stored,
                        "requests_per_article": round(requests / stored, 4) if stored else None,
                        "cards_seen": stats.get("newsbot/cards/seen", 0) + stats.get("newsbot/cards/repeated", 0),
                        "response_mb": round(stats.get("downloader/response_bytes", 0) / 1e6, 2),
                        "wall_seconds": round(measured.wall_seconds, 2),
                        "elapsed_seconds": round(stats.get("elapsed_time_seconds", 0), 2)}

            log(f"backfill: {stories} stories, {label} window {since}..{until} ({len(window)} articles), "
                f"{rounds} pairs")
            for number in range(rounds):
                for spider in SPIDERS:  # alternate, so drift on a busy machine hits both alike
                    runs[spider].append(crawl(spider, number))
                    log(f"backfill: {label} round {number + 1} {spider}: {runs[spider][-1]}")
            summary = {spider: {metric: spread([r[metric] for r in runs[spider]]) for metric in METRICS}
                       for spider in SPIDERS}
            results.append({"label": label, "window": [since, until], "window_articles": len(window),
                            "summary": summary, "passed": summary["sitemap"]["requests_per_article"]["max"] <= TARGET,
                            "runs": runs})
    finally:
        replica.stop()
    return {"stories": stories, "pairs": rounds, "windows": results,
            "target": f"sitemap <= {TARGET} requests per stored article", "passed": all(w["passed"] for w in results)}


def table(result: dict[str, Any]) -> str:
    """The per-window, per-spider table (median, min–max) bench/run.py prints after its summary rows."""
    def cell(summary: dict, metric: str, digits: int = 2) -> str:
        s = summary[metric]
        if s["min"] == s["max"]:
            return f"{s['median']:,.{digits}f}"
        return f"{s['median']:,.{digits}f} ({s['min']:,.{digits}f}–{s['max']:,.{digits}f})"

    rows = [("window", "spider", "requests / stored article", "requests", "article pages",
             "sitemap / listing requests", "stored", "cards read", "response MB", "wall s (process)", "spider s")]
    for window in result["windows"]:
        for spider in SPIDERS:
            summary = window["summary"][spider]
            rows.append((f"{window['label']} {window['window'][0]}..{window['window'][1]}", f"`{spider}`",
                         cell(summary, "requests_per_article", 3), cell(summary, "requests", 0),
                         cell(summary, "article_requests", 0), cell(summary, "other_requests", 0),
                         cell(summary, "stored", 0), cell(summary, "cards_seen", 0), cell(summary, "response_mb"),
                         cell(summary, "wall_seconds"), cell(summary, "elapsed_seconds")))
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows[1:]])


if __name__ == "__main__":
    import json
    import sys

    stories = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
        outcome = run(stories, pairs, Path(tmp))
    print(json.dumps({k: v for k, v in outcome.items() if k != "runs"}, indent=1))
    print(table(outcome))
