"""Writing the raw-page archive: ArchiveMiddleware appends one WARC `response` record per article
page to the crawl's file (the format and the guarantees: newsbot.archive)."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from http.client import responses
from io import BytesIO
from pathlib import Path
from typing import Any, Callable

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsbot.appendfile import close_synced, write_whole
from newsbot.archive import require_warcio
from newsbot.config import config
from newsbot.normalize import iso_utc
from newsbot.outcome import CrawlOutcome, is_article_page, report_broken

logger = logging.getLogger(__name__)

STAT_PREFIX = "newsbot/archive/"
ERROR_STAT = "newsbot/output_errors/archive"
_STAMP = "_newsbot_archived_at"
# Extension fields: a page reached through a redirect is told from one linked directly (docs/archive.md).
REQUEST_URI, REDIRECTS = "WARC-Newsbot-Request-URI", "WARC-Newsbot-Redirects"
# Scrapy has decompressed the body before any spider middleware sees it: headers that describe the
# transfer, not the body kept, would make a WARC reader decode it a second time.
_TRANSFER_HEADERS = frozenset({b"content-encoding", b"transfer-encoding", b"content-length"})


def _member(build: Callable[[Any], Any]) -> bytes:
    """One gzip member holding the one WARC 1.1 record that `build` makes with the writer it is given."""
    from warcio.warcwriter import WARCWriter

    buffer = BytesIO()
    writer = WARCWriter(buffer, gzip=True, warc_version="1.1")
    writer.write_record(build(writer))
    return buffer.getvalue()


def response_record(response: Response, fetched_at: datetime, redirects: list[str]) -> bytes:
    """One gzip member holding one WARC `response` record of the page as the spider got it, after
    `redirects` (the URLs that led to it, the one requested first)."""
    from warcio.statusandheaders import StatusAndHeaders

    body = response.body
    headers = [(name.decode("latin-1"), value.decode("latin-1"))
               for name, values in response.headers.items() if name.lower() not in _TRANSFER_HEADERS
               for value in values]
    headers.append(("Content-Length", str(len(body))))
    status_line = f"{response.status} {responses.get(response.status, 'Unknown')}"
    http_headers = StatusAndHeaders(status_line, headers, protocol="HTTP/1.1")
    # WARC 1.1's date in UTC, to the microsecond: several pages are fetched in one second.
    extra = {"WARC-Date": fetched_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    if redirects and redirects[0] != response.url:
        extra[REQUEST_URI] = redirects[0]
    if redirects:
        extra[REDIRECTS] = " ".join(redirects)
    return _member(lambda writer: writer.create_warc_record(
        response.url, "response", payload=BytesIO(body), length=len(body), http_headers=http_headers,
        warc_headers_dict=extra))


class ArchiveFile:
    """One WARC file of a crawl, named so that names sort by start time and two crawls never share one
    (docs/archive.md, Layout); appended a whole gzip member at a time (newsbot.appendfile)."""

    def __init__(self, directory: str | Path, spider_name: str) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.path = Path(directory) / f"{spider_name}-{stamp}-{os.getpid()}.warc.gz"
        self.fd: int | None = None

    def open(self, info: dict[str, str]) -> None:
        """Create the file (never continue another crawl's) and write its warcinfo (OSError if it cannot)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        base, counter = self.path, 1
        while True:
            try:
                self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
                break
            except FileExistsError:
                counter += 1
                self.path = base.with_name(base.name.replace(".warc.gz", f"-{counter}.warc.gz"))
        warcinfo = _member(lambda writer: writer.create_warcinfo_record(self.path.name, info))
        write_whole(self.fd, warcinfo, 0, self.path)  # a new file: empty before

    def append(self, record: bytes) -> None:
        assert self.fd is not None
        write_whole(self.fd, record, os.fstat(self.fd).st_size, self.path)

    def close(self) -> OSError | None:
        if self.fd is None:
            return None
        fd, self.fd = self.fd, None
        return close_synced(fd)


class ArchiveMiddleware:
    """Archives every response whose callback is parse_article: a spider middleware, so it sees the page
    as parse_article does (after redirects, retries, the charset rescue) and can stamp its item."""

    def __init__(self, crawler: Crawler) -> None:
        self.template = config(crawler).archive
        if not self.template:
            # No message: Scrapy would log it as a warning on every crawl without an archive.
            raise NotConfigured()
        self.crawler = crawler
        self.stats = crawler.stats
        self.file: ArchiveFile | None = None
        self.failed = False  # said once: later pages are only counted
        crawler.signals.connect(self.spider_opened, signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveMiddleware:
        CrawlOutcome.from_crawler(crawler)  # what it reports closes the crawl, whatever EXTENSIONS says
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        from newsbot.pipelines.jsonlines import jsonl_path  # the same %(name)s / %(time)s placeholders

        try:
            require_warcio()
        except ImportError as exc:
            self._broken("Cannot archive pages (NEWSBOT_ARCHIVE=%s): %s", self.template, exc)
            return
        try:
            directory = jsonl_path(self.template, spider)
        except ValueError as exc:
            self._broken("Cannot archive pages: %s", str(exc).replace("NEWSBOT_JSONL", "NEWSBOT_ARCHIVE"))
            return
        archive = ArchiveFile(directory, spider.name)
        try:
            archive.open({"software": "newsbot (Scrapy)", "format": "WARC File Format 1.1",
                          "isPartOf": spider.name, "job": str(getattr(spider, "_job", "") or ""),
                          "pid": str(os.getpid())})
        except OSError as exc:
            archive.close()
            self._broken("Cannot open the archive %s, stopping the crawl: %s", archive.path, _strerror(exc))
            return
        self.file = archive
        logger.info("Archiving article pages to %s", archive.path)

    def _broken(self, message: str, *args: Any) -> None:
        self.failed = True
        self.stats.inc_value(ERROR_STAT)
        logger.error(message, *args)
        report_broken(self.crawler, "output_unavailable")

    def process_spider_input(self, response: Response, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        if not is_article_page(response, spider):
            return
        if self.file is None or self.failed:
            self.stats.inc_value(STAT_PREFIX + "unsaved")
            return
        fetched_at = datetime.now(timezone.utc)
        meta = response.request.meta
        redirects = list(meta.get("redirect_urls", ()))
        try:
            record = response_record(response, fetched_at, redirects)
            self.file.append(record)
        except OSError as exc:
            self.stats.inc_value(STAT_PREFIX + "unsaved")
            self._broken("Cannot write to the archive %s, stopping the crawl: %s", self.file.path, _strerror(exc))
            return
        self.stats.inc_value(STAT_PREFIX + "records")
        self.stats.inc_value(STAT_PREFIX + "bytes", len(record))
        # The item's crawled_at is the record's time: stamped at its parse, a second later, the record would
        # look older than the article it produced, and `scrapy reextract` would leave that one as stale.
        meta[_STAMP] = iso_utc(fetched_at)

    # Async only: Scrapy upgrades a plain callback's output and calls no sync twin of this method.
    async def process_spider_output(self, response: Response, result: AsyncIterator[Any],
                                    spider: Any = None) -> AsyncIterator[Any]:
        stamp = response.meta.get(_STAMP) if response.request is not None else None
        async for output in result:
            if stamp and ItemAdapter.is_item(output) and "crawled_at" in ItemAdapter(output).field_names():
                ItemAdapter(output)["crawled_at"] = stamp
            yield output

    def spider_closed(self, spider: Any) -> None:
        if self.file is None:
            return
        error = self.file.close()
        if error is not None and not self.failed:
            self.stats.inc_value(ERROR_STAT)
            logger.error("Could not sync the archive %s: %s", self.file.path, _strerror(error))
        stats = self.stats.get_stats()
        logger.info("Archived %d article pages (%d bytes) to %s", stats.get(STAT_PREFIX + "records", 0),
                    stats.get(STAT_PREFIX + "bytes", 0), self.file.path)


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc)
