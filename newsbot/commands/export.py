"""scrapy export: stored articles as JSON Lines, CSV or Parquet (typed: newsbot.parquet), each with the
item's fields and the Baku publication day (newsbot.store.EXPORT_FIELDS)."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, TypeVar

from scrapy.commands import ScrapyCommand

from newsbot.commands.common import INSTALL_HINT, NewsbotCommand, usage_error
from newsbot.items import BY_NAME, LIST_FIELDS
from newsbot.store import EXPORT_FIELDS, StoreError

LIST_SEPARATOR = " | "

_T = TypeVar("_T")


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """A cell a spreadsheet shows as the text it is: a leading quote keeps a formula from running."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def csv_row(article: dict[str, Any]) -> list[Any]:
    """A flat row: each list joined (a list of records as their URLs), every cell inert."""
    row = dict(article)
    for name in LIST_FIELDS:
        values = article[name]
        row[name] = LIST_SEPARATOR.join(values if BY_NAME[name].kind.plain else (v["url"] for v in values))
    return [inert(row[field]) for field in EXPORT_FIELDS]


def with_progress(articles: Iterable[_T], total: int | None, interval: float) -> Iterator[_T]:
    """The articles, with a line on stderr every `interval` seconds (0: none) while they are read:
    how many so far, of `total` when known, and the rate."""
    started = last = time.monotonic()
    for count, article in enumerate(articles, start=1):
        if interval and (now := time.monotonic()) - last >= interval:
            last = now
            print(f"export: {count:,}{f' of {total:,}' if total is not None else ''} articles "
                  f"({count / (now - started):,.0f}/s)", file=sys.stderr, flush=True)
        yield article


def write(articles: Iterable[dict[str, Any]], output_format: str, out: IO[str]) -> int:
    """Write the articles as CSV or JSON Lines; how many."""
    count = 0
    if output_format == "csv":
        writer = csv.writer(out)
        writer.writerow(EXPORT_FIELDS)
        for count, article in enumerate(articles, start=1):
            writer.writerow(csv_row(article))
    else:
        for count, article in enumerate(articles, start=1):
            out.write(json.dumps(article, ensure_ascii=False) + "\n")
    return count


class Command(NewsbotCommand, ScrapyCommand):
    selects_articles = True
    usage = ("[-o FILE] [--format jsonl|csv|parquet|sqlite] [--since DATE] [--until DATE] [--lang en,ru] "
             "[--category SLUG] [--story ID]")
    summary = "Export stored articles as JSON Lines, CSV, Parquet or an SQLite snapshot"
    description = ("Export articles from the store (NEWSBOT_DB, or --db: an SQLite file or PostgreSQL) to stdout "
                   "or a file, oldest "
                   "first. JSON Lines has one article per line in the item's shape plus published_date (the Baku "
                   "day); CSV has one column per field, "
                   f"with tags, image URLs and translation URLs joined by '{LIST_SEPARATOR}'. Parquet (-o FILE "
                   f"needed; pyarrow: {INSTALL_HINT}) is typed: lists stay lists, times are timestamps with a "
                   "time zone (schema: docs/analysis.md). Dates are Baku publication days and both ends are "
                   "included. --format sqlite (-o FILE.sqlite, a new file) copies the whole store, as one "
                   "consistent read, into an SQLite store that `scrapy browse --db FILE.sqlite` serves: a team "
                   "on PostgreSQL browses it so. An export to a file says how far it has got on stderr every "
                   "NEWSBOT_PROGRESS_INTERVAL seconds (-s NEWSBOT_PROGRESS_INTERVAL=0: never).")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
        parser.add_argument("--format", choices=("jsonl", "csv", "parquet", "sqlite"),
                            help="output format (default: csv for a .csv FILE, parquet for .parquet, sqlite for "
                                 ".sqlite or .db, else jsonl)")
        parser.add_argument("--category", metavar="SLUG", help="category key, e.g. energy")
        parser.add_argument("--story", metavar="STORY_ID", help="the editions of one story")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        languages = self.languages(opts)
        if opts.output:
            self.check_output(opts.output)
        suffix = Path(opts.output or "").suffix.lower()
        output_format = opts.format or {".csv": "csv", ".parquet": "parquet", ".sqlite": "sqlite",
                                        ".db": "sqlite"}.get(suffix, "jsonl")
        if output_format == "sqlite":
            self.snapshot(opts)
            return
        write_parquet = None
        if output_format == "parquet":
            if not opts.output:
                usage_error("export", "--format parquet: give the file with -o FILE (Parquet is not written to stdout)")
            try:  # pyarrow is the analysis extra's, imported only when Parquet is asked for
                from newsbot.parquet import write_parquet
            except ImportError:
                usage_error("export", f"--format parquet needs pyarrow, which is not installed: {INSTALL_HINT}")
        config, path = self.store_config(opts)
        selection = {"since": opts.since, "until": opts.until, "languages": languages, "category": opts.category,
                     "story": opts.story}
        try:
            with self.read_store(path) as store:
                # On stdout the data goes alone: stderr may be the same terminal.
                total = None if not opts.output or any(selection.values()) else store.count_articles()
                # Parquet takes the rows as they are (its lists parsed a batch at a time), the others dicts.
                articles = (store.export_rows(encoded=True, **selection) if write_parquet is not None
                            else store.iter_articles(**selection))
                if opts.output:
                    articles = with_progress(articles, total, config.progress_interval)
                if write_parquet is not None:
                    try:
                        count = write_parquet(articles, opts.output)
                    except OSError as exc:
                        usage_error("export", f"-o {opts.output}: cannot write it ({exc.strerror or exc})")
                else:
                    try:  # UTF-8 whatever the locale; newline="" so CSV controls its own line ends
                        out = open(opts.output or sys.stdout.fileno(), "w", encoding="utf-8", newline="",
                                   closefd=bool(opts.output))
                    except OSError as exc:
                        self.cannot_write(f"-o {opts.output}", exc)
                    try:
                        with out:
                            count = write(articles, output_format, out)
                    except BrokenPipeError:
                        raise
                    except OSError as exc:  # a full disk, an I/O error: what was written is incomplete
                        self.fail(f"{opts.output and '-o ' + opts.output or 'standard output'}: cannot write it "
                                  f"({exc.strerror or type(exc).__name__})")
                        return
        except StoreError as exc:
            self.fail(str(exc))
            return
        except BrokenPipeError:  # `scrapy export | head`: the reader has seen enough
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
        if opts.output:
            print(f"Exported {count} articles to {opts.output}", file=sys.stderr)

    def snapshot(self, opts: argparse.Namespace) -> None:
        """--format sqlite: the whole store (no selection applies) as a new SQLite file."""
        if not opts.output:
            usage_error("export", "--format sqlite: give the new file with -o FILE")
        selected = [name for name in ("since", "until", "lang", "category", "story") if getattr(opts, name)]
        if selected:
            usage_error("export", f"--format sqlite copies the whole store: drop --{', --'.join(selected)}")
        if Path(opts.output).exists():
            usage_error("export", f"-o {opts.output}: exists; a snapshot is written to a new file")
        _, path = self.store_config(opts)
        try:
            with self.read_store(path) as store:
                count = store.snapshot(opts.output)
        except StoreError as exc:
            self.fail(str(exc))
            return
        except OSError as exc:
            self.cannot_write(f"-o {opts.output}", exc)
        print(f"Exported {count} articles to {opts.output} (an SQLite snapshot: scrapy browse --db {opts.output})",
              file=sys.stderr)
