"""The per-page levers of issue 15, each timed against what it replaced, on real-weight pages.

    python -m bench.levers [PAGES] [ROUNDS]

In one process, over article pages saved from a replica (every layout, ~100 KB each), each
lever and its "before" run in paired rounds (the order alternating from round to round), CPU
time per page (time.process_time); the figure quoted is the median of the rounds' ratios
(before / after) with their min and max, so load on the machine cancels out of each pair:

- parse: Scrapy's ``response.selector`` (decode to str, parsel encodes it back and parses with
  lxml.html's parser) vs ``newsbot.html.document`` (lxml's plain HTML parser on the bytes);
- clean: a page's paragraphs cleaned one by one (``MapCompose(repair_mojibake, clean_text)``, as
  before) vs in one pass over their joined text (``repair_mojibake_all`` + ``clean_texts``);
- truncated: ``looks_truncated`` lowering the whole body (before) vs its tail;
- json: the stdlib encoder vs orjson on what newsbot encodes per article (the content hash's
  canonical form and the JSON Lines record), when orjson is installed: whether it would show.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

from bench.common import RESULTS, log, start_replica


def _pages(stories: int, count: int) -> list[tuple[str, bytes]]:
    from bench.extraction import save_pages

    directory = RESULTS / "pages-levers"
    records = save_pages(stories, count, directory)
    return [(r["truth"]["url"], (directory / r["file"]).read_bytes()) for r in records]


def _paired(before: Callable[[], None], after: Callable[[], None], rounds: int, pages: int) -> dict[str, Any]:
    ratios, before_ms, after_ms = [], [], []
    for number in range(rounds):
        timed = {}
        for name, work in ((("before", before), ("after", after)) if number % 2 == 0
                           else (("after", after), ("before", before))):
            started = time.process_time()
            work()
            timed[name] = (time.process_time() - started) * 1000 / pages
        before_ms.append(timed["before"])
        after_ms.append(timed["after"])
        ratios.append(timed["before"] / timed["after"] if timed["after"] else 0.0)
    return {"before_ms_per_page": round(statistics.median(before_ms), 4),
            "after_ms_per_page": round(statistics.median(after_ms), 4),
            "speedup": round(statistics.median(ratios), 3), "speedup_min": round(min(ratios), 3),
            "speedup_max": round(max(ratios), 3)}


def _old_looks_truncated(body: bytes) -> bool:
    lowered = body.lower()
    return b"</html>" not in lowered[-4096:] and b"<footer" not in lowered


def run(stories: int = 120, count: int = 150, rounds: int = 7) -> dict[str, Any]:
    from itemloaders.processors import MapCompose
    from scrapy.http import HtmlResponse

    from newsbot.evidence import Page
    from newsbot.html import document
    from newsbot.loaders import extract_article
    from newsbot.normalize import clean_text, clean_texts, repair_mojibake, repair_mojibake_all
    from newsbot.site import looks_truncated

    log(f"levers: saving {count} article pages from a {stories}-story replica")
    pages = _pages(stories, count)
    n = len(pages)

    def responses() -> list[HtmlResponse]:
        return [HtmlResponse(url, body=body, headers={"Content-Type": "text/html; charset=utf-8"})
                for url, body in pages]

    results: dict[str, Any] = {"pages": n, "rounds": rounds,
                               "mean_page_kb": round(sum(len(b) for _, b in pages) / n / 1024, 1)}

    # Fresh responses for every pass, built before the clock starts: a response keeps its selector.
    log("levers: parse")
    ratios, before_ms, after_ms = [], [], []
    for number in range(rounds):
        fresh = {"before": responses(), "after": responses()}
        work = {"before": lambda rs: [r.selector.root for r in rs], "after": lambda rs: [document(r) for r in rs]}
        timed = {}
        for name in ("before", "after") if number % 2 == 0 else ("after", "before"):
            started = time.process_time()
            work[name](fresh[name])
            timed[name] = (time.process_time() - started) * 1000 / n
        before_ms.append(timed["before"])
        after_ms.append(timed["after"])
        ratios.append(timed["before"] / timed["after"])
    results["parse"] = {"before_ms_per_page": round(statistics.median(before_ms), 4),
                        "after_ms_per_page": round(statistics.median(after_ms), 4),
                        "speedup": round(statistics.median(ratios), 3), "speedup_min": round(min(ratios), 3),
                        "speedup_max": round(max(ratios), 3)}

    paragraphs = [[p.text for p in Page(document(r).root, r.url).paragraphs] for r in responses()]
    per_paragraph = MapCompose(repair_mojibake, clean_text)
    log("levers: paragraph cleaning")
    results["clean"] = _paired(lambda: [per_paragraph(ps) for ps in paragraphs],
                               lambda: [clean_texts(repair_mojibake_all(ps)) for ps in paragraphs], rounds, n)
    results["clean"]["paragraphs_per_page"] = round(sum(map(len, paragraphs)) / n, 1)

    bodies = [body for _, body in pages]
    log("levers: truncation check")
    results["truncated"] = _paired(lambda: [_old_looks_truncated(b) for b in bodies],
                                   lambda: [looks_truncated(b) for b in bodies], rounds, n)

    items = [dict(extract_article(body, url).item or {}) for url, body in pages]
    try:
        import orjson
    except ImportError:
        results["json"] = {"skipped": "orjson is not installed"}
    else:
        log("levers: json")
        results["json"] = _paired(
            lambda: [(json.dumps(i, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
                      json.dumps(i, ensure_ascii=False)) for i in items],
            lambda: [(orjson.dumps(i, option=orjson.OPT_SORT_KEYS), orjson.dumps(i)) for i in items], rounds, n)
        results["json"]["orjson"] = orjson.__version__
    return results


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(json.dumps(run(120, *(args or [150])), indent=1))
