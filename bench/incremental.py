"""Incremental crawling: what `scrapy crawl latest` requests when little or nothing is new.

One replica with --hidden 10; three `scrapy crawl latest` runs on one store:
1. the first full run (the baseline: every feed batch and article of all editions);
2. nothing new: requests beyond robots.txt, per edition (target <= 2);
3. after GET /_replica/publish?count=10: requests, and how many of them are the new
   article pages (the minimum any crawler needs) vs overhead per edition.
Requests are the crawler's downloader/request_count minus robotstxt/request_count; the
replica's own hit counter (reset before each run) is reported alongside as a check.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.common import load_stats, log, newsbot_crawl, ratio, run_measured, start_replica, tail

LANGUAGES = 3


def run(stories: int, workdir: Path, new_stories: int = 10) -> dict[str, Any]:
    replica = start_replica(stories, hidden=new_stories)
    db = workdir / "incremental.sqlite"
    runs: dict[str, dict[str, Any]] = {}
    try:
        def crawl(label: str) -> dict[str, Any]:
            stats_file = workdir / f"latest-{label}.json"
            replica.hits(reset=True)
            measured = run_measured(newsbot_crawl("latest", replica.base_url, db, stats_file), replica_pid=replica.pid)
            stats = load_stats(stats_file)
            hits = replica.hits(reset=True)
            if measured.returncode or stats.get("finish_reason") != "finished":
                raise RuntimeError(f"latest ({label}) failed ({measured.returncode}):\n{tail(measured.stderr)}")
            requests = stats.get("downloader/request_count", 0) - stats.get("robotstxt/request_count", 0)
            return {"requests": requests, "replica_hits_beyond_robots": hits["total"] - hits["paths"].get("/robots.txt", 0),
                    "items": stats.get("item_scraped_count", 0),
                    "stops": {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("newsbot/stop/")},
                    "elapsed_seconds": round(stats.get("elapsed_time_seconds", 0), 2)}

        before = {t["url"] for t in replica.ground_truth()}
        log(f"incremental: first latest run over {stories} stories ({len(before)} articles)")
        runs["first"] = crawl("first")
        log("incremental: second run, nothing new")
        runs["nothing_new"] = crawl("nothing-new")
        replica.publish(new_stories)
        new_articles = len({t["url"] for t in replica.ground_truth()} - before)
        log(f"incremental: third run after publishing {new_stories} stories ({new_articles} article pages)")
        runs["after_new"] = crawl("after-new")
    finally:
        replica.stop()
    first, idle, after = runs["first"], runs["nothing_new"], runs["after_new"]
    per_edition = idle["requests"] / LANGUAGES
    overhead = (after["requests"] - new_articles) / LANGUAGES
    return {
        "stories": stories, "first_run_requests": first["requests"], "first_run_items": first["items"],
        "nothing_new_requests": idle["requests"], "nothing_new_per_edition": round(per_edition, 2),
        "nothing_new_ratio_to_first": ratio(idle["requests"], first["requests"]),
        "new_stories": new_stories, "new_article_pages": new_articles,
        "after_new_requests": after["requests"], "after_new_items": after["items"],
        "after_new_overhead_per_edition": round(overhead, 2),
        "after_new_ratio_to_first": ratio(after["requests"], first["requests"]),
        "target": "<= 2 per edition with nothing new",
        "passed": per_edition <= 2 and after["items"] == new_articles,
        "runs": runs,
    }


if __name__ == "__main__":
    import json

    with tempfile.TemporaryDirectory(prefix="bench-incremental-") as tmp:
        print(json.dumps(run(200, Path(tmp)), indent=1))
