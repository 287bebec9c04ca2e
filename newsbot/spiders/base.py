"""What the listing spiders share: arguments, edition discovery, the stop rules and article requests.

Spiders navigate only: markup and URL rules live in newsbot.site, field
extraction in newsbot.loaders, storage in newsbot.store.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Iterator
from urllib.parse import urlsplit

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import DownloadCancelledError
from scrapy.http import Response
from twisted.python.failure import Failure

from newsbot import site
from newsbot.loaders import Extraction, extract_article
from newsbot.signals import article_extracted
from newsbot.normalize import BAKU, canonical_url, clean_text, parse_timestamp

logger = logging.getLogger(__name__)

PLAYWRIGHT_HANDLER = "newsbot.rendering.LazyPlaywrightDownloadHandler"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$", re.I)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_moment(value: str | None, *, end_of_day: bool = False, now: datetime | None = None) -> datetime | None:
    """A -a since/until value: a date (2025-01-01), a datetime (Baku time unless it says),
    or a duration back from now (30m, 6h, 2d, 1w)."""
    if value is None or str(value).strip() == "":
        return None
    value = str(value).strip()
    duration = _DURATION.match(value)
    if duration:
        now = now or datetime.now(timezone.utc)
        return now - timedelta(**{_UNITS[duration[2].lower()]: float(duration[1])})
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        day = datetime.fromisoformat(value).date()
        return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=BAKU)
    moment = parse_timestamp(value)
    if moment is None:
        raise ValueError(f"not a date, datetime or duration (like 6h, 2d): {value!r}")
    return moment


def parse_languages(value: str | Iterable[str] | None, default: Iterable[str]) -> list[str]:
    chosen = [v.strip().lower() for v in (value.split(",") if isinstance(value, str) else value or default) if v.strip()]
    unknown = [v for v in chosen if v not in site.LANGUAGES]
    if unknown or not chosen:
        raise ValueError(f"lang must be a comma-separated subset of {','.join(site.LANGUAGES)}; got {value!r}")
    return list(dict.fromkeys(chosen))


def parse_flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class NewsbotSpider(scrapy.Spider):
    """Base for the spiders: -a lang, since, until, max_pages, refresh."""

    # Ask the store whether an article is known, so re-runs skip it.
    incremental = True
    # Listings may need Chromium; article pages never do.
    renders_listings = True

    @classmethod
    def update_settings(cls, settings) -> None:
        super().update_settings(settings)
        if cls.renders_listings and settings.get("NEWSBOT_JS_MODE", "auto") != "never":
            scheme = urlsplit(settings.get("NEWSBOT_BASE_URL") or site.DEFAULT_BASE_URL).scheme or "https"
            # Spider priority: a DOWNLOAD_HANDLERS given with -s still wins.
            settings.set("DOWNLOAD_HANDLERS", {scheme: PLAYWRIGHT_HANDLER}, priority="spider")

    def __init__(self, lang: str | None = None, since: str | None = None, until: str | None = None,
                 max_pages: str | int | None = None, refresh: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.lang_arg = lang
        self.since = parse_moment(since)
        self.until = parse_moment(until, end_of_day=True)
        if self.since and self.until and self.since > self.until:
            raise ValueError("since is after until")
        self.max_pages = int(max_pages) if max_pages not in (None, "") else None
        if self.max_pages is not None and self.max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        self.refresh = parse_flag(refresh)
        self._store = None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Scrapy keeps no record of the -a arguments; crawl_runs stores this one.
        spider.arguments = dict(kwargs)
        spider.base_url = crawler.settings.get("NEWSBOT_BASE_URL").rstrip("/")
        spider.allowed_domains = [urlsplit(spider.base_url).hostname]
        spider.languages = parse_languages(spider.lang_arg, crawler.settings.getlist("NEWSBOT_LANGUAGES"))
        spider.js_mode = crawler.settings.get("NEWSBOT_JS_MODE", "auto")
        if spider.js_mode not in ("auto", "always", "never"):
            raise ValueError(f"NEWSBOT_JS_MODE must be auto, always or never; got {spider.js_mode!r}")
        crawler.signals.connect(spider._close_store, scrapy.signals.spider_closed)
        crawler.signals.connect(spider.request_dropped, scrapy.signals.request_dropped)
        return spider

    def edition(self, language: str) -> site.Edition:
        return site.Edition(self.base_url, language)

    # --- the store, as the memory of earlier runs --------------------------
    @property
    def store(self):
        """The SQLite store, read fresh on every lookup: another process may be writing it."""
        if self._store is None:
            path = self.settings.get("NEWSBOT_DB")
            if not path or not Path(path).exists():
                return None
            from newsbot.store import Store
            self._store = Store(path, timeout=self.settings.getfloat("NEWSBOT_DB_TIMEOUT", 30.0), readonly=True)
        return self._store

    def _close_store(self, spider) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def stored_versions(self, urls: list[str]) -> dict:
        if self.refresh or not self.incremental or not urls or self.store is None:
            return {}
        return self.store.lookup(urls)

    # --- discovery ---------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        for language in self.languages:
            yield scrapy.Request(self.edition(language).home_url, callback=self.parse_home,
                                 errback=self.home_failed, cb_kwargs={"language": language})

    def parse_home(self, response: Response, language: str) -> Iterator[scrapy.Request]:
        raise NotImplementedError

    def home_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """Without a home page there is no navigation: fall back to the known paths."""
        language = failure.request.cb_kwargs["language"]
        self.crawler.stats.inc_value("newsbot/discovery/home_failed")
        logger.warning("Home page of the %s edition failed (%s); using known paths", language, failure.value)
        yield from self.fallback_listings(language)

    def fallback_listings(self, language: str) -> Iterator[scrapy.Request]:
        return iter(())

    # --- listings ----------------------------------------------------------
    def listing_request(self, url: str, callback, language: str, page: int, **extra: Any) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.listing_failed,
                              cb_kwargs={"language": language, "page": page, **extra})

    def listing_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value("newsbot/listing/failed")
        logger.error("Listing page failed: %s (%s)", failure.request.url, failure.value)

    def read_listing(self, response: Response, whole_page: bool = True) -> tuple[list[site.Card] | None, list]:
        """(cards, requests to send first). Cards are None when the page cannot be read yet:
        it was cut short (fetched again) or its cards need a browser (rendered)."""
        if whole_page:
            refetch = self.refetch_if_truncated(response)
            if refetch is not None:
                return None, list(refetch)
        cards = site.parse_cards(response.selector, response.url)
        if self.should_render(response, cards):
            return None, [self.rendered(response.request)]
        self.crawler.stats.inc_value("newsbot/listing/pages" if cards else "newsbot/listing/empty")
        return cards, []

    def should_render(self, response: Response, cards: list[site.Card]) -> bool:
        """A listing with no cards in its HTML is rendered by script: ask Chromium (mode auto)."""
        return (self.js_mode == "auto" and not cards and not response.meta.get("playwright")
                and site.has_card_container(response.selector))

    def rendered(self, request: scrapy.Request) -> scrapy.Request:
        from newsbot.rendering import scroll_methods

        methods = scroll_methods(self.settings.getint("NEWSBOT_JS_SCROLLS", 3))
        self.crawler.stats.inc_value("newsbot/listing/rendered")
        return request.replace(dont_filter=True, meta={**request.meta, "playwright": True,
                                                       "playwright_page_methods": methods})

    def triage_cards(self, cards: list[site.Card], since: datetime | None = None) -> tuple[list[site.Card], bool, bool]:
        """(cards to request, passed since, whole batch already stored) for one listing page.

        Cards are newest first. A card is requested when it is inside since/until
        and not stored, or stored with another title or time (the feed shows an edit).
        """
        stats = self.crawler.stats
        since = since or self.since
        in_window, passed_since = [], False
        for card in cards:
            moment = parse_timestamp(card.timestamp)
            if moment is not None and since and moment < since:
                passed_since = True
                continue
            if moment is not None and self.until and moment > self.until:
                continue
            in_window.append(card)
        stored = self.stored_versions([canonical_url(c.url) for c in in_window])
        wanted = []
        for card in in_window:
            known = stored.get(canonical_url(card.url))
            if known is None:
                wanted.append(card)
            elif self._card_shows_edit(card, known):
                stats.inc_value("newsbot/cards/updated")
                wanted.append(card)
            else:
                stats.inc_value("newsbot/cards/already_stored")
        all_stored = bool(in_window) and len(stored) == len(in_window) and not wanted
        stats.inc_value("newsbot/cards/seen", len(cards))
        return wanted, passed_since, all_stored

    @staticmethod
    def _card_shows_edit(card: site.Card, known) -> bool:
        if card.title and clean_text(card.title) != known.title:
            return True
        moment = parse_timestamp(card.timestamp)
        return bool(moment and known.published_at and moment.isoformat() != known.published_at)

    def article_requests(self, cards: list[site.Card]) -> Iterator[scrapy.Request]:
        for card in cards:
            if site.is_article_url(card.url):
                yield self.article_request(card.url)
            else:
                self.crawler.stats.inc_value("newsbot/cards/not_an_article_url")

    def article_request(self, url: str, dont_filter: bool = False) -> scrapy.Request:
        # The dupe filter keys on the canonical URL, so a link with and without its slash is one request.
        return scrapy.Request(canonical_url(url), callback=self.parse_article, errback=self.article_failed,
                              dont_filter=dont_filter)

    # --- articles ----------------------------------------------------------
    def refetch_if_truncated(self, response: Response) -> Iterator[scrapy.Request] | None:
        """Fetch a cut-short page again (Scrapy's retry limits apply); None when the page is whole."""
        if not site.looks_truncated(response.body):
            return None
        retry = get_retry_request(response.request, spider=self, reason="truncated_html")
        if retry is None:
            self.count_drop("truncated", response.url)
        return iter([retry] if retry else [])

    def parse_article(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, scrapy.http.TextResponse):
            self.count_drop("not_html", response.url)
            return
        refetch = self.refetch_if_truncated(response)
        if refetch is not None:
            yield from refetch
            return
        extraction = extract_article(response.selector, response.url)
        self.record_extraction(extraction, response.url)
        if extraction.item is not None:
            yield extraction.item

    def record_extraction(self, extraction: Extraction, url: str) -> None:
        stats = self.crawler.stats
        stats.inc_value("newsbot/pages/article")
        # Which design generation read the page, which source gave each field, what furniture went:
        # a redesign shows here as a shift long before a field goes empty.
        stats.inc_value(f"newsbot/markup/{extraction.markup}")
        for field, source in extraction.sources.items():
            if source:
                stats.inc_value(f"newsbot/source/{field}/{source}")
        for rule, count in extraction.furniture.items():
            stats.inc_value(f"newsbot/boilerplate/{rule}", count)
        self.crawler.signals.send_catch_log(signal=article_extracted, extraction=extraction, url=url,
                                            spider=self)
        if extraction.item is None:
            for reason in extraction.problems:
                self.count_drop(reason, url)
            return
        for problem in extraction.problems:
            stats.inc_value(f"newsbot/warnings/{problem}")
            logger.warning("%s: %s", problem.replace("_", " "), url)

    def count_drop(self, reason: str, url: str) -> None:
        self.crawler.stats.inc_value(f"newsbot/dropped/{reason}")
        logger.warning("Not an article (%s): %s", reason.replace("_", " "), url)

    def article_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value("newsbot/pages/article_failed")
        if failure.check(DownloadCancelledError):
            # Past DOWNLOAD_MAXSIZE: not an article page, and never worth fetching again.
            self.count_drop("too_large", failure.request.url)
            return
        logger.error("Article page failed: %s (%s)", failure.request.url, failure.value)

    def request_dropped(self, request: scrapy.Request, spider) -> None:
        """A redirect back to a page already on its way (A -> B -> A) loses that article: count it."""
        previous = [canonical_url(u) for u in request.meta.get("redirect_urls", ())]
        if request.callback == self.parse_article and canonical_url(request.url) in previous:
            self.count_drop("redirect_loop", previous[0])

