"""docs/analysis.md's pandas and DuckDB blocks on a store of N articles: each block's peak RSS and wall time.

    python -m bench.docs_memory [--size 100000] [--limit-mb 1024] [--cache DIR] [--work DIR]

The blocks are the Python blocks tests/test_analysis.py runs on the SQLite store (its own extraction), each
run as the test runs it, in a fresh Python, in a project directory (--work) whose data/newsbot.sqlite is
bench.exports' store of N articles (built once per size and kept in --cache) and data/articles.parquet its
`scrapy export` (made once and kept). Exit 1 if a block fails or its peak RSS exceeds --limit-mb.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from bench.common import SCRAPY, log, run_measured
from bench.exports import CACHE, build_store
from tests.test_analysis import doc_blocks, doc_env, doc_parts


def python_blocks() -> list[tuple[str, str]]:
    """(label, code) of every Python block the doc's tests run on the SQLite store, labelled by its section."""
    text = doc_parts()[0]
    labelled, seen = [], {}
    for language, block in doc_blocks():
        if language == "python":
            heading = re.findall(r"^## (.+)$", text[:text.index(block)], flags=re.M)[-1]
            seen[heading] = seen.get(heading, 0) + 1
            labelled.append((f"{heading} #{seen[heading]}", block))
    return labelled


def project(size: int, cache: Path, work: Path) -> Path:
    """The doc's project directory for the store of `size` articles: its data/ holds the store and its export."""
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    store = data / "newsbot.sqlite"
    if not store.exists():
        store.symlink_to(build_store(size, cache).resolve())
    parquet = data / "articles.parquet"
    if not parquet.exists():
        partial = data / "articles.parquet.partial"  # an interrupted export is never taken for a whole one
        log(f"exporting {store} to {parquet}")
        run = run_measured([SCRAPY, "export", "--db", str(store), "--format", "parquet", "-o", str(partial)])
        if run.returncode:
            raise SystemExit(f"scrapy export failed:\n{run.stderr[-2000:]}")
        partial.rename(parquet)
    return work


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.docs_memory", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="articles in the store (default 100,000)")
    parser.add_argument("--limit-mb", type=float, default=1024, help="most peak RSS a block may take (default 1024)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the built stores are kept")
    parser.add_argument("--work", type=Path, help="the project directory (default: CACHE/docs-SIZE)")
    args = parser.parse_args()
    if args.size < 1 or args.limit_mb <= 0:
        parser.error("--size and --limit-mb must be above 0")
    work = project(args.size, args.cache, args.work or args.cache / f"docs-{args.size}")
    over = []
    print(f"{'peak RSS':>10} {'wall':>8}  block ({args.size:,} articles, limit {args.limit_mb:,.0f} MB)")
    for label, block in python_blocks():
        # env -C: run_measured starts every command in the repository; the doc's blocks run in the project.
        # A short poll: a block can end a fraction of a second after its peak, and VmHWM dies with it.
        run = run_measured(["env", "-C", str(work), sys.executable, "-c", block], env=doc_env(), poll=0.01)
        peak_mb = run.peak_rss_kb / 1024
        print(f"{peak_mb:>7,.0f} MB {run.wall_seconds:>6.1f} s  {label}", flush=True)
        if run.returncode:
            print(f"{label} failed:\n{run.stderr[-2000:]}", file=sys.stderr)
            over.append(label)
        elif peak_mb > args.limit_mb:
            over.append(label)
    if over:
        print(f"over {args.limit_mb:,.0f} MB or failed: {', '.join(over)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
