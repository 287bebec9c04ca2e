"""Downloader middlewares."""

from __future__ import annotations

import asyncio
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response, TextResponse
from scrapy.utils.response import response_status_message


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, but waiting before each retry.

    Scrapy retries at once, which hammers a struggling server; here each retry
    waits NEWSBOT_RETRY_BACKOFF * 2**(n-1) seconds, or what a 429's Retry-After
    asks, capped at NEWSBOT_RETRY_BACKOFF_MAX. The wait holds the request's
    download slot, which is the point: the crawl slows down with the server.
    """

    def __init__(self, settings):
        super().__init__(settings)
        self.backoff = settings.getfloat("NEWSBOT_RETRY_BACKOFF", 1.0)
        self.backoff_max = settings.getfloat("NEWSBOT_RETRY_BACKOFF_MAX", 60.0)

    async def _wait_then(self, retry: Request | None, request: Request, asked: float | None) -> Request | None:
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
        return await self._wait_then(retry, request, asked) or response

    async def process_exception(self, request: Request, exception: Exception, spider=None):
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        return await self._wait_then(self._retry(request, exception), request, None)


class Utf8RescueMiddleware:
    """Decode as UTF-8 a page whose headers claim a Latin charset but whose bytes are UTF-8.

    Scrapy (like browsers) lets the Content-Type header win over <meta charset>;
    a misconfigured server would then turn every ə, ş and Cyrillic letter into
    mojibake. Non-ASCII bytes that decode cleanly as UTF-8 are UTF-8 in practice.
    """

    _LATIN = frozenset({"cp1252", "latin-1", "latin1", "iso-8859-1", "iso8859-1", "windows-1252", "ascii"})

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if not isinstance(response, TextResponse) or response.encoding.lower() not in self._LATIN:
            return response
        body = response.body
        if body.isascii():
            return response
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return response
        self.stats.inc_value("newsbot/warnings/wrong_charset")
        return response.replace(encoding="utf-8")
