"""What the listing spiders share: arguments, edition discovery, the stop rules and article requests.

Spiders navigate only: markup and URL rules live in newsbot.site, field
extraction in newsbot.loaders, storage in newsbot.store.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Container
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Iterator
from urllib.parse import urldefrag, urlsplit

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import DownloadCancelledError, UsageError
from scrapy.http import Response
from twisted.python.failure import Failure

from newsbot import site
from newsbot import stats as stats_keys
from newsbot.config import Config, setting_name
from newsbot.html import document
from newsbot.loaders import Extraction, extract_article
from newsbot.memo import KeySet
from newsbot.outcome import report_lost
from newsbot.pipelines.jsonlines import jsonl_path
from newsbot.signals import article_extracted
from newsbot.normalize import BAKU, display_text, parse_timestamp, url_key

logger = logging.getLogger(__name__)

# Problems that come in whole categories of pages: crawl health says them once, at close, with
# counts (newsbot.extensions.CrawlHealth), rather than one line a page.
SUMMED_UP_AT_CLOSE = frozenset({"unknown_category"})

# Causes of a dropped page that are losses of their own (newsbot.stats.LOSS_REASONS); every other
# cause is an extraction's (missing_body, not_html...): there is no article in the page.
OWN_LOSSES = frozenset({"truncated", "empty", "too_large", "off_site", "redirect_loop"})

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


def parse_flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


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


# Meta keys Scrapy's components set on a request as it is downloaded (retries, redirects, timing,
# the cache): a request built again from a response's request leaves them behind (Scrapy's
# MetaCopyDetectionMiddleware warns about each of them).
INTERNAL_META = frozenset({"_auth_proxy", "_dont_cache", "_scheme_proxy", "cache_timestamp", "download_latency",
                           "redirect_reasons", "redirect_times", "redirect_ttl", "redirect_urls", "retry_times"})
# The truncated-page refetches of a request so far (Scrapy's retry_times, under a key of our own).
REFETCH_TIMES = "newsbot_refetch_times"


# The arguments Scrapyd adds to a job's own (scrapyd/webservice.py, Schedule): the job's id, which
# %(_job)s templates use, and the egg version; `setting` is schedule.json's parameter for -s, and a
# client that passes it on as an argument has misspelt nothing.
SCRAPYD_ARGUMENTS = frozenset({"_job", "_version", "setting"})


def own_meta(request: scrapy.Request) -> dict[str, Any]:
    return {k: v for k, v in request.meta.items() if k not in INTERNAL_META}


class NewsbotSpider(scrapy.Spider):
    """Base for the spiders: -a lang, since, until, max_pages, refresh."""

    # Ask the store whether an article is known, so re-runs skip it.
    incremental = True
    # Listings may need Chromium; article pages never do.
    renders_listings = True

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
        self.refresh = parse_flag(refresh)
        self._store = None
        # url_key of every article requested this run: the site links one page as /x/y and /x/y/,
        # which Scrapy's dupefilter (exact URLs, so that a 301 between the two is still followed)
        # would fetch twice. As hashes (newsbot.memo.KeySet): ~16 bytes an article, not ~150.
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
        self.js_mode = self.config.js_mode
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
        crawler.signals.connect(spider._close_store, scrapy.signals.spider_closed)
        crawler.signals.connect(spider.request_dropped, scrapy.signals.request_dropped)
        crawler.signals.connect(spider.request_scheduled, scrapy.signals.request_scheduled)
        return spider

    def edition(self, language: str) -> site.Edition:
        return site.Edition(self.base_url, language)

    # --- the store, as the memory of earlier runs --------------------------
    @property
    def store(self):
        """The SQLite store, read fresh on every lookup: another process may be writing it."""
        if self._store is None:
            path = self.config.db
            if not path or not Path(path).exists():
                return None
            from newsbot.store import Store
            self._store = Store(path, timeout=self.config.db_timeout, readonly=True)
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
        for request in self.home_requests():
            yield request

    def home_requests(self) -> Iterator[scrapy.Request]:
        """Each chosen edition's home page, where its navigation names the listings."""
        for language in self.languages:
            yield scrapy.Request(self.edition(language).home_url, callback=self.parse_home,
                                 errback=self.home_failed, cb_kwargs={"language": language})

    def parse_home(self, response: Response, language: str) -> Iterator[scrapy.Request]:
        raise NotImplementedError

    def home_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """Without a home page there is no navigation: fall back to the known paths."""
        language = failure.request.cb_kwargs["language"]
        self.crawler.stats.inc_value("newsbot/discovery/home_failed")
        # Quiet when the failure was said already (a block, an unreachable site): the crawl is closing.
        logger.log(min(logging.WARNING, failure_level(failure)), "Home page of the %s edition failed (%s); "
                   "using known paths", language, failure_reason(failure))
        yield from self.fallback_listings(language)

    def fallback_listings(self, language: str) -> Iterator[scrapy.Request]:
        return iter(())

    # --- listings ----------------------------------------------------------
    def listing_request(self, url: str, callback, language: str, page: int, *, meta: dict | None = None,
                        dont_filter: bool = False, priority: int = 0, **extra: Any) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.listing_failed, meta=meta,
                              dont_filter=dont_filter, priority=priority,
                              cb_kwargs={"language": language, "page": page, **extra})

    def listing_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value(stats_keys.LISTING_FAILED)
        logger.log(failure_level(failure), "Listing page failed: %s (%s)", failure.request.url, failure_reason(failure))

    def read_listing(self, response: Response, whole_page: bool = True,
                     known: Container[str] | None = None) -> tuple[site.CardReader | None, list]:
        """(the page's cards as read, requests to send first). The reader is None when the page
        cannot be read yet: it was cut short (fetched again) or its cards need a browser (rendered).
        known: url_keys of cards read before, which are only counted (site.CardReader)."""
        if whole_page:
            refetch = self.refetch_if_truncated(response)
            if refetch is not None:
                return None, list(refetch)
        reader = site.CardReader(response.url, known=known, key=url_key)
        document(response, read=reader)
        if self.should_render(response, reader.shown()):
            return None, [self.rendered(response.request)]
        self.crawler.stats.inc_value(stats_keys.LISTING_PAGES if reader.shown() else stats_keys.LISTING_EMPTY)
        return reader, []

    def should_render(self, response: Response, shown: int) -> bool:
        """A listing with no cards in its HTML is rendered by script: ask Chromium (mode auto)."""
        return (self.js_mode == "auto" and not shown and not response.meta.get("playwright")
                and site.has_card_container(response.selector))

    def rendered(self, request: scrapy.Request) -> scrapy.Request:
        from newsbot.rendering import scroll_methods

        methods = scroll_methods(self.config.js_scrolls)
        self.crawler.stats.inc_value("newsbot/listing/rendered")
        return request.replace(dont_filter=True, meta={**own_meta(request), "playwright": True,
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
        # As the cards give them: the store matches each by its url_key.
        stored = self.stored_versions([c.url for c in in_window])
        wanted = []
        for card in in_window:
            known = stored.get(card.url)
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
        if card.title and display_text(card.title) != known.title:
            return True
        moment = parse_timestamp(card.timestamp)
        return bool(moment and known.published_at and moment.isoformat() != known.published_at)

    def article_requests(self, cards: list[site.Card]) -> Iterator[scrapy.Request]:
        for url in self.new_article_urls(cards):
            yield self.request_article(url)

    def new_article_urls(self, cards: list[site.Card]) -> list[str]:
        """The cards' article links this run has not asked for yet, each now counted as asked for."""
        urls = []
        for card in cards:
            if not site.is_article_url(card.url):
                self.crawler.stats.inc_value("newsbot/cards/not_an_article_url")
            elif self.first_request_for(card.url):
                urls.append(card.url)
        return urls

    def first_request_for(self, url: str) -> bool:
        """Whether this run has not asked for the page yet under either spelling (now it has)."""
        if self.requested_keys.add(url_key(url)):
            return True
        self.crawler.stats.inc_value("newsbot/requests/same_article")
        return False

    def article_request(self, url: str, dont_filter: bool = False) -> scrapy.Request | None:
        """A request for an article link exactly as the page wrote it (whether the site redirects
        or 404s the other spelling of a path is its own business); None when this run already
        asked for the same page under either spelling."""
        return self.request_article(url, dont_filter) if self.first_request_for(url) else None

    def request_article(self, url: str, dont_filter: bool = False) -> scrapy.Request:
        return scrapy.Request(urldefrag(url)[0], callback=self.parse_article, errback=self.article_failed,
                              dont_filter=dont_filter)

    # --- articles ----------------------------------------------------------
    def refetch_if_truncated(self, response: Response) -> Iterator[scrapy.Request] | None:
        """Fetch a cut-short page again (Scrapy's retry limits apply); None when the page is whole."""
        if not site.looks_truncated(response.body):
            return None
        # A new request, not a copy of the downloaded one: Scrapy's download-time meta (retry_times,
        # download_latency, redirect_*) stays behind, and the refetch count goes under our own key
        # (still within RETRY_TIMES, together with the retries this request has had).
        request = response.request
        tries = request.meta.get(REFETCH_TIMES, 0) + request.meta.get("retry_times", 0)
        retry = get_retry_request(request.replace(meta={**own_meta(request), "retry_times": tries}),
                                  spider=self, reason="truncated_html")
        if retry is None:
            self.count_drop("empty" if not response.body.strip() else "truncated", response.url)
            return iter([])
        retry.meta[REFETCH_TIMES] = retry.meta.pop("retry_times")
        return iter([retry])

    def parse_article(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, scrapy.http.TextResponse):
            self.count_drop("not_html", response.url)
            return
        refetch = self.refetch_if_truncated(response)
        if refetch is not None:
            yield from refetch
            return
        extraction = extract_article(document(response), response.url)
        self.record_extraction(extraction, response.url)
        if extraction.item is not None:
            yield extraction.item

    def record_extraction(self, extraction: Extraction, url: str) -> None:
        stats = self.crawler.stats
        # One lookup of the method for the page's dozen counts: every attribute read on Scrapy
        # 2.19's StatsCollector goes through a __getattribute__ of its own.
        inc = stats.inc_value
        inc(stats_keys.ARTICLE_PAGES)
        # Which design generation read the page, which source gave each field, what furniture went:
        # a redesign shows here as a shift long before a field goes empty.
        inc(f"newsbot/markup/{extraction.markup}")
        for field, source in extraction.sources.items():
            if source:
                inc(f"newsbot/source/{field}/{source}")
        for rule, count in extraction.furniture.items():
            inc(f"newsbot/boilerplate/{rule}", count)
        self.crawler.signals.send_catch_log(signal=article_extracted, extraction=extraction, url=url,
                                            spider=self)
        if extraction.item is None:
            for reason in extraction.problems:
                self.count_drop(reason, url)
            return
        for problem in extraction.problems:
            stats.inc_value(f"newsbot/warnings/{problem}")
            if problem not in SUMMED_UP_AT_CLOSE:
                logger.warning("%s: %s", problem.replace("_", " "), url)

    def count_drop(self, reason: str, url: str, note: str = "") -> None:
        """An article page lost for `reason` (newsbot/dropped/<reason>), reported to the crawl's outcome."""
        self.crawler.stats.inc_value(stats_keys.dropped(reason))
        loss = reason if reason in OWN_LOSSES else "not_an_article"
        logger.warning("%s (%s): %s%s", "Not an article" if loss == "not_an_article" else "Article page lost",
                       reason.replace("_", " "), url, note)
        report_lost(self.crawler, loss, url)

    def article_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value(stats_keys.ARTICLE_FAILED)
        if failure.check(DownloadCancelledError):
            # Past DOWNLOAD_MAXSIZE: not an article page, and never worth fetching again.
            self.count_drop("too_large", failure.request.url)
            return
        logger.log(failure_level(failure), "Article page failed: %s (%s)", failure.request.url, failure_reason(failure))
        report_lost(self.crawler, "given_up", failure.request.url)

    def request_scheduled(self, request: scrapy.Request, spider) -> None:
        """An article link the site redirects to another host is dropped by Scrapy's OffsiteMiddleware
        without a word, and without request_dropped: count it lost, by the middleware's own rule."""
        previous = request.meta.get("redirect_urls")
        if (previous and request.callback == self.parse_article and not request.dont_filter
                and not request.meta.get("allow_offsite")
                and not self.on_allowed_host(request.url)):
            self.count_drop("off_site", previous[0], f" (redirected to {request.url})")

    def on_allowed_host(self, url: str) -> bool:
        """OffsiteMiddleware's rule: the host is one of allowed_domains, or a subdomain of one."""
        host = (urlsplit(url).hostname or "").lower()
        return any(host == domain or host.endswith("." + domain) for domain in self.allowed_domains)

    def request_dropped(self, request: scrapy.Request, spider) -> None:
        """A redirect back to a page already on its way (A -> B -> A) loses that article: count it."""
        previous = request.meta.get("redirect_urls", ())
        if request.callback == self.parse_article and url_key(request.url) in map(url_key, previous):
            self.count_drop("redirect_loop", previous[0])



# --- how a failure is logged ---------------------------------------------------

def failure_reason(failure: Failure) -> str:
    """What a failure line says: "HTTP 503 after 4 retries", "TimeoutError: ... after 2 retries"."""
    from scrapy.spidermiddlewares.httperror import HttpError

    request = getattr(failure, "request", None)
    retries = request.meta.get("retry_times", 0) if request is not None else 0
    after = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}{after}"
    message = str(failure.value)
    name = type(failure.value).__name__
    return (f"{name}: {message}" if message and name not in message else message or name) + after


def failure_level(failure: Failure) -> int:
    """ERROR for a page lost, but WARNING for a block answer (403, 429, challenge page): whether it is
    a block is the block detector's call (newsbot.middlewares), which says so in one ERROR line."""
    from scrapy.exceptions import IgnoreRequest
    from scrapy.spidermiddlewares.httperror import HttpError

    if failure.check(HttpError) and failure.value.response.status in site.BLOCK_STATUSES:
        return logging.WARNING
    if failure.check(IgnoreRequest) and not failure.check(HttpError):
        return logging.INFO if getattr(failure.value, "quiet", False) else logging.WARNING
    return logging.ERROR
