"""The always-on JSON Lines log of every article a crawl keeps (NEWSBOT_JSONL).

Not a feed export (FEEDS / -o / -O still work alongside): one line per item, in
the file's own write call, so a crawl killed with SIGKILL leaves only whole
lines, and the file is opened for appending so a resumed crawl continues it.

A write the disk refuses (full, I/O error) is said once, in one ERROR line naming the file,
counted (newsbot/output_errors/jsonl), and closes the crawl as "output_unavailable"; the part
of the line that did get written is cut off again, the items not written are counted
(newsbot/jsonl/unsaved), and the other outputs go on until the crawl has closed.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.extensions.feedexport import apply_uri_params
from scrapy.utils.defer import deferred_from_coro

from newsbot.config import config
from newsbot.items import ArticleItem
from newsbot.store import as_mapping

logger = logging.getLogger(__name__)

FIELD_ORDER = tuple(ArticleItem.fields)
CLOSE_REASON = "output_unavailable"
# fsync errors that mean "this file cannot be synced" (a device such as /dev/full, a pipe), not lost data.
_NO_FSYNC = (errno.EINVAL, errno.EROFS, errno.ENOTSUP)


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def jsonl_path(template: str, spider: Any) -> Path:
    """The file for a run: %(time)s and spider attributes such as %(name)s or Scrapyd's %(_job)s,
    as in FEEDS URIs (only the attributes the template names are read)."""
    params = {}
    for name in set(_PLACEHOLDER.findall(template)):
        if name == "time":
            params[name] = datetime.now(tz=timezone.utc).replace(microsecond=0).isoformat().replace(":", "-")
        elif hasattr(spider, name):
            params[name] = getattr(spider, name)
        else:
            raise ValueError(f"NEWSBOT_JSONL names %({name})s, but the spider has no attribute {name!r}")
    return Path(apply_uri_params(template, params))


def _drop_partial_last_line(path: Path) -> int:
    """Cut what follows the last newline (only a write interrupted mid-line leaves anything); bytes cut."""
    with path.open("rb+") as handle:
        size = end = handle.seek(0, os.SEEK_END)
        while end > 0:  # back from the end, a block at a time, to the last newline
            start = max(0, end - 65536)
            handle.seek(start)
            newline = handle.read(end - start).rfind(b"\n")
            if newline >= 0:
                end = start + newline + 1
                break
            end = start
        if end < size:
            handle.truncate(end)
        return size - end


class JsonLinesPipeline:
    """Appends each item as one UTF-8 JSON object (ArticleItem field order) to NEWSBOT_JSONL."""

    def __init__(self, crawler: Crawler) -> None:
        self.template = config(crawler).jsonl
        if not self.template:
            raise NotConfigured("NEWSBOT_JSONL is empty")
        self.crawler = crawler
        self.path: Path | None = None
        self.fd: int | None = None
        self.failed = False  # a write failed: said once; later items are only counted

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JsonLinesPipeline:
        return cls(crawler)

    # async, like DedupePipeline.open_spider: a CloseSpider raised here then surfaces while Scrapy
    # awaits every pipeline's start-up, not while it is still calling them.
    async def open_spider(self) -> None:
        self.path = jsonl_path(self.template, self.crawler.spider)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                cut = _drop_partial_last_line(self.path)
                if cut:
                    logger.warning("%s ended in a partial line (%d bytes) from an interrupted crawl; removed it",
                                   self.path, cut)
            # O_APPEND: every write lands at the end, even with another writer on the same file.
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            self._count_failure()
            logger.error("Cannot open the JSON Lines file %s, stopping the crawl: %s", self.path, _reason(exc))
            raise CloseSpider(CLOSE_REASON) from exc
        logger.info("Writing articles to %s", self.path)

    def process_item(self, item: Any) -> Any:
        if self.fd is None or self.failed:
            self.crawler.stats.inc_value("newsbot/jsonl/unsaved")
            return item  # the other outputs still get it
        values = as_mapping(item)
        record = {field: values[field] for field in FIELD_ORDER if field in values}
        record.update((k, v) for k, v in values.items() if k not in record)
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            self._append(line)
        except OSError as exc:
            self._count_failure()
            self.crawler.stats.inc_value("newsbot/jsonl/unsaved")
            logger.error("Cannot write to the JSON Lines file %s, stopping the crawl: %s", self.path, _reason(exc))
            closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason=CLOSE_REASON))
            closing.addErrback(lambda failure: logger.debug("Closing after the JSON Lines error: %s", failure.value))
            return item
        self.crawler.stats.inc_value("newsbot/jsonl/items")
        return item

    def _append(self, line: bytes) -> None:
        """One write() of the whole line goes straight to the kernel: no Python buffer to lose. A write
        the disk cuts short is finished; one it refuses takes back what it wrote, so no torn line stays."""
        written = 0
        try:
            while written < len(line):  # more than once only on a full disk or a signal
                written += os.write(self.fd, line[written:])
        except OSError:
            if written:
                self._take_back(written)
            raise

    def _take_back(self, written: int) -> None:
        # After an O_APPEND write the offset is the end of what it wrote; cut only if nothing follows it
        # (another writer's line after ours stays; the next run's trim has nothing to do then either).
        try:
            end = os.lseek(self.fd, 0, os.SEEK_CUR)
            if os.fstat(self.fd).st_size == end:
                os.ftruncate(self.fd, end - written)
                return
        except OSError as exc:
            logger.debug("Could not cut the partial line from %s: %s", self.path, exc)
        logger.warning("%s ends in a partial line (%d bytes); the next crawl removes it", self.path, written)

    def _count_failure(self) -> None:
        self.failed = True
        self.crawler.stats.inc_value("newsbot/output_errors/jsonl")

    def close_spider(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            try:
                os.fsync(fd)
            except OSError as exc:
                if exc.errno not in _NO_FSYNC:  # the kernel could not write back what it had taken
                    if self.failed:
                        logger.warning("Could not sync the JSON Lines file %s: %s", self.path, _reason(exc))
                    else:
                        self._count_failure()
                        logger.error("Could not sync the JSON Lines file %s: %s", self.path, _reason(exc))
            finally:
                os.close(fd)
        unsaved = self.crawler.stats.get_value("newsbot/jsonl/unsaved", 0)
        if unsaved:
            logger.warning("%d items were not written to %s", unsaved, self.path)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
