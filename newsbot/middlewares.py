"""Downloader middlewares."""

from __future__ import annotations

import asyncio
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.utils.response import response_status_message

from newsbot import site
from newsbot.config import Config, config
from newsbot.html import with_charset
from newsbot.outcome import report_broken


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, waiting NEWSBOT_RETRY_BACKOFF * 2**(n-1) seconds before retry n (or
    what a 429's Retry-After asks), at most NEWSBOT_RETRY_BACKOFF_MAX: Scrapy retries at once, which
    hammers a struggling server. The wait holds the download slot, so the crawl slows down with it."""

    def __init__(self, settings):
        super().__init__(settings)
        config = Config.from_settings(settings)
        self.backoff = config.retry_backoff
        self.backoff_max = config.retry_backoff_max

    async def _wait_then(self, retry: Request | None, asked: float | None) -> Request | None:
        if retry is None:
            return None
        attempt = retry.meta.get("retry_times", 1)
        delay = min(self.backoff_max, asked if asked is not None else self.backoff * 2 ** (attempt - 1))
        if delay > 0:
            self.crawler.stats.inc_value("newsbot/retry/wait_seconds", delay)
            await asyncio.sleep(delay)
        return retry

    async def process_response(self, request: Request, response: Response, spider=None) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        asked = retry_after_seconds(response.headers.get("Retry-After")) if response.status in (429, 503) else None
        if asked is not None:
            self.crawler.stats.inc_value("newsbot/retry/retry_after_honoured")
        retry = self._retry(request, response_status_message(response.status))
        return await self._wait_then(retry, asked) or response

    async def process_exception(self, request: Request, exception: Exception, spider=None):
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        return await self._wait_then(self._retry(request, exception), None)


class Blocked(IgnoreRequest):
    """A block answer that goes no further: a challenge page, or any block answer once the crawl is
    closing as blocked. `quiet`: the block was said already; the spider logs the page at INFO."""

    def __init__(self, message: str, quiet: bool = False):
        super().__init__(message)
        self.quiet = quiet


class BlockDetectorMiddleware:
    """Closes the crawl as `blocked` after NEWSBOT_BLOCK_AFTER block answers in a row (a 403 or 429,
    or a WAF's challenge page: newsbot.site), with one ERROR line. It sees every response before the
    retry middleware does, so a lone 429 still goes on to honour its Retry-After."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.block_after = config(crawler).block_after
        self.run = 0         # block answers in a row
        self.first_url = ""  # where the run began
        self.blocked = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if response.status in site.BLOCK_STATUSES:
            kind = str(response.status)
        elif isinstance(response, TextResponse) and site.is_challenge(response.body):
            kind = "challenge"
        else:
            self.run = 0
            return response
        self.crawler.stats.inc_value(f"newsbot/blocked/{kind}")
        what = f"HTTP {response.status}" + (" challenge page" if kind == "challenge" else "")
        if self.blocked:
            raise Blocked(f"{what}; the crawl is closing as blocked", quiet=True)
        self.run += 1
        if self.run == 1:
            self.first_url = response.url
        if self.block_after > 0 and self.run >= self.block_after:
            self.blocked = True
            report_broken(self.crawler, "blocked", "%s on %s; %d block answers (403, 429 or challenge "
                          "pages) in a row since %s", what, response.url, self.run, self.first_url)
            raise Blocked(f"{what}; the crawl is closing as blocked", quiet=True)
        if kind == "challenge":
            raise Blocked(f"{what} (not a page of the site)")
        return response


class UnreachableSiteMiddleware:
    """Closes the crawl as `site_unreachable` when a DNS failure or a refused connection comes before
    the site ever answered: retrying only delays the news. Once it has answered, such errors are a
    page's trouble, left to the retries."""

    UNREACHABLE = (CannotResolveHostError, DownloadConnectionRefusedError)

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.answered = False

    @classmethod
    def from_crawler(cls, crawler) -> UnreachableSiteMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        self.answered = True
        return response

    def process_exception(self, request: Request, exception: Exception, spider=None) -> None:
        if self.answered or not isinstance(exception, self.UNREACHABLE):
            return None
        # Said once: report_broken says nothing once the crawl is closing.
        reason = (str(exception).strip() or type(exception).__name__).splitlines()[0].rstrip(".")
        report_broken(self.crawler, "site_unreachable", "cannot reach %s (%s): no network, or the site is down. "
                      "Offline, crawl the replica: .venv/bin/python -m tests.replica --port 8000 & then add "
                      "-s NEWSBOT_BASE_URL=http://127.0.0.1:8000", urlsplit(request.url).hostname, reason)
        raise Blocked(f"{request.url} not fetched: the site cannot be reached", quiet=True)


class CharsetMiddleware:
    """Reads every page in the charset its bytes prove (newsbot.html.decide_charset): report.az's
    charset labels are unreliable, and Scrapy trusts the Content-Type header (REPORT_AZ.md)."""

    def __init__(self, stats) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if not isinstance(response, TextResponse):
            return response
        response, decision, lied = with_charset(response)
        self.stats.inc_value(f"newsbot/charset/{decision}")
        if lied:
            self.stats.inc_value("newsbot/warnings/wrong_charset")
        return response


class QuickMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware, which decodes every HTML body to search its first 4,096
    characters, at a cost bench/RESULTS.md shows. Those are at most 16,384 bytes of UTF-8, so a UTF-8
    page without b"refresh" in them has no meta refresh; other charsets go to Scrapy's check."""

    def process_response(self, request: Request, response: Response, spider=None) -> Request | Response:
        if (isinstance(response, TextResponse) and response.encoding in ("utf-8", "utf8", "UTF-8")
                and b"refresh" not in response.body[:16384].lower()):
            return response
        return super().process_response(request, response)
