"""What both backends' statements run on (Connection: execute, executemany, select_in, insert_rows), the
store's errors, and SQLite's connections: opening them, SQLite's errors as StoreErrors, write transactions
retried with backoff (several Scrapyd jobs may write one file: docs/schema.md, "Concurrency and failures"), the WAL
checkpointer thread. Nothing here knows the schema: openers run the ``prepare`` callback they are given."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar
from urllib.parse import quote

logger = logging.getLogger("newsbot.store")

_CHUNK = 500  # ids per IN (...) list, or rows per multi-row INSERT (500 x 18 values: SQLite >= 3.32 allows 32766)

_T = TypeVar("_T")


class Connection(Protocol):
    """What the SQL both backends share runs on: an sqlite3.Connection, or newsbot.store.postgres.Connection
    (which takes the same ``?`` placeholders)."""

    def execute(self, sql: str, params: Iterable[Any] = ..., /) -> Any: ...
    def executemany(self, sql: str, rows: Iterable[Iterable[Any]], /) -> Any: ...

    def select_in(self, sql: str, values: Iterable[object]) -> Iterator[tuple]:
        """The rows of `sql`, a SELECT whose `IN ({})` takes all of `values`."""

    def insert_rows(self, table: str, columns: Sequence[str], rows: list[tuple], conflict: str = "") -> None:
        """Insert `rows` (tuples of `columns`) the backend's fastest way; conflict: an ON CONFLICT clause."""

    def stream(self, sql: str, params: Iterable[Any] = ...) -> Iterator[tuple]:
        """The rows of a long query (an export), in bounded memory; the query runs at the call."""


class StoreError(Exception):
    """The store cannot be used: missing, read-only, not a newsbot database, or a newer schema."""


class StoreBusyError(StoreError):
    """Another process kept the database locked beyond the timeout and every retry."""


class StoreWriteError(StoreError):
    """The disk refused a write: full (SQLITE_FULL) or an I/O error (SQLITE_IOERR). Nothing was committed."""


def _error_code(exc: sqlite3.Error) -> int:
    """The primary SQLite result code of an error (its extended code's low byte; 0 if it has none)."""
    return (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF


def _abandon(conn: sqlite3.Connection | None, exc: StoreError | sqlite3.Error, failed: str) -> NoReturn:
    """Close a connection that could not be set up, and raise why as a StoreError."""
    if conn is not None:
        conn.close()
    if isinstance(exc, StoreError):
        raise exc
    raise StoreError(f"{failed}: {exc}") from exc


def uri(path: Path, mode: str) -> str:
    """mode: ro, rwc, or ro&immutable=1."""
    return f"file:{quote(str(path.absolute()))}?mode={mode}"


def chunks(values: list[_T], size: int = _CHUNK) -> Iterator[list[_T]]:
    """`values` in lists of at most `size` (SQLite limits the parameters of one statement)."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _corrupt(path: Path, problem: object) -> StoreError:
    return StoreError(f"{path} is corrupt ({problem}): restore it from a backup, or recover what is left "
                      "with the sqlite3 shell's .recover")


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    return _error_code(exc) == sqlite3.SQLITE_CORRUPT  # (SQLITE_NOTADB: a file that never was a store)


class SQLiteConnection(sqlite3.Connection):
    """sqlite3's connection with the bulk forms Connection asks for, and a damaged page met by a read
    said as a StoreError (a read-only open does not read every page first: _check_intact)."""

    path: Path

    @contextmanager
    def _said_corrupt(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if _damaged(exc):
                raise _corrupt(self.path, exc) from exc
            raise

    def execute(self, sql: str, params: Iterable[Any] = (), /) -> sqlite3.Cursor:
        with self._said_corrupt():
            return super().execute(sql, params)

    def stream(self, sql: str, params: Iterable[Any] = ()) -> Iterator[tuple]:
        return self._rows(self.execute(sql, tuple(params)))

    def _rows(self, cursor: sqlite3.Cursor) -> Iterator[tuple]:
        with self._said_corrupt():
            yield from cursor  # sqlite3 steps through the rows as they are read

    def select_in(self, sql: str, values: Iterable[object]) -> Iterator[tuple]:
        """The rows of `sql`, whose `IN ({})` takes `values`, queried a chunk of them at a time."""
        for chunk in chunks(list(values)):
            yield from self.execute(sql.format(", ".join("?" * len(chunk))), chunk)

    def insert_rows(self, table: str, columns: Sequence[str], rows: list[tuple], conflict: str = "") -> None:
        """INSERT many rows as one multi-row statement (per chunk), not with executemany: an INSERT that
        fires the FTS trigger runs in a savepoint, and FTS5 writes its pending index out at every
        savepoint, so row-at-a-time inserts into articles would make one index segment per article,
        all to be merged again (far slower overall). Elsewhere it saves a step per row too."""
        if not rows:
            return
        values = "(" + ", ".join("?" * len(rows[0])) + ")"
        for chunk in chunks(rows):
            self.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([values] * len(chunk))} "
                         f"{conflict}", [value for row in chunk for value in row])


def _connect(path: Path, mode: str, timeout: float) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; writes say BEGIN IMMEDIATE themselves. A reader's
    # rows may be read on another thread than the one that opened it (the Parquet export reads ahead).
    conn = sqlite3.connect(uri(path, mode), uri=True, timeout=timeout, isolation_level=None,
                           factory=SQLiteConnection, check_same_thread=mode == "rwc")
    conn.path = path
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _check_intact(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a database with a damaged page before writing to it: SQLite meets one only when a query
    reaches it (a crawl's write after hundreds of pages fetched), so every page is read once, at a
    writable open, by quick_check (the b-trees' structure, not the indexes' agreement with their tables).
    A read-only open skips it: stats and the report read a few small tables, and what else a reader
    meets damaged is said when met (SQLiteConnection)."""
    found = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
    if found != "ok":
        raise _corrupt(path, next((line for line in found.splitlines() if not line.startswith("***")), found))


def check_copy(copy: Path, source: Path) -> None:
    """Refuse a copy of `source` with a damaged page (a page-by-page copy copies the damage too)."""
    conn = sqlite3.connect(uri(copy, "ro"), uri=True)
    try:
        _check_intact(conn, source)
    finally:
        conn.close()


def open_readonly(path: Path, timeout: float,
                  prepare: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    """A read-only connection to an existing file, checked by prepare(conn) (which raises StoreError)."""
    if not path.is_file():
        raise StoreError(f"No newsbot database at {path}")
    conn = None
    try:
        try:
            conn = _connect(path, "ro", timeout)
            conn.execute("PRAGMA user_version").fetchone()
        except sqlite3.OperationalError as exc:
            if _error_code(exc) not in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
                raise
            # A WAL database in a directory this user cannot write, and no writer running (one
            # would have left the -shm file SQLite needs): nothing changes it, so read it as is.
            if conn is not None:
                conn.close()
            conn = _connect(path, "ro&immutable=1", timeout)
            conn.execute("PRAGMA user_version").fetchone()
        prepare(conn)
    except (StoreError, sqlite3.Error) as exc:
        _abandon(conn, exc, f"Cannot read {path}")
    return conn


def open_writable(path: Path, timeout: float,
                  prepare: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    """A connection that creates the file if need be, in WAL mode, then readied by prepare(conn)
    (the schema migration)."""
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Cannot create the directory for the database {path}: {exc}") from exc
    # SQLite opens an unwritable file read-only without a word; say so before the first write fails.
    if path.exists() and not os.access(path, os.W_OK):
        raise StoreError(f"The database {path} is read-only: newsbot needs to write to it")
    if not os.access(directory, os.W_OK):
        raise StoreError(f"The directory {directory} is not writable: newsbot needs it for "
                         f"{path.name} and its -wal and -shm files")
    conn = None
    try:
        conn = _connect(path, "rwc", timeout)
        _check_intact(conn, path)
        # WAL and synchronous=NORMAL: why each is safe, docs/schema.md, "Concurrency and failures".
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            logger.warning("%s: SQLite refused WAL mode (journal_mode=%s); concurrent access will wait more",
                           path, mode)
        conn.execute("PRAGMA synchronous = NORMAL")
        # Checkpoint every ~40 MB of WAL rather than every 4 MB: a batch with its FTS pages is a
        # good part of 4 MB, and each checkpoint copies pages back and fsyncs.
        conn.execute("PRAGMA wal_autocheckpoint = 10000")
        conn.execute("PRAGMA journal_size_limit = 67108864")
        # 16 MiB of page cache, not 2: the indexes and FTS segments being merged stay in memory.
        conn.execute("PRAGMA cache_size = -16384")
        prepare(conn)
    except (StoreError, sqlite3.Error) as exc:
        _abandon(conn, exc, f"Cannot open {path} for writing")
    return conn


def transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], _T], *, path: Path,
                timeout: float, retries: int, on_commit: Callable[[], None] | None = None) -> _T:
    """Run work(conn) in one BEGIN IMMEDIATE transaction, retrying with backoff while another
    process holds the write lock (sqlite itself already waited `timeout` seconds each time).
    retries: attempts after the first. on_commit: called after each successful COMMIT."""
    for attempt in range(retries + 1):
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
                conn.execute("COMMIT")
                if on_commit is not None:
                    on_commit()
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result
        except sqlite3.OperationalError as exc:
            if _error_code(exc) in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR):  # rolled back: full, or failed
                raise StoreWriteError(f"{path}: {exc}") from exc
            if _error_code(exc) not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            if attempt == retries:
                raise StoreBusyError(
                    f"{path} stayed locked by another writer: gave up after {attempt + 1} attempts "
                    f"of {timeout:g}s each ({exc})") from exc
            # A short timeout (tests, interactive tools) backs off briefly too.
            delay = min(min(timeout, 0.5) * 2 ** attempt, 8.0)
            logger.warning("%s is locked by another writer (%s); retrying in %.1fs", path, exc, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


class Checkpointer:
    """Copies the WAL back into the database on a thread and connection of its own: a checkpoint ends
    in fsyncs, which stall the writes when the writer runs it (SQLite's autocheckpoint). PASSIVE never
    waits for readers or writers, so it is safe beside any other process."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._wanted = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="newsbot-checkpoint", daemon=True)
        self._thread.start()

    def request(self) -> None:
        self._wanted.set()

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(uri(self.path, "rw"), uri=True, timeout=self.timeout, isolation_level=None)
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stopping:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:  # busy with another process's checkpoint: the next one catches up
                    logger.debug("Background checkpoint of %s skipped: %s", self.path, exc)
        finally:
            conn.close()
