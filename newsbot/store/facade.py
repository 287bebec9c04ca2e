"""Store: the one object callers use, on either backend (newsbot.store.sqlite, newsbot.store.postgres).
It holds the backend, reads (newsbot.store.queries) and hands each write to the module that does it
(articles, merge) in one of the backend's write transactions."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import AbstractContextManager, closing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from newsbot.normalize import utc_now_iso
from newsbot.store import merge, postgres, schema, sqlite
from newsbot.store.articles import (Journal, WriteResult, _Row, article_row, newest_rows, reconcile_journal,
                                    write_rows)
from newsbot.store.connection import StoreError, check_copy
from newsbot.store.merge import MergeResult
from newsbot.store.queries import Queries

_T = TypeVar("_T")


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class Store(Queries, AbstractContextManager):
    """A newsbot database, as a context manager or closed with close(): an SQLite file (a path) or a
    PostgreSQL database (a postgresql:// URL), behind the same methods. ``readonly=True`` never creates
    or migrates; it reads databases of this version (the lookups also older ones), never newer."""

    def __init__(self, db: str | os.PathLike, timeout: float = 30.0, readonly: bool = False,
                 retries: int = 3, background_checkpoints: bool = False) -> None:
        """db: a path or a postgresql:// URL. background_checkpoints: an SQLite file's WAL is checkpointed
        on a thread of its own (for bulk writers)."""
        self.timeout = float(timeout)
        self.readonly = readonly
        self.backend: sqlite.Backend | postgres.Backend = (
            postgres.Backend(str(db), self.timeout, readonly, retries) if postgres.is_url(db)
            else sqlite.Backend(db, self.timeout, readonly, retries, background_checkpoints))
        self.name = self.backend.name  # what messages call it (a URL without its password)
        self.schema_version: int = self.backend.schema_version

    @property
    def _conn(self) -> Any:
        """For the reads: a PostgreSQL store reconnects after a server restart."""
        return self.backend.connection()

    def close(self) -> None:
        self.backend.close()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def journal_key(self, path: str) -> str:
        """What journal_files calls the JSON Lines file at `path` (absolute) of this node."""
        return self.backend.journal_key(path)

    def journal_path(self, key: str) -> str | None:
        """The file a journal key names, None when it is another node's."""
        return self.backend.journal_path(key)

    def _write(self, work: Callable[[Any], _T], journal: Journal | None = None) -> _T:
        """work(conn) in one write transaction (the backend's); the journal it appended to keeps its
        lines if it committed, and loses them if not."""
        if self.readonly:
            raise StoreError(f"{self.name} is open read-only")
        try:
            result = self.backend.write(work)
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
            "INSERT INTO crawl_runs (spider, started_at, job_id, arguments, settings) VALUES (?, ?, ?, ?, ?) "
            "RETURNING run_id",
            (spider, started_at or utc_now_iso(), job_id, _json(arguments), _json(settings))).fetchone()[0])

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
        """Copy an SQLite store's articles with their children and revisions, and join its identity to
        this store's (newsbot.store.merge). An article in both keeps the content of the crawl that saw
        it last; revision histories are united by content_hash (so merging twice changes nothing)."""
        if self.readonly:
            raise StoreError(f"{self.name} is open read-only")
        other = Path(other_path)
        if self.backend.path is not None and other.exists() and other.resolve() == self.backend.path.resolve():
            raise StoreError("Cannot merge a database into itself")
        with Store(other, timeout=self.timeout, readonly=True) as source:
            if source.schema_version < merge.MERGE_MIN_VERSION:
                raise StoreError(f"{other} has schema version {source.schema_version}; open it read-write "
                                 f"once to migrate it to {schema.SCHEMA_VERSION} before merging")
        with tempfile.TemporaryDirectory(prefix="newsbot-merge-") as scratch:
            copy = Path(scratch) / other.name
            merge.copy_store(other, copy, self.timeout)
            with Store(copy, timeout=self.timeout) as shard:  # migrates the copy of an older shard
                return self.backend.merge(shard.backend, merge.SHARD_TABLES, merge.merge_copy)

    def snapshot(self, target: str | os.PathLike) -> int:
        """Write the whole store, as one consistent read, to a new SQLite file at `target` (a newsbot
        store Datasette serves: newsbot.store.serve); returns the articles it holds."""
        target = Path(target)
        if target.exists():
            raise StoreError(f"{target} exists: a snapshot is written to a new file")
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            if isinstance(self.backend, sqlite.Backend):
                merge.copy_store(self.backend.path, partial, self.timeout)
                # Readers no longer read every page at open: the snapshot is where a damaged one would spread.
                check_copy(partial, self.backend.path)
            else:
                with Store(partial, timeout=self.timeout) as copy:
                    # closing: a failed load ends the source's read transaction now, not when collected.
                    with closing(self.backend.tables(merge.SNAPSHOT_TABLES)) as tables:
                        copy._write(lambda conn: copy.backend.load(conn, tables))
            with Store(partial, readonly=True) as written:
                count = written.count_articles()
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:  # a closed copy's WAL holds nothing; a reader may leave it and its index behind
            for suffix in ("-wal", "-shm"):
                partial.with_name(partial.name + suffix).unlink(missing_ok=True)
        return count
