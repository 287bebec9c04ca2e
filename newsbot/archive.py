"""The raw-page archive (NEWSBOT_ARCHIVE): every article page as fetched, in gzipped WARC files.

WARC is the web archive standard (ISO 28500): any WARC tool (warcio, pywb, ReplayWeb.page, the
Internet Archive's) reads these files, and `scrapy reextract` (newsbot/commands/reextract.py) runs
today's extraction over them to repair the store after a markup fix, without the network.

One file per crawl, `<dir>/<spider>-<UTC time>-<pid>.warc.gz`: a `warcinfo` record, then one
`response` record per article page the spider parsed (listings and feeds are not archived), each
its own gzip member, written with one write() straight to the kernel. A crawl killed with SIGKILL
therefore loses at most the record being written, and the reader (read_archive) keeps every
whole member before a torn one.

A write the disk refuses follows the rules of the other outputs: one ERROR line naming the file,
`newsbot/output_errors/archive`, and the crawl closes as `output_unavailable` (the store still
gets the pages already on their way).
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsbot.appendfile import close_synced, write_whole
from newsbot.config import config
from newsbot.normalize import iso_utc
from newsbot.outcome import CrawlOutcome, report_broken

logger = logging.getLogger(__name__)

STAT_PREFIX = "newsbot/archive/"
ERROR_STAT = "newsbot/output_errors/archive"
CLOSE_REASON = "output_unavailable"
INSTALL_HINT = "pip install -e '.[archive]'"
# Extension fields (WARC allows any WARC-* field): the URL the spider asked for and the redirects
# that led to WARC-Target-URI, so a page reached through a 301 can be told from one linked directly.
REQUEST_URI = "WARC-Newsbot-Request-URI"
REDIRECTS = "WARC-Newsbot-Redirects"
# The item's crawled_at is stamped from the record's time (see ArchiveMiddleware.process_spider_output).
_STAMP = "_newsbot_archived_at"
# Scrapy has decompressed the body before any spider middleware sees it: headers that describe the
# transfer, not the body kept, would make a WARC reader decode it a second time.
_TRANSFER_HEADERS = frozenset({b"content-encoding", b"transfer-encoding", b"content-length"})
_CHUNK = 1 << 20


def _warcio() -> Any:
    """warcio, or ImportError with the one line that says how to get it."""
    try:
        import warcio  # noqa: F401
    except ImportError:
        raise ImportError(f"the WARC archive needs warcio: {INSTALL_HINT}") from None
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter
    return WARCWriter, StatusAndHeaders


def warc_date(moment: datetime) -> str:
    """WARC 1.1's date: UTC, microseconds (several pages are fetched in one second)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_warc_date(text: str) -> datetime | None:
    text = (text or "").strip()
    for pattern in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return None


# --- writing ---------------------------------------------------------------------------------


def response_record(response: Response, fetched_at: datetime, *, request_url: str = "",
                    redirects: Iterable[str] = ()) -> bytes:
    """One gzip member holding one WARC `response` record of the page as the spider got it."""
    WARCWriter, StatusAndHeaders = _warcio()
    body = response.body
    headers = [(name.decode("latin-1"), value.decode("latin-1"))
               for name, values in response.headers.items() if name.lower() not in _TRANSFER_HEADERS
               for value in values]
    headers.append(("Content-Length", str(len(body))))
    http_headers = StatusAndHeaders(f"{response.status} {_reason(response.status)}", headers, protocol="HTTP/1.1")
    extra = {"WARC-Date": warc_date(fetched_at)}
    if request_url and request_url != response.url:
        extra[REQUEST_URI] = request_url
    chain = " ".join(redirects)
    if chain:
        extra[REDIRECTS] = chain
    buffer = BytesIO()
    writer = WARCWriter(buffer, gzip=True, warc_version="1.1")
    record = writer.create_warc_record(response.url, "response", payload=BytesIO(body), length=len(body),
                                       http_headers=http_headers, warc_headers_dict=extra)
    writer.write_record(record)
    return buffer.getvalue()


def warcinfo_record(filename: str, info: dict[str, str]) -> bytes:
    WARCWriter, _ = _warcio()
    buffer = BytesIO()
    writer = WARCWriter(buffer, gzip=True, warc_version="1.1")
    writer.write_record(writer.create_warcinfo_record(filename, info))
    return buffer.getvalue()


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def archive_file_path(directory: str | Path, spider_name: str, moment: datetime | None = None,
                      pid: int | None = None) -> Path:
    """<dir>/<spider>-<UTC time>-<pid>.warc.gz: file names sort by start time, and two crawls never
    share one (the pid; ArchiveFile.open adds a counter for two crawls of one process in one second)."""
    moment = moment or datetime.now(timezone.utc)
    stamp = moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path(directory) / f"{spider_name}-{stamp}-{os.getpid() if pid is None else pid}.warc.gz"


class ArchiveFile:
    """One WARC file of a crawl, appended a whole gzip member at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.records = 0
        self.bytes = 0

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
        self._write(warcinfo_record(self.path.name, info))

    def append(self, record: bytes) -> None:
        self._write(record)
        self.records += 1
        self.bytes += len(record)

    def _write(self, data: bytes) -> None:
        """One write() of the whole gzip member (newsbot.appendfile): never half a record it can avoid."""
        assert self.fd is not None
        write_whole(self.fd, data, os.fstat(self.fd).st_size, self.path)

    def close(self) -> OSError | None:
        """fsync and close; the error if the kernel could not write back what it had taken."""
        if self.fd is None:
            return None
        fd, self.fd = self.fd, None
        return close_synced(fd)


class ArchiveMiddleware:
    """A spider middleware: archives every response whose callback is the spider's parse_article.

    A spider middleware rather than a downloader one: it sees the page after redirects, retries and
    the charset rescue, exactly as parse_article does, and only the pages that reach it; and it can
    give the item of a page the record's time as crawled_at (below).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.template = config(crawler).archive
        if not self.template:
            # No message: Scrapy would log it as a warning on every crawl without an archive.
            raise NotConfigured()
        self.crawler = crawler
        self.stats = crawler.stats
        self.file: ArchiveFile | None = None
        self.failed = False  # said once: later pages are only counted
        try:
            _warcio()
            self.missing: str | None = None
        except ImportError as exc:
            self.missing = str(exc)
        crawler.signals.connect(self.spider_opened, signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveMiddleware:
        CrawlOutcome.from_crawler(crawler)  # what it reports closes the crawl, whatever EXTENSIONS says
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        from newsbot.pipelines.jsonlines import jsonl_path  # the same %(name)s / %(time)s placeholders

        if self.missing:
            self._broken("Cannot archive pages (NEWSBOT_ARCHIVE=%s): %s", self.template, self.missing)
            return
        try:
            directory = jsonl_path(self.template, spider)
        except ValueError as exc:
            self._broken("Cannot archive pages: %s", str(exc).replace("NEWSBOT_JSONL", "NEWSBOT_ARCHIVE"))
            return
        archive = ArchiveFile(archive_file_path(directory, spider.name))
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
        report_broken(self.crawler, CLOSE_REASON)

    def _is_article(self, response: Response, spider: Any) -> bool:
        request = response.request
        parse_article = getattr(spider, "parse_article", None)
        return request is not None and parse_article is not None and request.callback == parse_article

    def process_spider_input(self, response: Response, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        if not self._is_article(response, spider):
            return
        if self.file is None or self.failed:
            self.stats.inc_value(STAT_PREFIX + "unsaved")
            return
        fetched_at = datetime.now(timezone.utc)
        meta = response.request.meta
        redirects = list(meta.get("redirect_urls", ()))
        try:
            record = response_record(response, fetched_at, request_url=redirects[0] if redirects else "",
                                     redirects=redirects)
            self.file.append(record)
        except OSError as exc:
            self.stats.inc_value(STAT_PREFIX + "unsaved")
            self._broken("Cannot write to the archive %s, stopping the crawl: %s", self.file.path, _strerror(exc))
            return
        self.stats.inc_value(STAT_PREFIX + "records")
        self.stats.inc_value(STAT_PREFIX + "bytes", len(record))
        # The item of this page says it was crawled when the record says it was fetched (to the second,
        # as crawled_at is written). Its parse comes a moment later, possibly in the next second; then the
        # record would look older than the stored article it produced, and `scrapy reextract` would take
        # the store's version for a later crawl's and leave it alone as stale.
        meta[_STAMP] = iso_utc(fetched_at)

    def process_spider_output(self, response: Response, result: Iterable[Any], spider: Any = None) -> Iterator[Any]:
        stamp = response.meta.get(_STAMP) if response.request is not None else None
        for output in result:
            yield _stamped(output, stamp)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        stamp = response.meta.get(_STAMP) if response.request is not None else None
        async for output in result:
            yield _stamped(output, stamp)

    def spider_closed(self, spider: Any) -> None:
        if self.file is None:
            return
        error = self.file.close()
        if error is not None and not self.failed:
            self.stats.inc_value(ERROR_STAT)
            logger.error("Could not sync the archive %s: %s", self.file.path, _strerror(error))
        logger.info("Archived %d article pages (%d bytes) to %s", self.file.records, self.file.bytes, self.file.path)


def _stamped(output: Any, stamp: str | None) -> Any:
    if stamp and not isinstance(output, (dict,)) and hasattr(output, "fields") and "crawled_at" in output.fields:
        output["crawled_at"] = stamp
    elif stamp and isinstance(output, dict) and "crawled_at" in output:
        output["crawled_at"] = stamp
    return output


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc)


# --- reading ---------------------------------------------------------------------------------


@dataclass
class ArchivedPage:
    """One `response` record: the page as the crawl got it."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    request_url: str
    path: Path
    offset: int  # of its gzip member in the file


@dataclass
class ArchiveReading:
    """What reading an archive met besides pages."""

    records: int = 0          # response records read whole
    other_records: int = 0    # warcinfo, request, metadata, ... (not pages)
    torn: list[str] = field(default_factory=list)  # "<file> at byte N" per member cut short at the end of its file
    # "<file> at byte N (after K records of it)" per member whose bytes are corrupt: not what a killed
    # crawl leaves (that is a cut, above), so something damaged the file
    corrupt: list[str] = field(default_factory=list)


class NotWarc(ValueError):
    """A file whose first gzip member is no WARC record: not an archive at all."""


def archive_files(paths: Iterable[str | Path]) -> list[Path]:
    """The WARC files of `paths` (files as given, directories' *.warc.gz), oldest first: the file
    names hold the crawl's start time. FileNotFoundError for a path that is not there."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(sorted((p for p in path.iterdir() if p.name.endswith(".warc.gz") and p.is_file()),
                                key=_file_order))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(str(path))
    return list(dict.fromkeys(found))


_STAMP_PART = re.compile(r"-(\d{8}T\d{6}Z)-")


def _file_order(path: Path) -> tuple[str, float, str]:
    # <spider>-<time>-<pid>: the time, not the spider's name, orders crawls; other names by mtime.
    found = _STAMP_PART.search(path.name)
    return (found[1] if found else ""), path.stat().st_mtime, path.name


def _members(path: Path, reading: ArchiveReading) -> Iterator[tuple[int, bytes]]:
    """(offset, decompressed bytes) of each whole gzip member, streamed. zlib checks each member's
    CRC and length, so a member cut by a kill (reading.torn) or corrupt (zlib.error) is found; it
    ends the file, as nothing after it can be found again reliably."""
    with path.open("rb") as handle:
        buffer, offset = b"", 0  # offset: where buffer[0] is in the file
        while True:
            if not buffer:
                buffer = handle.read(_CHUNK)
                if not buffer:
                    return
            start, inflater, out = offset, zlib.decompressobj(wbits=31), []
            try:
                while True:
                    out.append(inflater.decompress(buffer))
                    if inflater.eof:
                        rest = inflater.unused_data
                        offset += len(buffer) - len(rest)
                        buffer = rest
                        break
                    offset += len(buffer)
                    buffer = handle.read(_CHUNK)
                    if not buffer:
                        reading.torn.append(f"{path} at byte {start}")
                        return
            except zlib.error as exc:
                raise _Corrupt(start, str(exc)) from None
            yield start, b"".join(out)


class _Corrupt(Exception):
    def __init__(self, offset: int, why: str) -> None:
        super().__init__(why)
        self.offset = offset


def read_archive(paths: Iterable[Path], reading: ArchiveReading | None = None) -> Iterator[ArchivedPage]:
    """Every whole `response` record of the gzipped WARC files, in file order; torn members and
    corrupt ones are skipped and recorded in `reading`. NotWarc for a file that is no WARC at all."""
    _warcio()
    reading = reading if reading is not None else ArchiveReading()
    for path in paths:
        before = reading.records
        try:
            yield from _records(path, reading)
        except _Corrupt as exc:
            if exc.offset == 0:
                raise NotWarc(f"{path} is not a gzipped WARC file ({exc})") from None
            reading.corrupt.append(f"{path} at byte {exc.offset} (after {reading.records - before} records of it)")


def _records(path: Path, reading: ArchiveReading) -> Iterator[ArchivedPage]:
    from warcio.archiveiterator import ArchiveIterator

    for offset, data in _members(path, reading):
        try:
            # The member is already inflated: warcio reads it as a plain WARC stream.
            for record in ArchiveIterator(BytesIO(data), ensure_http_headers=False):
                page = _page(record, path, offset)
                if page is None:
                    reading.other_records += 1
                else:
                    reading.records += 1
                    yield page
        except Exception as exc:  # warcio raises its own errors and ValueErrors for a mangled record
            raise _Corrupt(offset, f"no WARC record: {exc}") from None


def _page(record: Any, path: Path, offset: int) -> ArchivedPage | None:
    if record.rec_type != "response" or record.http_headers is None:
        return None
    headers = record.rec_headers
    # raw_stream: the block as written (content_stream would undo a Content-Encoding we never kept).
    body = record.raw_stream.read()
    fetched_at = parse_warc_date(headers.get_header("WARC-Date"))
    if fetched_at is None:
        raise ValueError(f"no WARC-Date: {headers.get_header('WARC-Date')!r}")
    url = headers.get_header("WARC-Target-URI") or ""
    return ArchivedPage(url=url, status=int(record.http_headers.get_statuscode() or 0),
                        headers=list(record.http_headers.headers), body=body, fetched_at=fetched_at,
                        request_url=headers.get_header(REQUEST_URI) or url, path=path, offset=offset)
