"""report.az's sitemaps (REPORT_AZ.md, "Sitemaps"): an index of archive shards, and a Google News
sitemap of recent articles. How the live site names its shards is unseen: a dated one is taken to
span from its date (Baku time) to the next dated shard's, so a backfill skips shards by name."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from parsel import Selector

SITEMAP_INDEX_PATH = "/sitemap-posts-archive.xml"
NEWS_SITEMAP_PATH = "/news-sitemap.xml"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
SITEMAP_TYPES = frozenset({"sitemapindex", "urlset"})

# The last date in a shard URL's path: .../2026-01-28.xml, ...-2026-01.xml, .../2026/01/28.xml.
_SHARD_DATE = re.compile(r"(\d{4})[-/](\d{2})(?:[-/](\d{2}))?(?!.*\d{4}[-/]\d{2})")


def shard_spans(urls: list[str]) -> dict[str, tuple[date, date | None]] | None:
    """{shard url: (first day, the next dated shard's first day or None for the newest)} when every
    shard URL names a date, else None (no span can be told)."""
    starts = {}
    for url in urls:
        match = _SHARD_DATE.search(urlsplit(url).path)
        try:
            starts[url] = date(int(match[1]), int(match[2]), int(match[3] or 1))
        except (TypeError, ValueError):  # no date in its name (match is None), or no real date
            return None
    if not starts:
        return None
    ordered = sorted(set(starts.values()))
    following = {day: (ordered[i + 1] if i + 1 < len(ordered) else None) for i, day in enumerate(ordered)}
    return {url: (start, following[start]) for url, start in starts.items()}


def news_publication_dates(body: bytes) -> dict[str, str]:
    """{<loc>: news:publication_date} of a Google News sitemap (Scrapy's Sitemap reads only the
    direct children of <url>, and the date sits inside <news:news>)."""
    if NEWS_NS.encode() not in body:
        return {}
    selector = Selector(body=body, type="xml")
    selector.register_namespace("s", "http://www.sitemaps.org/schemas/sitemap/0.9")
    selector.register_namespace("news", NEWS_NS)
    dates = {}
    for url in selector.xpath("//s:url"):
        loc = (url.xpath("s:loc/text()").get() or "").strip()
        published = (url.xpath("news:news/news:publication_date/text()").get() or "").strip()
        if loc and published:
            dates[loc] = published
    return dates
