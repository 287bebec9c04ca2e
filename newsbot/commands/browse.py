"""scrapy browse: Datasette on the store, with newsbot's metadata (descriptions, full-text search,
facets, canned queries: newsbot.store.datasette)."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand

from newsbot.children import PREEXEC_DIE_WITH_PARENT
from newsbot.commands.common import INSTALL_HINT, NewsbotCommand, is_loopback, usage_error
from newsbot.store import Store, StoreError, is_postgres_url, redact_url
from newsbot.store.datasette import datasette_metadata


class Command(NewsbotCommand, ScrapyCommand):
    usage = "[--db PATH] [--port 8001] [--host 127.0.0.1] [--setting NAME VALUE ...] [--write-metadata FILE]"
    db_help = "the SQLite store (default: the NEWSBOT_DB setting)"
    db_metavar = "PATH"
    summary = "Browse and search the store in Datasette, with newsbot's metadata"
    description = ("Serve the SQLite store (NEWSBOT_DB, or --db) with Datasette: table and column descriptions, "
                   "full-text search on the articles table, facets on edition, category and publication day, "
                   "and canned queries (stories in all three editions, today's stories by category, edited "
                   "articles, the last crawl runs). --write-metadata FILE writes the metadata for "
                   f"`datasette STORE --metadata FILE` instead. Needs Datasette: {INSTALL_HINT}. Datasette reads "
                   "SQLite: a store on PostgreSQL is browsed through its snapshot (scrapy export --format sqlite).")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--port", type=int, default=8001, help="port to listen on (default: 8001; 0: any free one)")
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
        parser.add_argument("--setting", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                            help="a Datasette setting, e.g. --setting sql_time_limit_ms 5000 (repeatable)")
        parser.add_argument("--write-metadata", metavar="FILE",
                            help="write Datasette's metadata for this store to FILE and exit")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not 0 <= opts.port <= 65535:
            usage_error("browse", f"--port: not a port number: {opts.port}")
        _, path = self.store_config(opts)
        if is_postgres_url(path):
            usage_error("browse", f"Datasette serves SQLite files, not {redact_url(path)}: take a snapshot with "
                                  "`scrapy export --format sqlite -o snapshot.sqlite` and browse --db snapshot.sqlite")
        # Datasette names a database after its file, without the extension.
        metadata = json.dumps(datasette_metadata(Path(path).stem), ensure_ascii=False, indent=1)
        if opts.write_metadata:
            try:
                Path(opts.write_metadata).write_text(metadata, encoding="utf-8")
            except OSError as exc:
                self.cannot_write(f"--write-metadata {opts.write_metadata}", exc)
            return
        try:  # imported, not only looked for: a broken install is as good as none
            import datasette  # noqa: F401
        except ImportError:
            usage_error("browse", f"Datasette is not installed: {INSTALL_HINT}")
        try:  # the same checks as every reader: a missing file, not a store, a newer schema
            self.read_store(path).close()
        except StoreError as exc:
            self.fail(str(exc))
            return
        if not is_loopback(opts.host):
            print(f"browse: WARNING: --host {opts.host} serves the whole store to the network, read-only, with "
                  "any SQL a visitor writes (the run records' settings stay hidden)", file=sys.stderr)
        # The metadata comes through a pipe and nothing is written to disk, so a browse killed by SIGKILL
        # leaves nothing behind; the child dies with this process (PR_SET_PDEATHSIG).
        command = [sys.executable, "-m", "newsbot.store.serve", str(path), "--metadata", "/dev/stdin",
                   "--host", opts.host, "--port", str(opts.port),
                   # A body is thousands of characters: cut in tables (the row page shows it whole).
                   "--setting", "truncate_cells_html", "300",
                   # A facet is one query, as long as any other may take: Datasette's 200 ms default leaves
                   # facets out of the pages of a large store, where each counts a million index entries.
                   "--setting", "facet_time_limit_ms", "1000",
                   # Suggestions count the distinct values of every column of every page shown: on a large
                   # store each runs out of its time and none is suggested, after adding that time to the page.
                   "--setting", "suggest_facets", "off"]
        for name, value in opts.setting:  # after newsbot's: Datasette keeps the last of a name
            command += ["--setting", name, value]
        child = subprocess.Popen(command, stdin=subprocess.PIPE, preexec_fn=PREEXEC_DIE_WITH_PARENT)
        with child.stdin:
            child.stdin.write(metadata.encode("utf-8"))
        # Ctrl-C reaches both processes (one process group); a SIGTERM to this one is passed on.
        signal.signal(signal.SIGTERM, lambda signum, frame: child.terminate())
        try:
            self.exitcode = child.wait()
        except KeyboardInterrupt:
            self.exitcode = child.wait()

