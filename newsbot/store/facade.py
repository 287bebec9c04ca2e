"""Store: the one object callers use. It holds the connection, reads (newsbot.store.queries) and
hands each write to the module that does it (articles, merge) in one write transaction."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from contextlib import AbstractContextManager
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from newsbot.normalize import utc_now_iso
from newsbot.store import merge, schema
from newsbot.store.articles import (Journal, WriteResult, _Row, article_row, newest_rows, reconcile_journal,
                                    write_rows)
from newsbot.store.connection import Checkpointer, StoreError, open_readonly, open_writable, transaction, uri
from newsbot.store.merge import MergeResult
from newsbot.store.queries import Queries

_T = TypeVar("_T")


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class Store(Queries, AbstractContextManager):
    """The newsbot SQLite database, as a context manager or closed with close(). ``readonly=True`` never
    creates or migrates; it reads databases of this version (the lookups also older ones), never newer."""

    def __init__(self, path: str | os.PathLike, timeout: float = 30.0, readonly: bool = False,
                 retries: int = 3, background_checkpoints: bool = False) -> None:
        """background_checkpoints: checkpoint the WAL on a thread of its own (for bulk writers)."""
        self.path = Path(path)
        self.timeout = float(timeout)
        self.readonly = readonly
        self.retries = retries  # write attempts after the first, each after sqlite waited `timeout`
        self._checkpointer: Checkpointer | None = None
        if readonly:
            self._conn = open_readonly(self.path, self.timeout, lambda conn: schema.check_readable(conn, self.path))
        else:
            self._conn = open_writable(self.path, self.timeout,
                                       lambda conn: schema.migrate(conn, self.path, self.timeout, self.retries))
        self.schema_version: int = schema.version_of(self._conn)
        if background_checkpoints and not readonly:
            # Autocheckpoint stays on as a backstop, at ~200 MB of WAL, should the thread fall behind.
            self._conn.execute("PRAGMA wal_autocheckpoint = 50000")
            self._checkpointer = Checkpointer(self.path, self.timeout)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self._conn.close()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _write(self, work: Callable[[sqlite3.Connection], _T], journal: Journal | None = None) -> _T:
        """work(conn) in one write transaction (connection.transaction); the journal it appended to
        keeps its lines if it committed, and loses them if not."""
        checkpointer = self._checkpointer
        try:
            result = transaction(self._conn, work, path=self.path, timeout=self.timeout, retries=self.retries,
                                 on_commit=checkpointer.request if checkpointer is not None else None)
        except BaseException:
            if journal is not None:
                journal.rollback()
            raise
        if journal is not None:
            journal.committed()
        return result

    def write(self, items: Iterable[Any], journal: Journal | None = None) -> WriteResult:
        """Store articles (ArticleItems, dicts, any item type) in one transaction, each as articles.decide
        says against what is stored under the write lock, so it is right even when another process
        wrote in between."""
        return self.write_rows(map(article_row, items), journal)

    def write_rows(self, rows: Iterable[_Row], journal: Journal | None = None) -> WriteResult:
        """write() of rows made by article_row; journal: docs/schema.md, "Pipelines and settings"."""
        newest = newest_rows(rows)  # one article twice: the newest crawl wins
        if not newest:
            return WriteResult()
        return self._write(lambda conn: write_rows(conn, newest, journal), journal)

    def open_journal(self, journal: Journal) -> tuple[int, int]:
        """articles.reconcile_journal before a journal's first write, in one write transaction (so no other
        process is between appending and committing); OSError if the file refuses them again (they stay due)."""
        return self._write(lambda conn: reconcile_journal(conn, journal), journal)

    def start_run(self, spider: str, arguments: Mapping[str, Any], settings: Mapping[str, Any],
                  job_id: str | None = None, started_at: str | None = None) -> int:
        """Record a crawl run starting; returns its run_id for finish_run()."""
        return self._write(lambda conn: conn.execute(
            "INSERT INTO crawl_runs (spider, started_at, job_id, arguments, settings) VALUES (?, ?, ?, ?, ?)",
            (spider, started_at or utc_now_iso(), job_id, _json(arguments), _json(settings))).lastrowid)

    def finish_run(self, run_id: int, reason: str, counts: Mapping[str, int | None],
                   stats: Mapping[str, Any] | None = None, finished_at: str | None = None) -> None:
        """Close a crawl run: its finish reason, item counts (keys: scraped, new, updated,
        unchanged, duplicate, dropped) and the crawler's final stats."""
        self._write(lambda conn: conn.execute(
            "UPDATE crawl_runs SET finished_at = ?, finish_reason = ?, items_scraped = ?, items_new = ?, "
            "items_updated = ?, items_unchanged = ?, items_duplicate = ?, items_dropped = ?, stats = ? "
            "WHERE run_id = ?",
            (finished_at or utc_now_iso(), reason, *(counts.get(k) for k in (
                "scraped", "new", "updated", "unchanged", "duplicate", "dropped")), _json(stats or {}), run_id)))

    def record_coverage(self, spider: str, language: str, oldest: str, newest: str) -> None:
        """Replace the feed stretch recorded for `spider` and `language` (the spider merges ranges itself)."""
        self._write(lambda conn: conn.execute(
            "INSERT INTO feed_coverage (spider, language, oldest, newest, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (spider, language) DO UPDATE SET oldest = excluded.oldest, newest = excluded.newest, "
            "updated_at = excluded.updated_at", (spider, language, oldest, newest, utc_now_iso())))

    def merge_from(self, other_path: str | os.PathLike) -> MergeResult:
        """Copy another store's articles with their children and revisions, and join its identity to
        this store's (newsbot.store.merge). An article in both keeps the content of the crawl that saw
        it last; revision histories are united by content_hash (so merging twice changes nothing)."""
        if self.readonly:
            raise StoreError(f"{self.path} is open read-only")
        other = Path(other_path)
        if other.exists() and other.resolve() == self.path.resolve():
            raise StoreError("Cannot merge a database into itself")
        with Store(other, timeout=self.timeout, readonly=True) as source:
            if source.schema_version < merge.MERGE_MIN_VERSION:
                raise StoreError(f"{other} has schema version {source.schema_version}; open it read-write "
                                 f"once to migrate it to {schema.SCHEMA_VERSION} before merging")
        with tempfile.TemporaryDirectory(prefix="newsbot-merge-") as scratch:
            copy = Path(scratch) / other.name
            merge.copy_store(other, copy, self.timeout)
            Store(copy, timeout=self.timeout).close()  # migrates the copy of an older shard
            # ATTACH is not allowed inside a transaction, so it wraps the write.
            self._conn.execute("ATTACH DATABASE ? AS src", (uri(copy, "rw"),))
            try:
                return self._write(merge.merge_copy)
            finally:
                self._conn.execute("DETACH DATABASE src")
