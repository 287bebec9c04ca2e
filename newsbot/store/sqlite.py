"""The store in an SQLite file (NEWSBOT_DB=a path), the embedded default: its connection
(newsbot.store.connection), its migrations (newsbot.store.schema) and the SQL that differs from
PostgreSQL's (newsbot.store.postgres has the other side)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import TypeVar

from newsbot.store import schema
from newsbot.store.connection import Checkpointer, open_readonly, open_writable, transaction, uri

_T = TypeVar("_T")


class Backend:
    """A newsbot database in one SQLite file, as newsbot.store.Store uses it."""

    kind = "sqlite"
    SCHEMA_VERSION = schema.SCHEMA_VERSION

    def __init__(self, path: str | os.PathLike, timeout: float, readonly: bool, retries: int,
                 background_checkpoints: bool) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        self.timeout = timeout
        self.retries = retries  # write attempts after the first, each after sqlite waited `timeout`
        self._checkpointer: Checkpointer | None = None
        if readonly:
            self.conn = open_readonly(self.path, timeout, lambda conn: schema.check_readable(conn, self.path))
        else:
            self.conn = open_writable(self.path, timeout,
                                      lambda conn: schema.migrate(conn, self.path, timeout, retries))
        self.schema_version: int = schema.version_of(self.conn)
        if background_checkpoints and not readonly:
            # Autocheckpoint stays on as a backstop, at ~200 MB of WAL, should the thread fall behind.
            self.conn.execute("PRAGMA wal_autocheckpoint = 50000")
            self._checkpointer = Checkpointer(self.path, timeout)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.conn.close()

    def connection(self) -> sqlite3.Connection:
        return self.conn

    def journal_key(self, path: str) -> str:
        return path

    def journal_path(self, key: str) -> str | None:
        return key

    def write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """work(conn) in one write transaction (connection.transaction)."""
        checkpointer = self._checkpointer
        return transaction(self.conn, work, path=self.path, timeout=self.timeout, retries=self.retries,
                           on_commit=checkpointer.request if checkpointer is not None else None)

    def merge(self, shard: Backend, tables: tuple[str, ...], work: Callable[[sqlite3.Connection], _T]) -> _T:
        """work(conn) in one write transaction with the shard's file ATTACHed as ``src``."""
        # ATTACH is not allowed inside a transaction, so it wraps the write.
        self.conn.execute("ATTACH DATABASE ? AS src", (uri(shard.path, "rw"),))
        try:
            return self.write(work)
        finally:
            self.conn.execute("DETACH DATABASE src")

    def tables(self, names: Iterable[str]) -> Iterator[tuple[str, list[str], Iterator[tuple]]]:
        """(table, its columns, its rows) for each of `names`, in one read transaction."""
        self.conn.execute("BEGIN")
        try:
            for name in names:
                cursor = self.conn.execute(f"SELECT * FROM {name}")
                yield name, [c[0] for c in cursor.description], iter(cursor)
        finally:
            self.conn.execute("COMMIT")

    @staticmethod
    def load(conn: sqlite3.Connection, tables: Iterable[tuple[str, list[str], Iterator[tuple]]]) -> None:
        """Insert every table's rows (tables()'s), inside the caller's write transaction."""
        for name, columns, rows in tables:
            while chunk := list(islice(rows, 500)):
                conn.insert_rows(name, columns, chunk)

    # --- SQL that differs from PostgreSQL's ---

    @staticmethod
    def seconds_between(start: str, end: str) -> str:
        return f"(julianday({end}) - julianday({start})) * 86400.0"

    @staticmethod
    def utf8(column: str) -> str:
        """A text column read as its UTF-8 bytes."""
        return f"CAST({column} AS BLOB)"

    @staticmethod
    def stat(key: str) -> str:
        """A crawl run's stat, by key (stats are JSON text; before v2 some rows hold none)."""
        return f"CASE WHEN json_valid(stats) THEN json_extract(stats, '$.\"{key}\"') END"

    def search(self, query: str, limit: int) -> list[tuple]:
        """(article_id, url, language, title, snippet), best match first (FTS5 query syntax)."""
        return self.conn.execute(
            "SELECT a.article_id, a.url, a.language, a.title, "
            "snippet(articles_fts, 1, '[', ']', '…', 12) AS snippet "
            "FROM articles_fts JOIN articles AS a ON a.id = articles_fts.rowid "
            "WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?", (query, limit)).fetchall()
