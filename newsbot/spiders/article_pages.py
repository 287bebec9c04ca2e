"""Article pages, as every spider requests and reads them: each page once per run whatever its
spelling, a cut-short page fetched again, and every page lost reported to the crawl's outcome."""

from __future__ import annotations

import logging
from typing import Any, Iterator
from urllib.parse import urldefrag, urlsplit

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from newsbot import site
from newsbot import stats as stats_keys
from newsbot.listing import Card
from newsbot.loaders import CUT_SHORT, Extraction, article_extracted, read_article
from newsbot.normalize import url_key
from newsbot.outcome import report_lost

logger = logging.getLogger(__name__)

# Problems that come in whole categories of pages: crawl health says them once, at close, with
# counts (newsbot.extensions.CrawlHealth), rather than one line a page.
SUMMED_UP_AT_CLOSE = frozenset({"unknown_category"})

# Causes of a dropped page that are losses of their own (newsbot.stats.LOSS_REASONS); every other
# cause is an extraction's (missing_body, not_html...): there is no article in the page.
OWN_LOSSES = frozenset({"truncated", "empty", "too_large", "off_site", "redirect_loop"})

# Meta keys Scrapy's components set on a request as it is downloaded (retries, redirects, timing,
# the cache): a request built again from a response's request leaves them behind (Scrapy's
# MetaCopyDetectionMiddleware warns about each of them).
INTERNAL_META = frozenset({"_auth_proxy", "_dont_cache", "_scheme_proxy", "cache_timestamp", "download_latency",
                           "redirect_reasons", "redirect_times", "redirect_ttl", "redirect_urls", "retry_times"})
# The truncated-page refetches of a request so far (Scrapy's retry_times, under a key of our own).
REFETCH_TIMES = "newsbot_refetch_times"


def own_meta(request: scrapy.Request) -> dict[str, Any]:
    return {k: v for k, v in request.meta.items() if k not in INTERNAL_META}


class ArticlePages:
    """The article side of NewsbotSpider (a mixin of it)."""

    def new_article_urls(self, cards: list[Card]) -> list[str]:
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

    def article_request(self, url: str, dont_filter: bool = False) -> scrapy.Request:
        return scrapy.Request(urldefrag(url)[0], callback=self.parse_article, errback=self.article_failed,
                              dont_filter=dont_filter)

    def refetch_if_truncated(self, response: Response) -> list[scrapy.Request] | None:
        """Fetch a cut-short page again (Scrapy's retry limits apply); None when the page is whole."""
        if not site.looks_truncated(response.body):
            return None
        # Without the download-time meta (INTERNAL_META), the refetches counted under a key of our
        # own, within RETRY_TIMES together with the retries this request has had.
        request = response.request
        tries = request.meta.get(REFETCH_TIMES, 0) + request.meta.get("retry_times", 0)
        retry = get_retry_request(request.replace(meta={**own_meta(request), "retry_times": tries}),
                                  spider=self, reason="truncated_html")
        if retry is None:
            self.count_drop("empty" if not response.body.strip() else "truncated", response.url)
            return []
        retry.meta[REFETCH_TIMES] = retry.meta.pop("retry_times")
        return [retry]

    def parse_article(self, response: Response) -> Iterator[Any]:
        extraction = read_article(response)
        if extraction.item is None and extraction.problems[:1] and extraction.problems[0] in CUT_SHORT:
            yield from self.refetch_if_truncated(response) or ()
        elif extraction.problems == ["not_html"]:
            self.count_drop("not_html", response.url)
        else:
            self.record_extraction(extraction, response.url)
            if extraction.item is not None:
                yield extraction.item
        yield from self.pacing.resume()

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

    def article_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        self.crawler.stats.inc_value(stats_keys.ARTICLE_FAILED)
        if failure.check(DownloadCancelledError):
            # Past DOWNLOAD_MAXSIZE: not an article page, and never worth fetching again.
            self.count_drop("too_large", failure.request.url)
        else:
            logger.log(failure_level(failure), "Article page failed: %s (%s)", failure.request.url,
                       failure_reason(failure))
            report_lost(self.crawler, "given_up", failure.request.url)
        yield from self.pacing.resume()

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


def failure_reason(failure: Failure) -> str:
    """What a failure line says: "HTTP 503 after 4 retries", "TimeoutError: ... after 2 retries"."""
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
    if failure.check(HttpError) and failure.value.response.status in site.BLOCK_STATUSES:
        return logging.WARNING
    if failure.check(IgnoreRequest) and not failure.check(HttpError):
        return logging.INFO if getattr(failure.value, "quiet", False) else logging.WARNING
    return logging.ERROR
