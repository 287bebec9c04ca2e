"""A Scrapy extension the benchmarks add to a crawl: its final stats as JSON, plus a memory census.

Enabled by the setting BENCH_STATS_FILE (a path). When the crawl goes idle for the
first time (every page done, every structure of the run still alive) it records
what holds memory: peak RSS so far, the sizes of the request dupe filter, the
scheduler, the pipelines' and the spider's in-run sets, the number of stats keys, and the
most common live object types. With BENCH_TRACEMALLOC=N it also traces allocations
(N frames deep; 1 is the cheapest, about 3x slower) from the engine's start and records
the top allocation sites then. With BENCH_TIMELINE=S (seconds; 0: off) it samples, every S
seconds, RSS, Python's live blocks and arenas, glibc's heap, the scheduler's queue and the
pages and items so far (`bench/timeline`): when in the crawl a peak happens, and with what queued.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import resource
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured



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


def _rss_kb(field: str) -> int:
    """VmRSS / VmHWM of this process in kB (0 when /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _size(value) -> int | None:
    """The number of members of an in-run set (set, dict, list, or anything sized that is not a
    string, like newsbot.memo.KeySet and the dupe filter); None for anything else."""
    if isinstance(value, (str, bytes)) or not hasattr(type(value), "__len__"):
        return None
    try:
        return len(value)
    except TypeError:
        return None


def _native_memory() -> dict[str, int]:
    """What the C side holds, in kB: SQLite's allocator (every connection's page cache, FTS5's
    buffers) now and at its high-water mark, and glibc malloc's heap: in use, and free but kept
    (fragmentation: RSS that no live object accounts for). Empty where a library is missing."""
    found = {}
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = lib.sqlite3_memory_highwater.restype = ctypes.c_int64
        found["sqlite_kb"] = lib.sqlite3_memory_used() // 1024
        found["sqlite_highwater_kb"] = lib.sqlite3_memory_highwater(0) // 1024
    except (OSError, AttributeError):
        pass

    info = malloc_info()
    if info:
        found.update(malloc_heap_kb=info["arena"] // 1024, malloc_mmap_kb=info["hblkhd"] // 1024,
                     malloc_in_use_kb=info["uordblks"] // 1024, malloc_free_kept_kb=info["fordblks"] // 1024)
    return found


def _pymalloc() -> dict[str, int]:
    """Python's small-object allocator, in kB, from sys._debugmallocstats (which writes to fd 2):
    its arenas (mmap'd, so outside glibc's heap) now and at their high-water mark, the bytes in
    live blocks, and the bytes free inside the arenas (kept for reuse, still in RSS). Empty while
    tracemalloc traces, since its hooks stand in front of pymalloc and hide its statistics."""
    import os
    import re
    import tempfile

    if not hasattr(sys, "_debugmallocstats"):
        return {}
    with tempfile.TemporaryFile(mode="w+b") as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode("ascii", "replace")

    def number(pattern: str) -> int:
        found = re.search(pattern + r"\s*=\s*([\d,]+)", text)
        return int(found.group(1).replace(",", "")) if found else 0

    sized = re.search(r"arenas \* (\d+) bytes/arena", text)
    if sized is None:  # not pymalloc (tracemalloc's hooks, PYTHONMALLOC=malloc): nothing to say
        return {}
    arena = int(sized.group(1))
    return {
        "pymalloc_arenas_kb": number(r"# arenas allocated current") * arena // 1024,
        "pymalloc_arenas_highwater_kb": number(r"# arenas highwater mark") * arena // 1024,
        "pymalloc_in_use_kb": number(r"# bytes in allocated blocks") // 1024,
        "pymalloc_free_kb": (number(r"# bytes in available blocks") + number(r"\d+ unused pools \* \d+ bytes")) // 1024,
    }


def _members(value) -> list | None:
    """The in-run sets an attribute holds: a dict whose values are all sized (a category walk per
    category) holds its values, anything else sized holds itself; None when it is not sized."""
    if _size(value) is None:
        return None
    if isinstance(value, dict) and value and all(_size(v) is not None for v in value.values()):
        return list(value.values())
    return [value]


def _queued(crawler) -> int | None:
    """The requests the scheduler holds (None before the engine, or for a scheduler without len())."""
    scheduler = getattr(crawler.engine, "scheduler", None)
    return len(scheduler) if scheduler is not None and hasattr(scheduler, "__len__") else None


def _set_bytes(owner) -> int:
    """The bytes of owner's in-run sets (sys.getsizeof; a dict of sets: the sum of its values)."""
    total = 0
    for value in vars(owner).values():
        members = _members(value)
        if members is not None and not isinstance(value, (list, tuple)):
            total += sum(sys.getsizeof(m) for m in members)
    return total


def _sets(owner) -> dict[str, int]:
    """owner's attributes holding more than 100 members, by Class.attribute; a dict whose values are
    sets (a category walk per category) by the sum of their members."""
    found = {}
    for name, value in vars(owner).items():
        members = _members(value)
        if members is None:
            continue
        size = sum(_size(m) for m in members)
        if size > 100:
            found[f"{type(owner).__name__}.{name}"] = size
    return found


class StatsFile:
    def __init__(self, crawler, path: str, trace: int) -> None:
        self.crawler = crawler
        self.path = Path(path)
        self.trace = trace
        self.census: dict = {}
        self.started = time.monotonic()
        self.every = crawler.settings.getfloat("BENCH_TIMELINE")
        self.timeline: list[list] = []
        self.loop = None

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("BENCH_STATS_FILE")
        if not path:
            raise NotConfigured
        extension = cls(crawler, path, crawler.settings.getint("BENCH_TRACEMALLOC"))
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_started(self) -> None:
        self.started = time.monotonic()
        if self.trace:
            tracemalloc.start(self.trace)
        if self.every > 0:
            from twisted.internet import task

            self.loop = task.LoopingCall(self.sample)
            self.loop.start(self.every, now=False)

    TIMELINE_FIELDS = ("seconds", "rss_kb", "py_blocks", "pymalloc_arenas_kb", "pymalloc_in_use_kb",
                       "malloc_in_use_kb", "malloc_free_kept_kb", "scheduler_pending", "responses", "items")

    def sample(self) -> None:
        stats = self.crawler.stats
        native, small = _native_memory(), _pymalloc()
        self.timeline.append([
            round(time.monotonic() - self.started, 1), _rss_kb("VmRSS"), sys.getallocatedblocks(),
            small.get("pymalloc_arenas_kb"), small.get("pymalloc_in_use_kb"),
            native.get("malloc_in_use_kb"), native.get("malloc_free_kept_kb"),
            _queued(self.crawler),
            stats.get_value("downloader/response_count", 0), stats.get_value("item_scraped_count", 0)])

    def spider_idle(self, spider) -> None:
        if self.census:
            return
        engine = self.crawler.engine
        scheduler = engine.scheduler
        dupefilter = getattr(scheduler, "df", None)
        census = {
            "rss_kb": _rss_kb("VmRSS"),
            "hwm_kb": _rss_kb("VmHWM"),
            "seconds": round(time.monotonic() - self.started, 1),
            # len() of the filter's own set: not Scrapy's deprecated `fingerprints`, which builds a
            # frozenset of every fingerprint as hex (~120 bytes a request, at the peak's own moment).
            "dupefilter_fingerprints": _size(dupefilter) if _size(dupefilter) is not None
            else _size(getattr(dupefilter, "_fingerprints", None)) or 0,
            "scheduler_pending": _queued(self.crawler),
            "stats_keys": len(self.crawler.stats.get_stats()),
            "pipeline_sets": {},
        }
        # Pipelines' own in-run memory (e.g. the dedupe pipeline's set of article ids).
        itemproc = getattr(getattr(engine, "scraper", None), "itemproc", None)
        for middleware in getattr(itemproc, "middlewares", ()):
            census["pipeline_sets"].update(_sets(middleware))
        # The spider's (requested url_keys, a category walk's cards: a dict of sets counts their members).
        census["spider_sets"] = _sets(spider)
        owners = [spider, dupefilter, *getattr(itemproc, "middlewares", ())]
        census["set_bytes_kb"] = sum(_set_bytes(o) for o in owners if o is not None and hasattr(o, "__dict__")) // 1024
        census.update(_native_memory())
        census.update(_pymalloc())
        gc.collect()
        types = Counter(type(o).__name__ for o in gc.get_objects())
        census["gc_objects"] = sum(types.values())
        census["top_types"] = dict(types.most_common(15))
        if self.trace and tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot().filter_traces((
                tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen *>")))
            census["tracemalloc_total_kb"] = round(sum(s.size for s in snapshot.statistics("filename")) / 1024)
            census["tracemalloc_top"] = [
                {"where": f"{stat.traceback[0].filename}:{stat.traceback[0].lineno}",
                 "kb": round(stat.size / 1024), "blocks": stat.count}
                for stat in snapshot.statistics("lineno")[:15]]
            if self.trace > 1:
                census["tracemalloc_top_tracebacks"] = [
                    {"kb": round(stat.size / 1024), "stack": [f"{f.filename}:{f.lineno}" for f in stat.traceback]}
                    for stat in snapshot.statistics("traceback")[:6]]
        self.census = census

    def engine_stopped(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        stats = dict(self.crawler.stats.get_stats())
        # VmHWM: this process image's peak RSS. ru_maxrss (what Scrapy's memusage/* reports) also
        # counts the parent's high-water mark inherited through fork/vfork + exec.
        stats["bench/vmhwm_kb"] = _rss_kb("VmHWM")
        stats["bench/ru_maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        stats["bench/census"] = self.census
        if self.timeline:
            stats["bench/timeline"] = {"fields": self.TIMELINE_FIELDS, "samples": self.timeline}
        stats["bench/python"] = sys.version.split()[0]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(stats, default=str, indent=1, sort_keys=True), encoding="utf-8")
