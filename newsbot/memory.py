"""The cyclic garbage collector kept off what start-up built, for the length of a crawl."""

from __future__ import annotations

import gc

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsbot.config import config


class CollectorTuning:
    """gc.freeze() when the engine starts, gc.unfreeze() when it stops (NEWSBOT_GC_FREEZE).

    Everything start-up built lives as long as the crawl, yet each full collection of the cyclic
    garbage collector walks all of it again; a crawl allocates enough (requests, responses, lxml
    proxies, items) to run one every few hundred pages. Frozen, those objects are skipped
    (CPython's gc.freeze, made for the same situation in pre-fork servers). Unfrozen at the end,
    so that a process running several crawls (tests, an embedding program) frees what one left.
    """

    def __init__(self) -> None:
        self.frozen = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CollectorTuning:
        if not config(crawler).gc_freeze:
            raise NotConfigured("NEWSBOT_GC_FREEZE is off")
        extension = cls()
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_started(self) -> None:
        gc.freeze()
        self.frozen = True

    def engine_stopped(self) -> None:
        if self.frozen:
            gc.unfreeze()
            self.frozen = False
