"""The JSON Lines log of every article a crawl keeps (NEWSBOT_JSONL): with a store, the store's journal
(docs/schema.md, "Pipelines and settings"); without one, JsonLinesPipeline appends every item."""

from __future__ import annotations

import json
import logging
import mmap
import os
import re
import stat
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.extensions.feedexport import apply_uri_params
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from newsbot.appendfile import close_synced, write_whole
from newsbot.config import config
from newsbot.items import ArticleItem
from newsbot.outcome import CrawlOutcome, report_broken
from newsbot.store import as_mapping

logger = logging.getLogger(__name__)

CLOSE_REASON = "output_unavailable"


def jsonl_path(template: str, spider: Any) -> Path:
    """The file for a run: %(time)s and spider attributes such as %(name)s or Scrapyd's %(_job)s,
    as in FEEDS URIs (only the attributes the template names are read)."""
    params = {}
    for name in set(re.findall(r"%\((\w+)\)s", template)):
        if name == "time":
            params[name] = datetime.now(tz=timezone.utc).replace(microsecond=0).isoformat().replace(":", "-")
        elif hasattr(spider, name):
            params[name] = getattr(spider, name)
        else:
            raise ValueError(f"NEWSBOT_JSONL names %({name})s, but the spider has no attribute {name!r}")
    return Path(apply_uri_params(template, params))


def record_of(item: Any) -> dict[str, Any]:
    """The item as one JSON object: ArticleItem's fields in their order, then any others."""
    values = as_mapping(item)
    return {**{field: values[field] for field in ArticleItem.fields if field in values}, **values}


class JsonLinesFile:
    """One JSON Lines file, appended a batch of records at a time (the store's Journal). Appends and
    rollbacks may come from the store's writer thread; a lock keeps them whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.key = str(path.absolute())
        self.fd: int | None = None
        self._uncommitted: int | None = None  # the size before appends whose transaction has not committed
        self._end = 0  # where our last append ended
        self._lock = threading.Lock()
        # The first write the disk refused: later appends are refused with it, not tried, so the
        # file never continues past a gap (the store records what it missed, for the next run).
        self.refused: OSError | None = None

    def open(self) -> None:
        """Create or continue the file (OSError when it cannot be)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Only a write interrupted mid-line leaves anything after the last newline.
        if self.path.exists():
            with self.path.open("rb+") as handle:
                size = handle.seek(0, os.SEEK_END)
                if size:  # not empty, nor a device (/dev/full), which has nothing to map
                    with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                        end = data.rfind(b"\n") + 1
                    if end < size:
                        handle.truncate(end)
                        logger.warning("%s ended in a partial line (%d bytes) from an interrupted crawl; "
                                       "removed it", self.path, size - end)
        # O_APPEND: every write lands at the end, even with another writer on the same file.
        # Readable too: a trim counts the lines it cuts.
        self.fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def append(self, records: list[dict[str, Any]]) -> int:
        data = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode("utf-8")
        with self._lock:
            if self.refused is not None:  # a new exception each time: re-raising one would grow its traceback
                raise OSError(self.refused.errno, self.refused.strerror, str(self.path))
            before = self.size()
            if self._uncommitted is None:
                self._uncommitted = before
            try:
                write_whole(self.fd, data, before, self.path)
            except OSError as exc:
                self.refused = exc
                raise
            self._end = before + len(data)
            return self._end

    def committed(self) -> None:
        with self._lock:
            self._uncommitted = None

    def rollback(self) -> None:
        with self._lock:
            if self._uncommitted is not None:
                # Only while our lines are still the last: another process may have appended since
                # (its own transaction, after ours let the lock go); the next crawl's trim then decides.
                if self.size() == self._end:
                    os.ftruncate(self.fd, self._uncommitted)
                self._uncommitted = None

    def trim(self, committed: int | None) -> int:
        with self._lock:
            size = self.size()
            if committed is None or committed >= size:
                return 0
            lines = os.pread(self.fd, size - committed, committed).count(b"\n")
            os.ftruncate(self.fd, committed)
            logger.warning("%s: cut %d lines (%d bytes) written by a transaction that never committed "
                           "(a crawl killed between writing them and storing the articles, which a resumed "
                           "crawl fetches again)", self.path, lines, size - committed)
            return lines

    def versions(self) -> Iterator[tuple[int, str | None, str | None]]:
        if not stat.S_ISREG(os.fstat(self.fd).st_mode):  # a pipe, /dev/full...: nothing to read back
            return
        with open(self.path, "rb") as lines:
            for number, line in enumerate(lines):
                try:
                    record = json.loads(line)
                    yield number, record.get("article_id"), record.get("content_hash")
                except (ValueError, AttributeError):  # no JSON object: no record of any version
                    yield number, None, None

    def drop_lines(self, lines: set[int]) -> None:
        """Rewritten in place, not replaced: another crawl may hold the file open to append to it
        (after the store's write lock, which the caller holds). A crash midway leaves copies of
        lines and at most one broken line at the seam, which the next check cuts as well."""
        with self._lock, open(self.path, "rb") as reading, open(self.path, "r+b") as writing:
            for number, line in enumerate(reading):
                if number not in lines:
                    writing.write(line)
            writing.flush()
            os.fsync(writing.fileno())
            os.ftruncate(self.fd, writing.tell())
        logger.warning("%s: cut %d lines mid-file that no committed transaction wrote (left by a crawl killed "
                       "between writing and storing them, before newsbot serialised its writers)",
                       self.path, len(lines))

    def close(self) -> OSError | None:
        if self.fd is None:
            return None
        fd, self.fd = self.fd, None
        return close_synced(fd)


class JsonLinesPipeline:
    """Without a store: appends each item as one UTF-8 JSON object (ArticleItem field order) to
    NEWSBOT_JSONL. With one, the SQLite pipeline writes the file as the store's journal."""

    def __init__(self, crawler: Crawler) -> None:
        self.template = config(crawler).jsonl
        from newsbot.pipelines.store import StorePipeline
        enabled = map(load_object, build_component_list(crawler.settings.getwithbase("ITEM_PIPELINES")))
        # Off by default, or written by the SQLite pipeline (a store configured, its pipeline on) as the
        # store's journal. (No message: Scrapy would log it as a warning on every crawl.)
        if not self.template or (config(crawler).db and any(
                isinstance(p, type) and issubclass(p, StorePipeline) for p in enabled)):
            raise NotConfigured()
        self.crawler = crawler
        self.file: JsonLinesFile | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JsonLinesPipeline:
        CrawlOutcome.from_crawler(crawler)  # also in a crawler built without the project's EXTENSIONS
        return cls(crawler)

    # async: a CloseSpider raised here then surfaces while Scrapy awaits every pipeline's start-up, not
    # while it is still calling them (which would skip the later ones). CloseSpider is Scrapy's one
    # way to refuse a start; once the crawl runs, only the outcome (report_broken) closes it.
    async def open_spider(self) -> None:
        self.file = open_jsonl(self.crawler, jsonl_path(self.template, self.crawler.spider))

    def process_item(self, item: Any) -> Any:
        written = False
        # Once a write failed (said once), later items are only counted.
        if self.file is not None and self.file.fd is not None and self.file.refused is None:
            try:
                self.file.append([record_of(item)])
                written = True
            except OSError as exc:
                jsonl_failed(self.crawler, self.file.path, exc)
        self.crawler.stats.inc_value("newsbot/jsonl/items" if written else "newsbot/jsonl/unsaved")
        return item  # written or not: the other outputs still get it

    def close_spider(self) -> None:
        close_jsonl(self.crawler, self.file, self.file is not None and self.file.refused is not None)


def open_jsonl(crawler: Crawler, path: Path) -> JsonLinesFile:
    """The JSON Lines file opened for appending; CloseSpider(output_unavailable) if it cannot be."""
    jsonl = JsonLinesFile(path)
    try:
        jsonl.open()
    except OSError as exc:
        crawler.stats.inc_value("newsbot/output_errors/jsonl")
        logger.error("Cannot open the JSON Lines file %s, stopping the crawl: %s", path, _reason(exc))
        raise CloseSpider(CLOSE_REASON) from exc
    logger.info("Writing articles to %s", path)
    return jsonl


def jsonl_failed(crawler: Crawler, path: Path, exc: OSError) -> None:
    """Count a refused write and report the crawl broken; said also when it is closing already."""
    crawler.stats.inc_value("newsbot/output_errors/jsonl")
    if not report_broken(crawler, CLOSE_REASON, "cannot write to the JSON Lines file %s: %s", path, _reason(exc)):
        logger.error("Cannot write to the JSON Lines file %s: %s", path, _reason(exc))


def close_jsonl(crawler: Crawler, jsonl: JsonLinesFile | None, failed: bool) -> None:
    if jsonl is None:
        return
    error = jsonl.close()
    if error is not None:
        if not failed:
            crawler.stats.inc_value("newsbot/output_errors/jsonl")
        logger.log(logging.WARNING if failed else logging.ERROR, "Could not sync the JSON Lines file %s: %s",
                   jsonl.path, _reason(error))
    if unsaved := crawler.stats.get_value("newsbot/jsonl/unsaved", 0):
        logger.warning("%d items were not written to %s", unsaved, jsonl.path)


# --- the file as the store's journal (newsbot.pipelines.store) ----------------------------------

def count_reconciled(crawler: Crawler, path: Path, cut: int, appended: int) -> None:
    """What opening the journal did to bring the file in line with the store."""
    if cut:
        crawler.stats.inc_value("newsbot/jsonl/cut", cut)  # trim said so
    if appended:
        crawler.stats.inc_value("newsbot/jsonl/restored", appended)
        logger.warning("%s: appended %d articles from the store that an earlier crawl stored while the file "
                       "refused their lines", path, appended)


def complete_other_journals(crawler: Crawler, store: Any, own: JsonLinesFile | None) -> None:
    """Files of earlier crawls that miss lines (a per-run NEWSBOT_JSONL such as %(time)s names a new
    file each crawl, so none would reopen them): completed now, each in its own transaction."""
    for key in store.journals_missing_lines():
        if own is not None and key == own.key:
            continue
        if (named := store.journal_path(key)) is None:
            continue  # another node's file, which that node completes
        path = Path(named)
        if not path.is_file():
            logger.warning("%s misses lines of stored articles but is no longer there: `scrapy export` "
                           "gives them", path)
            continue
        other = JsonLinesFile(path)
        other.key = key
        try:
            other.open()
            cut, appended = store.open_journal(other)
        except OSError as exc:
            logger.warning("Cannot append the articles %s is missing (they stay due): %s", path, _reason(exc))
            continue
        finally:
            other.close()
        count_reconciled(crawler, path, cut, appended)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
