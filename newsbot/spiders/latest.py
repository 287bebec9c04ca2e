"""The main job: each edition's Latest News feed and its infinite scroll, newest first."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Response
from twisted.python.failure import Failure

from newsbot import site
from newsbot.html import document
from newsbot.normalize import clean_text, parse_timestamp
from newsbot.spiders.base import NewsbotSpider, parse_moment
from newsbot.store import Store, StoreError

logger = logging.getLogger(__name__)

# Walk endings after which every card between the newest and the oldest seen was requested.
CLEAN_STOPS = frozenset({"since", "already_stored", "end_of_feed", "max_pages"})


@dataclass
class FeedWalk:
    """One edition's walk down the feed in this run."""

    newest: datetime | None = None
    oldest: datetime | None = None
    stop: str = ""
    failed_articles: int = 0


class LatestSpider(NewsbotSpider):
    """scrapy crawl latest [-a lang=en,ru] [-a since=6h|2026-01-01] [-a max_pages=N] [-a refresh=1]

    Its stop rules: docs/crawling.md, Window and incremental runs."""

    name = "latest"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.feeds: dict[str, FeedWalk] = {}
        self._coverage: dict[str, tuple[datetime, datetime] | None] = {}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.default_since = parse_moment(spider.config.latest_since or None)
        crawler.signals.connect(spider.record_coverage, signal=signals.spider_closed)
        return spider

    def coverage(self, language: str) -> tuple[datetime, datetime] | None:
        """(oldest, newest) card time of the feed stretch an earlier complete run stored."""
        if language not in self._coverage:
            try:
                store = None if self.refresh else self.store
                stored = store.coverage(self.name, language) if store is not None else None
            except StoreError as exc:
                self.store_lost(exc)
                stored = None
            self._coverage[language] = (parse_timestamp(stored[0]), parse_timestamp(stored[1])) if stored else None
        return self._coverage[language]

    def record_coverage(self, spider, reason: str) -> None:
        """After a clean run, remember which stretch of each feed is now fully stored."""
        if reason != "finished" or not self.config.db:
            return
        try:
            with Store(self.config.db, timeout=self.config.db_timeout) as store:
                for language, walk in self.feeds.items():
                    if walk.failed_articles or walk.stop not in CLEAN_STOPS or walk.newest is None:
                        continue
                    oldest, newest = walk.oldest, walk.newest
                    covered = self.coverage(language)
                    if covered and oldest <= covered[1]:
                        oldest = min(oldest, covered[0])
                    store.record_coverage(self.name, language, oldest.isoformat(), newest.isoformat())
        except StoreError as exc:  # the next run walks further back instead
            logger.warning("Could not record the feeds' coverage: %s", exc)

    def article_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        yield from super().article_failed(failure)
        language = site.language_of_path(urlsplit(failure.request.url).path)
        self.feeds.setdefault(language, FeedWalk()).failed_articles += 1

    def parse_home(self, response: Response, language: str) -> Iterator[scrapy.Request]:
        labels = site.LATEST_LABELS[language]
        for label, url in site.find_nav_links(document(response), response.url):
            if clean_text(label).casefold() in labels and url.startswith(self.base_url):
                self.crawler.stats.inc_value("newsbot/discovery/feed_from_nav")
                yield self.feed_request(url, language, fallbacks=[])
                return
        logger.warning("No Latest News link in the %s navigation; trying the known paths", language)
        yield from self.fallback_listings(language)

    def fallback_listings(self, language: str) -> Iterator[scrapy.Request]:
        self.crawler.stats.inc_value("newsbot/discovery/feed_fallback")
        first, *rest = self.edition(language).latest_fallback_urls()
        yield self.feed_request(first, language, fallbacks=rest)

    def feed_request(self, url: str, language: str, fallbacks: list[str]) -> scrapy.Request:
        request = self.listing_request(url, self.parse_feed, language, page=1, meta={"feed_fallbacks": fallbacks})
        return self.rendered(request) if self.config.js_mode == "always" else request

    def listing_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        fallbacks = failure.request.meta.get("feed_fallbacks")
        if fallbacks:
            logger.info("Feed %s failed; trying %s", failure.request.url, fallbacks[0])
            yield self.feed_request(fallbacks[0], failure.request.cb_kwargs["language"], fallbacks[1:])
            return
        super().listing_failed(failure)

    def parse_feed(self, response: Response, language: str, page: int) -> Iterator[Any]:
        # Batches after the first are HTML fragments, with no footer or </html> to check.
        listing, first = self.read_listing(response, whole_page=page == 1)
        yield from first
        if listing is None:
            return
        cards = listing.cards()
        if not cards:
            self.stopped(language, "end_of_feed" if page > 1 else "empty_feed", response.url)
            return
        since = self.since
        if since is None and not self.coverage(language):
            since = self.default_since
        wanted, passed_since, all_stored = self.triage_cards(cards, since=since)
        yield from self.pacing.articles(self.new_article_urls(wanted))
        walk = self.feeds.setdefault(language, FeedWalk())
        moments = [m for m in map(parse_timestamp, (c.timestamp for c in cards))
                   if m and (since is None or m >= since)]
        if moments:
            moments += [m for m in (walk.newest, walk.oldest) if m]
            walk.newest, walk.oldest = max(moments), min(moments)
        covered = self.coverage(language)
        if passed_since:
            self.stopped(language, "since", response.url)
        elif all_stored and covered and walk.oldest and walk.oldest <= covered[1]:
            self.stopped(language, "already_stored", response.url)
        elif self.max_pages and page >= self.max_pages:
            self.stopped(language, "max_pages", response.url)
        elif not cards[-1].timestamp:
            self.stopped(language, "no_timestamp", response.url)
        else:
            # The feed page names its endpoint (.loadContainer[data-url]); later batches carry it on.
            endpoint = site.feed_endpoint(document(response)) if page == 1 else response.meta.get("feed_endpoint")
            yield self.listing_request(self.edition(language).infinity_url(cards[-1].timestamp, endpoint),
                                       self.parse_feed, language, page + 1, meta={"feed_endpoint": endpoint})

    def stopped(self, language: str, reason: str, url: str) -> None:
        self.feeds.setdefault(language, FeedWalk()).stop = reason
        self.crawler.stats.set_value(f"newsbot/stop/{language}", reason)
        logger.info("%s feed: stopped (%s) at %s", language, reason, url)
