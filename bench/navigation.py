"""Navigation cost: requests per stored article of a full crawl, for `category`, `latest` and `sitemap`.

A full backfill (no since/until, fresh store each) of one replica per category-page layout
(LAYOUTS): the default one (cumulative pages, 404 past the last page), one whose pages past the
last show every card again ("cap"), and one with classic pagination ("paged"); `category` runs on
each, `latest` and `sitemap` on the default one only (category pages are not theirs to read).
Per run: requests (`downloader/request_count`, robots.txt included) over the rows stored (the
store's `articles` table, which must hold every ground-truth article, as the replica's hit counter
must show each article page requested once); the listing requests apart (home, category or feed
pages, sitemaps), the 404s, response bytes, wall time of the `scrapy crawl` process.

Bounds: `category` must make at most TARGET requests per stored article on cumulative pages; on
classic pages it must read every page once, no more (1 + 1/16 at best). `latest` cannot beat
1 + 1/20: the feed's infinity endpoint answers 20 cards a batch (tests/replica/pages.py
PER_PAGE, as the live site does) and names no larger batch, so every 20 articles cost one
listing request, plus per edition the home page, the feed page and the empty batch that ends it
(LATEST_BOUND). `sitemap`: one shard per publication day (plus robots.txt, the index and the
news sitemap). `python -m bench.navigation [STORIES]` runs it alone.
"""

from __future__ import annotations

import math
import sqlite3
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import load_stats, log, newsbot_crawl, run_measured, start_replica, tail

TARGET = 1.02  # `category`, on every layout
FEED_BATCH = 20  # cards per infinity batch (tests/replica/pages.py PER_PAGE)
# (label, replica options, spiders run on it)
LAYOUTS: tuple[tuple[str, dict[str, str], tuple[str, ...]], ...] = (
    ("cumulative, 404 past the end", {}, ("category", "latest", "sitemap")),
    ("cumulative, every card past the end", {"category_past_end": "cap"}, ("category",)),
    ("paged", {"category_pages": "paged"}, ("category",)),
)


def stored_rows(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]


def category_pages(truth: list[dict]) -> list[int]:
    """The number of pages (16 cards each: tests/replica/pages.py CATEGORY_PER_PAGE) of every category
    of every edition."""
    counts: dict[tuple[str, str], int] = {}
    for t in truth:
        counts[(t["language"], t["category_slug"])] = counts.get((t["language"], t["category_slug"]), 0) + 1
    return [math.ceil(n / 16) for n in counts.values()]


def page_by_page(truth: list[dict]) -> int:
    """Listing requests of a walk that reads every category page once, each edition's home page too."""
    return len({t["language"] for t in truth}) + sum(category_pages(truth))


def category_floor(truth: list[dict]) -> float:
    """The fewest requests per article any walk of cumulative pages can make: robots.txt, each
    edition's home page, each category's page 1 and, past one page, one page that shows the rest."""
    requests = 1 + len({t["language"] for t in truth}) + sum(min(p, 2) for p in category_pages(truth))
    return round((requests + len(truth)) / len(truth), 4)


def latest_bound(truth: list[dict]) -> float:
    """The fewest requests per article the feed allows: robots.txt, then per edition its home page,
    the feed page (the first 20 cards), one infinity batch per further 20 cards and the empty batch
    that ends the feed."""
    requests = 1
    for lang in {t["language"] for t in truth}:
        count = sum(1 for t in truth if t["language"] == lang)
        requests += 2 + max(0, math.ceil((count - FEED_BATCH) / FEED_BATCH)) + 1 + count
    return round(requests / len(truth), 4)


def crawl(replica, spider: str, truth: list[dict], workdir: Path, label: str) -> dict[str, Any]:
    slug = label.split(",")[0].replace(" ", "-") + ("-cap" if "every card" in label else "")
    db, stats_file = workdir / f"{slug}-{spider}.sqlite", workdir / f"{slug}-{spider}.json"
    article_paths = {urlsplit(t["url"]).path for t in truth}
    replica.hits(reset=True)
    measured = run_measured(newsbot_crawl(spider, replica.base_url, db, stats_file), replica_pid=replica.pid)
    stats = load_stats(stats_file)
    hits = replica.hits(reset=True)
    if measured.returncode or stats.get("finish_reason") != "finished":
        raise RuntimeError(f"{spider} on {label} failed ({measured.returncode}):\n{tail(measured.stderr)}")
    stored = stored_rows(db)
    requests = stats.get("downloader/request_count", 0)
    articles = {p: n for p, n in hits["paths"].items() if p in article_paths}
    robots = hits["paths"].get("/robots.txt", 0)
    return {
        "layout": label, "spider": spider, "articles": len(truth), "stored": stored,
        "complete": stored == len(truth) and articles == {p: 1 for p in article_paths},
        "requests": requests, "requests_per_article": round(requests / stored, 4) if stored else None,
        "article_requests": sum(articles.values()),
        "listing_requests": hits["total"] - sum(articles.values()) - robots, "robots": robots,
        "status_404": stats.get("downloader/response_status_count/404", 0),
        "listing_pages_with_jump": stats.get("newsbot/listing/jumps", 0),
        "response_mb": round(stats.get("downloader/response_bytes", 0) / 1e6, 2),
        "wall_seconds": round(measured.wall_seconds, 2),
    }


def run(stories: int, workdir: Path, layouts=LAYOUTS) -> dict[str, Any]:
    runs, bound, pages, floor = [], None, None, None
    for label, options, spiders in layouts:
        log(f"navigation: {stories}-story replica, category pages {label}")
        replica = start_replica(stories, **options)
        try:
            truth = replica.ground_truth()
            bound = bound or latest_bound(truth)
            pages = pages or page_by_page(truth)
            floor = floor or category_floor(truth)
            for spider in spiders:
                runs.append(crawl(replica, spider, truth, workdir, label))
                log(f"navigation: {spider} on {label}: {runs[-1]}")
        finally:
            replica.stop()
    for r in runs:
        if r["spider"] == "category" and r["layout"] == "paged":
            # Classic pages: every page must be read, so the walk's floor is page by page.
            r["target"], r["passed"] = f"{pages:,} listing requests (every page once)", r["listing_requests"] == pages
        elif r["spider"] == "category":
            r["target"] = f"<= {TARGET}" + (f" (out of reach at this size: no walk can go below {floor})"
                                            if floor > TARGET else "")
            r["passed"] = r["requests_per_article"] <= TARGET
        elif r["spider"] == "latest":
            r["target"], r["passed"] = f"<= {bound} (20 cards a feed batch)", r["requests_per_article"] <= bound
        else:
            r["target"], r["passed"] = "measured", True
        r["passed"] = r["passed"] and r["complete"]
    return {"stories": stories, "runs": runs, "latest_bound": bound, "page_by_page_listing_requests": pages,
            "category_floor": floor,
            "target": f"category <= {TARGET} requests per stored article on cumulative pages",
            "passed": all(r["passed"] for r in runs)}


def table(result: dict[str, Any]) -> str:
    rows = [("spider", "category pages", "requests / stored article", "requests", "stored", "article pages",
             "listing requests", "404s", "response MB", "wall s", "every article once", "target")]
    for r in result["runs"]:
        rows.append((f"`{r['spider']}`", r["layout"] if r["spider"] == "category" else "–",
                     f"{r['requests_per_article']:.4f}", f"{r['requests']:,}", f"{r['stored']:,}",
                     f"{r['article_requests']:,}", f"{r['listing_requests']:,}", f"{r['status_404']:,}",
                     f"{r['response_mb']:,.2f}", f"{r['wall_seconds']:,.2f}", "yes" if r["complete"] else "**no**",
                     f"{r['target']}: {'met' if r['passed'] else '**not met**'}"))
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows[1:]])


if __name__ == "__main__":
    import json
    import sys

    stories = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory(prefix="bench-navigation-") as tmp:
        outcome = run(stories, Path(tmp))
    print(json.dumps({k: v for k, v in outcome.items() if k != "runs"}, indent=1))
    print(table(outcome))
