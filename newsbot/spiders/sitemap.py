"""The cheap backfill: the site's sitemaps name every article, so only article pages are fetched."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, AsyncIterator, Iterable, Iterator
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from scrapy.spiders import SitemapSpider as ScrapySitemapSpider
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from newsbot import site
from newsbot.site.clock import BAKU
from newsbot.normalize import parse_timestamp, url_key
from newsbot.spiders.base import NewsbotSpider, argument, failure_level, failure_reason
from newsbot.spiders.category import CategoryWalks

logger = logging.getLogger(__name__)


def parse_shards(value: str | None) -> tuple[int, int] | None:
    """-a shards=K/N: the K-th (from 1) of N partitions of the index's shards."""
    if value in (None, ""):
        return None
    part, _, total = str(value).strip().partition("/")
    try:
        k, n = int(part), int(total)
    except ValueError:
        raise ValueError(f"not K/N (the K-th of N parts, e.g. 1/2): {value!r}") from None
    if not 1 <= k <= n:
        raise ValueError(f"K/N needs 1 <= K <= N; got {value!r}")
    return k, n


class SitemapSpider(NewsbotSpider, ScrapySitemapSpider):
    """scrapy crawl sitemap [-a since=2026-01-01 -a until=2026-01-15] [-a lang=en] [-a max_pages=N]
    [-a shards=K/N] [-a refresh=1]

    What it reads and skips: docs/crawling.md, Backfill."""

    name = "sitemap"
    paced = True
    # Every entry filter_entries keeps is an article page (newsbot.site decides, not a regex here).
    sitemap_rules = [("", "parse_article")]

    def __init__(self, shards: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.partition = argument("shards", parse_shards, shards)
        self.fell_back = False
        # {loc: news:publication_date} of the sitemap being filtered (the news sitemap's only).
        self._publication_dates: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.category_walks = CategoryWalks(spider)  # the fallback; its idle check also lets held links in
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        edition = self.edition("az")  # the sitemaps are site-wide, at the root
        yield self.sitemap_request(edition.url(site.SITEMAP_INDEX_PATH), "index")
        # Only the first node of a split reads the news sitemap: each part would fetch the same pages.
        if self.until is None and (self.partition is None or self.partition[0] == 1):
            yield self.sitemap_request(edition.url(site.NEWS_SITEMAP_PATH), "news")

    def sitemap_request(self, url: str, kind: str) -> scrapy.Request:
        return scrapy.Request(url, callback=self._parse_sitemap, errback=self.sitemap_failed,
                              meta={"newsbot_sitemap": kind})

    def _parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """Scrapy's own sitemap walk, its requests made ours: article pages once per url_key a run, and
        shards with an errback, each a paced walk step (an index names hundreds of big shards)."""
        self.pacing.answered(response.request)
        kind = response.meta.get("newsbot_sitemap", "shard")
        body = self._get_sitemap_body(response)
        if (Sitemap(body).type if body else None) not in site.SITEMAP_TYPES:
            if kind == "index":
                yield from self.fall_back(response.url, "not a sitemap")
            else:
                self.crawler.stats.inc_value("newsbot/sitemap/invalid")
                logger.warning("Not a sitemap: %s", response.url)
        else:
            # A sitemap read is the listing of this spider (crawl health's no_listings check judges it).
            self.crawler.stats.inc_value("newsbot/listing/pages")
            self._publication_dates = site.news_publication_dates(body) if kind == "news" else {}
            urls, shards = [], []
            for request in super()._parse_sitemap(response):
                if request.callback != self.parse_article:
                    shards.append(request.url)
                elif self.first_request_for(request.url):
                    urls.append(request.url)
            yield from self.pacing.articles(urls)
            for url in shards:
                yield from self.pacing.step(self.sitemap_request(url, "shard"))
        yield from self.pacing.resume()

    def sitemap_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        self.pacing.answered(failure.request)
        kind = failure.request.meta.get("newsbot_sitemap")
        if kind == "index":
            yield from self.fall_back(failure.request.url, failure_reason(failure))
        elif kind == "news":
            # The archive's newest shards hold the same articles, a little later.
            logger.info("News sitemap %s failed (%s)", failure.request.url, failure_reason(failure))
        else:
            self.crawler.stats.inc_value("newsbot/sitemap/failed")
            logger.log(failure_level(failure), "Sitemap shard failed: %s (%s)", failure.request.url,
                       failure_reason(failure))
        yield from self.pacing.resume()

    def fall_back(self, url: str, reason: str) -> Iterator[scrapy.Request]:
        if self.fell_back:
            return
        self.fell_back = True
        self.crawler.stats.set_value("newsbot/sitemap/fallback", 1)
        logger.warning("No sitemap index at %s (%s); falling back to the category listings", url, reason)
        yield from self.home_requests()

    def sitemap_filter(self, entries: Sitemap) -> Iterable[dict[str, Any]]:
        # Scrapy filters an index or a urlset, nothing else.
        if entries.type == "sitemapindex":
            return self.filter_shards(list(entries))
        return self.filter_entries(list(entries))

    def filter_shards(self, shards: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The index's shards this run reads: its partition, the window (lastmod, dates), max_pages."""
        stats = self.crawler.stats
        spans = site.shard_spans([s["loc"] for s in shards]) or {}
        since_day, until_day = (moment.astimezone(BAKU).date() if moment else None
                                for moment in (self.since, self.until))
        kept = []
        for position, shard in enumerate(shards):
            lastmod = parse_timestamp(shard.get("lastmod"))
            start, end = spans.get(shard["loc"], (None, None))
            if self.partition and position % self.partition[1] != self.partition[0] - 1:
                reason = "other_part"
            elif self.since and lastmod and lastmod < self.since:
                reason = "lastmod_before_since"  # nothing in it was published or changed since then
            elif since_day and end and end <= since_day:
                reason = "before_since"
            elif until_day and start and start > until_day:
                reason = "after_until"
            elif self.max_pages and len(kept) >= self.max_pages:
                reason = "max_pages"
            else:
                kept.append(shard)
                continue
            stats.inc_value("newsbot/sitemap/shards_skipped")
            stats.inc_value(f"newsbot/sitemap/shards_skipped/{reason}")
        stats.inc_value("newsbot/sitemap/shards", len(kept))
        return kept

    def filter_entries(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A shard's article pages this run requests: chosen editions, in the window, not requested yet
        this run, and not stored (one store lookup for the whole shard)."""
        stats = self.crawler.stats
        stats.inc_value("newsbot/sitemap/entries", len(entries))
        candidates = []
        for entry in entries:
            loc = entry["loc"]
            if not site.is_article_url(loc):
                stats.inc_value("newsbot/sitemap/not_an_article_url")
            elif site.language_of_path(urlsplit(loc).path) not in self.languages:
                stats.inc_value("newsbot/sitemap/other_edition")
            elif not self.may_be_in_window(entry):
                stats.inc_value("newsbot/sitemap/outside_window")
            elif url_key(loc) in self.requested_keys:
                stats.inc_value("newsbot/requests/same_article")
            else:
                candidates.append(entry)
        # The URLs as the sitemap gives them: the store matches each by its url_key.
        stored = self.stored_versions([e["loc"] for e in candidates])
        stats.inc_value("newsbot/sitemap/already_stored", len(stored))
        return [e for e in candidates if e["loc"] not in stored]

    def may_be_in_window(self, entry: dict[str, Any]) -> bool:
        """news:publication_date decides exactly; a <lastmod> (publication or a later edit) only rules
        out entries last changed before since. The rest is judged on the page (parse_article)."""
        published = parse_timestamp(self._publication_dates.get(entry["loc"]))
        if published is not None:
            return self.in_window(published)
        lastmod = parse_timestamp(entry.get("lastmod"))
        return not (self.since and lastmod and lastmod < self.since)

    def in_window(self, moment: datetime) -> bool:
        return not (self.since and moment < self.since) and not (self.until and moment > self.until)

    def parse_article(self, response: Response) -> Iterator[Any]:
        for result in super().parse_article(response):
            if not isinstance(result, scrapy.Request):
                # A shard entry changed after since can still be a page published before it.
                published = parse_timestamp(result.get("published_at"))
                if published is not None and not self.in_window(published):
                    self.crawler.stats.inc_value("newsbot/sitemap/page_outside_window")
                    continue
            yield result
