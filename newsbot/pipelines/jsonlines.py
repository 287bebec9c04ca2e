"""The always-on JSON Lines log of every article a crawl keeps (NEWSBOT_JSONL).

Not a feed export (FEEDS / -o / -O still work alongside): one line per item, in
the file's own write call, so a crawl killed with SIGKILL leaves only whole
lines, and the file is opened for appending so a resumed crawl continues it.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.extensions.feedexport import apply_uri_params

from newsbot.items import ArticleItem
from newsbot.store import as_mapping

logger = logging.getLogger(__name__)

FIELD_ORDER = tuple(ArticleItem.fields)


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
        self.template = crawler.settings.get("NEWSBOT_JSONL") or ""
        if not self.template:
            raise NotConfigured("NEWSBOT_JSONL is empty")
        self.crawler = crawler
        self.path: Path | None = None
        self.fd: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JsonLinesPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.path = jsonl_path(self.template, self.crawler.spider)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            cut = _drop_partial_last_line(self.path)
            if cut:
                logger.warning("%s ended in a partial line (%d bytes) from an interrupted crawl; removed it",
                               self.path, cut)
        # O_APPEND: every write lands at the end, even with another writer on the same file.
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        logger.info("Writing articles to %s", self.path)

    def process_item(self, item: Any) -> Any:
        values = as_mapping(item)
        record = {field: values[field] for field in FIELD_ORDER if field in values}
        record.update((k, v) for k, v in values.items() if k not in record)
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        # One write() of the whole line goes straight to the kernel: no Python buffer to lose.
        written = os.write(self.fd, line)
        while written < len(line):  # only on a full disk or a signal; finish the line
            written += os.write(self.fd, line[written:])
        self.crawler.stats.inc_value("newsbot/jsonl/items")
        return item

    def close_spider(self) -> None:
        if self.fd is not None:
            os.fsync(self.fd)
            os.close(self.fd)
            self.fd = None
