"""Reading the raw-page archive: every whole `response` record of gzipped WARC files, past a
member torn by a kill, with what else the reading met (the format: newsbot.archive)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path

from newsbot.archive import require_warcio

_CHUNK = 1 << 20


@dataclass
class ArchivedPage:
    """One `response` record: the page as the crawl got it."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
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
    """(the offset of the corrupt member, why)"""


def read_archive(paths: Iterable[Path], reading: ArchiveReading | None = None) -> Iterator[ArchivedPage]:
    """Every whole `response` record of the gzipped WARC files, in file order; torn members and
    corrupt ones are skipped and recorded in `reading`. NotWarc for a file that is no WARC at all."""
    require_warcio()
    reading = reading if reading is not None else ArchiveReading()
    for path in paths:
        before = reading.records
        try:
            yield from _records(path, reading)
        except _Corrupt as exc:
            offset, why = exc.args
            if offset == 0:
                raise NotWarc(f"{path} is not a gzipped WARC file ({why})") from None
            reading.corrupt.append(f"{path} at byte {offset} (after {reading.records - before} records of it)")


def _records(path: Path, reading: ArchiveReading) -> Iterator[ArchivedPage]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.timeutils import iso_date_to_datetime

    for offset, data in _members(path, reading):
        try:
            # The member is already inflated: warcio reads it as a plain WARC stream.
            for record in ArchiveIterator(BytesIO(data), ensure_http_headers=False):
                if record.rec_type != "response" or record.http_headers is None:
                    reading.other_records += 1
                    continue
                headers = record.rec_headers
                # raw_stream: the block as written (content_stream would undo a Content-Encoding not kept).
                body = record.raw_stream.read()
                date = headers.get_header("WARC-Date")
                try:
                    fetched_at = iso_date_to_datetime(date.strip(), tz_aware=True)
                except (AttributeError, TypeError, ValueError):
                    raise ValueError(f"no WARC-Date: {date!r}") from None
                page = ArchivedPage(url=headers.get_header("WARC-Target-URI") or "",
                                    status=int(record.http_headers.get_statuscode() or 0),
                                    headers=list(record.http_headers.headers), body=body,
                                    fetched_at=fetched_at, offset=offset)
                reading.records += 1
                yield page
        except Exception as exc:  # warcio raises its own errors and ValueErrors for a mangled record
            raise _Corrupt(offset, f"no WARC record: {exc}") from None
