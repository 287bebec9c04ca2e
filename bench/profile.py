"""Where a crawl's CPU goes: the real `scrapy crawl` under py-spy, its samples summed by part.

    python -m bench.profile [--stories 2000] [--spider category] [--rate 200] [--out DIR]

A replica of STORIES stories is crawled exactly as bench.throughput crawls it (newsbot_crawl:
the project's settings, throttling off), sampled by py-spy (`record -f raw`, idle frames left out)
RATE times a second. Each of the main thread's samples is given to the first part of this list
that its stack shows (so the parse of a listing page is the listing's):

- start-up and shutdown: outside the event loop, and any import wherever it runs;
- listings: the category walk reading a listing page (it parses while it reads the cards);
- parse: building an article page's lxml tree (newsbot.html);
- extraction: reading the fields from that tree (newsbot.loaders.extract_article);
- the rest of the article callback (newsbot's spiders), the item pipelines, and the rest of
  newsbot's code (middlewares, extensions, dupe filter);
- Scrapy, Twisted and asyncio: everything else, the work a bare Scrapy spider does too.

The other threads (the store's writer, its checkpoints) are counted apart, against the main
thread's samples. What bounds throughput is the main thread: the summary is a share of its samples.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.common import CHILD_PREEXEC, ROOT, log, newsbot_crawl, start_replica

STARTUP = "start-up and shutdown (outside the event loop, or importing)"
# (part, what in a frame marks it), in the order a stack inside the event loop is judged: the first that matches.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("listings", ("parse_listing (newsbot/", "read_listing (newsbot/", "parse_html_reading (newsbot/")),
    ("parse", ("document (newsbot/html.py", "parse_html (newsbot/html.py")),
    ("extraction", ("extract_article (newsbot/loaders.py",)),
    ("article callback, the rest", ("parse_article (newsbot/spiders/",)),
    ("item pipelines", ("process_item (newsbot/pipelines/",)),
    ("newsbot, the rest (middlewares, extensions, dupe filter)", ("(newsbot/",)),
)
SCRAPY = "Scrapy, Twisted and asyncio"
MAIN_ROOT = "<module> (scrapy"  # the `scrapy` script's frame: the main thread's outermost


# newsbot's frames that only hand the work to Scrapy's own: the `scrapy crawl` command (every
# main-thread stack starts there) and the lazy Playwright handler (a plain request is Scrapy's
# HTTP/1.1 download, as in a bare spider).
PASS_THROUGH = ("(newsbot/commands/", "download_request (newsbot/rendering.py")


def part_of(frames: list[str]) -> str:
    """The part one main-thread stack (outermost frame first) belongs to."""
    loop = next((i for i, frame in enumerate(frames) if frame.startswith("BaseEventLoop.run_forever")), None)
    # Imports count as start-up wherever they run: Scrapy loads its download handlers (and with
    # them Playwright) after the event loop has started.
    if loop is None or any(frame.startswith("_find_and_load ") for frame in frames):
        return STARTUP
    inner = [frame for frame in frames[loop + 1:] if not any(mark in frame for mark in PASS_THROUGH)]
    for part, marks in PARTS:
        if any(mark in frame for frame in inner for mark in marks):
            return part
    return SCRAPY


def summarise(raw_lines: Iterable[str]) -> dict[str, Any]:
    """py-spy's raw output ("frame;frame;... count" per line) as samples per part of the main
    thread, and the other threads' samples."""
    parts: Counter = Counter()
    other_threads = 0
    for line in raw_lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if frames[0].startswith(MAIN_ROOT):
            parts[part_of(frames)] += int(count)
        else:
            other_threads += int(count)
    main = sum(parts.values())
    order = [STARTUP, *(part for part, _ in PARTS), SCRAPY]
    return {
        "main_thread_samples": main,
        "other_threads_samples": other_threads,
        "parts": {part: {"samples": parts[part], "share": round(parts[part] / main, 3) if main else 0.0}
                  for part in order},
    }


def table(summary: dict[str, Any]) -> str:
    main = summary["main_thread_samples"]
    lines = ["| part of the main thread | samples | share |", "|---|---|---|"]
    lines += [f"| {part} | {v['samples']:,} | {100 * v['share']:.1f}% |" for part, v in summary["parts"].items()]
    others = summary["other_threads_samples"]
    lines.append(f"| other threads (store writer, checkpoints), against the main thread | {others:,} | "
                 f"{100 * others / main:.1f}% |" if main else "| other threads | 0 | |")
    return "\n".join(lines)


def run(stories: int, spider: str, rate: int, workdir: Path) -> dict[str, Any]:
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("python -m bench.profile: py-spy is not installed (pip install -e '.[bench]')")
    replica = start_replica(stories)
    try:
        raw = workdir / "py-spy.raw"
        crawl = newsbot_crawl(spider, replica.base_url, workdir / "profile.sqlite", workdir / "stats.json",
                              settings={"LOG_LEVEL": "WARNING"})
        log(f"profile: {spider} crawl of {stories} stories under py-spy ({rate} samples/s)")
        done = subprocess.run([spy, "record", "--rate", str(rate), "--format", "raw", "--output", str(raw),
                               "--nonblocking", "--", *crawl],
                              cwd=ROOT, capture_output=True, text=True, preexec_fn=CHILD_PREEXEC)
        if done.returncode or not raw.exists():
            raise SystemExit(f"python -m bench.profile: py-spy failed ({done.returncode}): "
                             f"{done.stderr.strip().splitlines()[-1:] or ['no output']}")
        with raw.open(encoding="utf-8", errors="replace") as lines:
            summary = summarise(lines)
    finally:
        replica.stop()
    stats = json.loads((workdir / "stats.json").read_text(encoding="utf-8"))
    summary.update(spider=spider, stories=stories, rate=rate, pages=stats.get("downloader/response_count"),
                   items=stats.get("item_scraped_count"), finish_reason=stats.get("finish_reason"))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--spider", default="category", choices=("category", "sitemap", "latest"))
    parser.add_argument("--rate", type=int, default=200, help="samples a second (py-spy --rate)")
    parser.add_argument("--out", type=Path, help="also write the summary (JSON) and keep py-spy's raw samples here")
    args = parser.parse_args()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        summary = run(args.stories, args.spider, args.rate, args.out)
        (args.out / "profile.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    else:
        with tempfile.TemporaryDirectory(prefix="newsbot-profile-") as workdir:
            summary = run(args.stories, args.spider, args.rate, Path(workdir))
    print(f"{summary['spider']} crawl, {summary['stories']:,} stories: {summary['pages']:,} pages, "
          f"{summary['items']:,} items, {summary['finish_reason']}; {summary['main_thread_samples']:,} samples "
          f"of the main thread at {summary['rate']}/s")
    print(table(summary))


if __name__ == "__main__":
    main()
