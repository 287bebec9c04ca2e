"""Memory levers of a long crawl: the cyclic garbage collector kept off what start-up built, and
glibc's heap kept from holding a backfill's transients as holes (and malloc_info, its account)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

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


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def malloc_info() -> dict[str, int]:
    """glibc malloc's own account, in bytes (mallinfo2): its heap (`arena`), the blocks it mapped on
    their own (`hblkhd`), what is in use in the heap (`uordblks`) and free but kept there (`fordblks`,
    RSS that no live object accounts for). Empty elsewhere than glibc 2.33+."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
    except (OSError, AttributeError):
        return {}
    info = libc.mallinfo2()
    return {name: getattr(info, name) for name, _ in _Mallinfo2._fields_}


class HeapTrim:
    """Keeps glibc's heap from holding a long backfill's transients as holes, in two ways:

    - every NEWSBOT_HEAP_TRIM_INTERVAL seconds, and once more when the engine stops, it gives the
      kernel back the pages malloc holds free (malloc_trim);
    - from the start, blocks of NEWSBOT_HEAP_MMAP_THRESHOLD bytes or more get their own mapping
      (mallopt M_MMAP_THRESHOLD), unmapped when freed.

    A long backfill's transients grow with it: the last pages of big cumulative categories are
    megabytes of HTML, their decoded text and chunks. glibc's own mapping threshold rises to the
    largest mapped block freed (up to 32 MB), so after the first such page every page's buffers
    come from the heap; freed, they leave holes that later, smaller allocations only partly fill,
    and glibc keeps them resident, RSS that no live object accounts for (bench.memory's census shows
    the free heap growing with the backfill). A fixed threshold keeps them out of the heap; what the
    trims cost is counted in newsbot/heap_trim/seconds. Elsewhere than glibc (musl, macOS) the
    extension stays off.
    """

    M_MMAP_THRESHOLD = -3  # glibc's malloc.h

    def __init__(self, crawler: Crawler, trim: Any, interval: float) -> None:
        self.stats = crawler.stats
        self.trim = trim
        self.interval = interval
        self.loop: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HeapTrim:
        settings = config(crawler)
        interval, threshold = settings.heap_trim_interval, settings.heap_mmap_threshold
        if interval <= 0 and threshold <= 0:
            raise NotConfigured("NEWSBOT_HEAP_TRIM_INTERVAL and NEWSBOT_HEAP_MMAP_THRESHOLD are 0")
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            trim, mallopt = libc.malloc_trim, libc.mallopt
        except (OSError, AttributeError) as exc:
            raise NotConfigured(f"no glibc malloc_trim here: {exc}") from exc
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
        mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        # Process-wide, and for the process's life: glibc has no per-crawl heap.
        if threshold > 0 and mallopt(cls.M_MMAP_THRESHOLD, threshold) == 1:
            crawler.stats.set_value("newsbot/heap_trim/mmap_threshold", threshold)
        extension = cls(crawler, trim, interval)
        if interval > 0:
            crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
            crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_started(self) -> None:
        self.loop = task.LoopingCall(self.trim_now)
        self.loop.start(self.interval, now=False)

    def trim_now(self) -> None:
        started = time.perf_counter()
        self.trim(0)
        self.stats.inc_value("newsbot/heap_trim/count")
        self.stats.inc_value("newsbot/heap_trim/seconds", round(time.perf_counter() - started, 4))

    def engine_stopped(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.trim_now()
