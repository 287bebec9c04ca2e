"""What the spiders share: arguments, edition discovery, listings and the stop rules (article pages
are newsbot.spiders.article_pages'). Markup and URL rules are newsbot.site's, fields newsbot.loaders'."""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Container
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Iterator
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import UsageError
from scrapy.http import Response
from twisted.python.failure import Failure

from newsbot import site
from newsbot import stats as stats_keys
from newsbot.config import Config, setting_name
from newsbot.html import document
from newsbot.listing import Card, CardReader
from newsbot.memo import KeySet
from newsbot.spiders.article_pages import ArticlePages, failure_level, failure_reason, own_meta
from newsbot.spiders.pacing import Pacing
from newsbot.outcome import report_broken
from newsbot.pipelines.jsonlines import jsonl_path
from newsbot.pipelines.store import CLOSE_REASON as STORE_UNAVAILABLE
from newsbot.store import Store, StoreError, is_postgres_url
from newsbot.site.clock import BAKU
from newsbot.normalize import display_text, parse_timestamp

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
        try:
            return now - timedelta(**{_UNITS[duration[2].lower()]: float(duration[1])})
        except OverflowError:
            raise ValueError(f"a duration back past the year 1: {value!r}") from None
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


def parse_max_pages(value: str | int | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        pages = int(str(value).strip())
    except ValueError:
        raise ValueError(f"max_pages: not a whole number: {value!r}") from None
    if pages < 1:
        raise ValueError(f"max_pages must be at least 1; got {value!r}")
    return pages


def argument(name: str, parse, value: Any, **kwargs: Any) -> Any:
    """parse(value), its ValueError naming the -a argument: 'since: not a date ...'."""
    try:
        return parse(value, **kwargs)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


# The arguments Scrapyd adds to a job's own (scrapyd/webservice.py, Schedule): the job's id, which
# %(_job)s templates use, and the egg version; `setting` is schedule.json's parameter for -s, and a
# client that passes it on as an argument has misspelt nothing.
SCRAPYD_ARGUMENTS = frozenset({"_job", "_version", "setting"})


class NewsbotSpider(ArticlePages, scrapy.Spider):
    """Base for the spiders: -a lang, since, until, max_pages, refresh; discovery and listings."""

    # Ask the store whether an article is known, so re-runs skip it.
    incremental = True
    # Listings may need Chromium; article pages never do.
    renders_listings = True
    # Walks that can run ahead of the downloader switch pacing on (Pacing: NEWSBOT_WALK_BACKLOG).
    paced = False
    # The category walks (newsbot.spiders.category.CategoryWalks) of the spiders that walk them.
    category_walks = None

    @classmethod
    def update_settings(cls, settings) -> None:
        super().update_settings(settings)
        config = Config.from_settings(settings)
        if cls.renders_listings and config.js_mode != "never":
            scheme = urlsplit(config.base_url or site.DEFAULT_BASE_URL).scheme or "https"
            # Spider priority: a DOWNLOAD_HANDLERS given with -s still wins.
            settings.set("DOWNLOAD_HANDLERS", {scheme: PLAYWRIGHT_HANDLER}, priority="spider")

    def __init__(self, lang: str | None = None, since: str | None = None, until: str | None = None,
                 max_pages: str | int | None = None, refresh: str | None = None, **kwargs: Any):
        unknown = sorted(set(kwargs) - SCRAPYD_ARGUMENTS)
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not an argument of {self.name}; it takes "
                             f"{', '.join(self.arguments_taken())}")
        super().__init__(**kwargs)
        self.lang_arg = lang
        if lang is not None:
            parse_languages(lang, ())  # the default (a setting) is read in from_crawler
        self.since = argument("since", parse_moment, since)
        self.until = argument("until", parse_moment, until, end_of_day=True)
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({since}) is after until ({until})")
        self.max_pages = parse_max_pages(max_pages)
        self.refresh = str(refresh).strip().lower() in ("1", "true", "yes", "on")
        self._store = None
        self._store_lost = False
        # url_key of every article requested this run: the site links one page as /x/y and /x/y/,
        # which Scrapy's dupefilter (exact URLs, so that a 301 between the two is still followed)
        # would fetch twice. As hashes (newsbot.memo.KeySet), far smaller than the URLs.
        self.requested_keys = KeySet()

    @classmethod
    def arguments_taken(cls) -> list[str]:
        """The -a arguments the spider's __init__ methods name, its own first."""
        taken: list[str] = []
        for klass in cls.__mro__:
            if issubclass(klass, NewsbotSpider) and "__init__" in vars(klass):
                taken += [p.name for p in inspect.signature(klass.__init__).parameters.values()
                          if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        return list(dict.fromkeys(taken))

    @classmethod
    def check_arguments(cls, settings, **kwargs: Any) -> None:
        """Raise UsageError for the first bad -a argument (or newsbot setting), before any crawl starts:
        `scrapy crawl` calls this; a spider created otherwise (Scrapyd) still checks in __init__/from_crawler."""
        try:
            cls(**kwargs).configure(settings)
        except ValueError as exc:
            raise UsageError(str(exc), print_help=False) from None

    def configure(self, settings) -> None:
        """What the spider takes from the settings; ValueError for a bad one."""
        self.config = Config.from_settings(settings)
        self.base_url = (self.config.base_url or site.DEFAULT_BASE_URL).rstrip("/")
        self.allowed_domains = [urlsplit(self.base_url).hostname]
        self.languages = parse_languages(self.lang_arg, self.config.languages)
        # The file templates name spider attributes: a missing one is known now, before any request.
        for name in ("jsonl", "archive"):
            template = getattr(self.config, name)
            try:
                jsonl_path(template, self)
            except ValueError as exc:
                raise ValueError(str(exc).replace("NEWSBOT_JSONL", setting_name(name))) from None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Scrapy keeps no record of the -a arguments; crawl_runs stores this one.
        spider.arguments = dict(kwargs)
        spider.configure(crawler.settings)
        crawler.signals.connect(spider.request_dropped, scrapy.signals.request_dropped)
        crawler.signals.connect(spider.request_scheduled, scrapy.signals.request_scheduled)
        spider.pacing = Pacing(crawler, spider.config.walk_backlog if cls.paced else 0,
                               spider.article_request)
        return spider

    def edition(self, language: str) -> site.Edition:
        return site.Edition(self.base_url, language)

    @property
    def store(self):
        """The store, read fresh on every lookup: another process may be writing it. None: no store, or
        one that cannot be read (store_lost)."""
        if self._store is None and not self._store_lost:
            path = self.config.db
            if not path or not (is_postgres_url(path) or Path(path).exists()):
                return None
            try:
                self._store = Store(path, timeout=self.config.db_timeout, readonly=True)
            except StoreError as exc:
                self.store_lost(exc)
        return self._store

    def store_lost(self, exc: StoreError) -> None:
        """The store cannot be read (a server gone): the crawl closes, as when it cannot be written."""
        self._store_lost = True
        if self._store is not None:
            self._store.close()
            self._store = None
        self.crawler.stats.inc_value("newsbot/store/unavailable")
        report_broken(self.crawler, STORE_UNAVAILABLE, "the article store cannot be read: %s", exc)

    def closed(self, reason: str) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def stored_versions(self, urls: list[str]) -> dict:
        if self.refresh or not self.incremental or not urls or self.store is None:
            return {}
        try:
            return self.store.lookup(urls)
        except StoreError as exc:
            self.store_lost(exc)
            return {}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.home_requests():
            yield request

    def home_requests(self) -> Iterator[scrapy.Request]:
        """Each edition's home page, where its navigation names the listings."""
        for language in self.languages:
            yield scrapy.Request(self.edition(language).home_url, callback=self.parse_home,
                                 errback=self.home_failed, cb_kwargs={"language": language})

    def parse_home(self, response: Response, language: str) -> Iterator[scrapy.Request]:
        return self.category_walks.home(response, language)

    def home_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """Without a home page there is no navigation: fall back to the known paths."""
        language = failure.request.cb_kwargs["language"]
        self.crawler.stats.inc_value("newsbot/discovery/home_failed")
        # Quiet when the failure was said already (a block, an unreachable site): the crawl is closing.
        logger.log(min(logging.WARNING, failure_level(failure)), "Home page of the %s edition failed (%s); "
                   "using known paths", language, failure_reason(failure))
        yield from self.fallback_listings(language)

    def fallback_listings(self, language: str) -> Iterator[scrapy.Request]:
        return self.category_walks.fallback(language)

    # The callbacks of the category walks' requests: a JOBDIR queue keeps a callback as the name of
    # a method of the spider, so the walks' own methods are reached through these.
    def parse_walk(self, response: Response, step: str, **kwargs: Any) -> Iterator[Any]:
        return getattr(self.category_walks, step)(response, **kwargs)

    def walk_failed(self, failure: Failure) -> Iterator[Any]:
        return self.category_walks.failed(failure)

    def listing_request(self, url: str, callback, language: str, page: int, meta: dict) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.listing_failed, meta=meta,
                              cb_kwargs={"language": language, "page": page})

    def listing_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value(stats_keys.LISTING_FAILED)
        logger.log(failure_level(failure), "Listing page failed: %s (%s)", failure.request.url, failure_reason(failure))

    def read_listing(self, response: Response, whole_page: bool = True,
                     known: Container[str] | None = None) -> tuple[CardReader | None, list]:
        """(the page's cards as read, requests to send first). The reader is None when the page
        cannot be read yet: it was cut short (fetched again) or its cards need a browser (rendered).
        known: url_keys of cards read before, which are only counted (CardReader)."""
        if whole_page:
            refetch = self.refetch_if_truncated(response)
            if refetch is not None:
                return None, refetch
        reader = CardReader(response.url, known=known)
        document(response, read=reader)
        # A listing with no cards in its HTML is rendered by script: ask Chromium (mode auto).
        if (self.config.js_mode == "auto" and not reader.shown() and not response.meta.get("playwright")
                and site.has_card_container(document(response))):
            return None, [self.rendered(response.request)]
        self.crawler.stats.inc_value(stats_keys.LISTING_PAGES if reader.shown() else stats_keys.LISTING_EMPTY)
        return reader, []

    def rendered(self, request: scrapy.Request) -> scrapy.Request:
        from newsbot.rendering import scroll_methods

        methods = scroll_methods(self.config.js_scrolls)
        self.crawler.stats.inc_value("newsbot/listing/rendered")
        return request.replace(dont_filter=True, meta={**own_meta(request), "playwright": True,
                                                       "playwright_page_methods": methods})

    def triage_cards(self, cards: list[Card], since: datetime | None = None) -> tuple[list[Card], bool, bool]:
        """(cards to request, passed since, whole batch already stored) for one listing page: the
        cards inside since/until that are not stored, or stored with another title or time (an edit)."""
        stats = self.crawler.stats
        since = since or self.since
        in_window, passed_since = [], False
        for card in cards:
            moment = parse_timestamp(card.timestamp)
            if moment is not None and since and moment < since:
                passed_since = True
            elif moment is None or not self.until or moment <= self.until:
                in_window.append((card, moment))
        # As the cards give them: the store matches each by its url_key.
        stored = self.stored_versions([card.url for card, _ in in_window])
        wanted = []
        for card, moment in in_window:
            known = stored.get(card.url)
            if known is not None:
                if not ((card.title and display_text(card.title) != known.title)
                        or (moment and known.published_at and moment.isoformat() != known.published_at)):
                    stats.inc_value("newsbot/cards/already_stored")
                    continue
                stats.inc_value("newsbot/cards/updated")
            wanted.append(card)
        all_stored = bool(in_window) and len(stored) == len(in_window) and not wanted
        stats.inc_value("newsbot/cards/seen", len(cards))
        return wanted, passed_since, all_stored
