"""The SQLite store: schema, migrations and every SQL statement newsbot runs.

One file, readable by anything that reads SQLite (sqlite3 shell, pandas,
Datasette): no custom functions, plain tables, an FTS5 index kept in sync by
triggers, and views for analysts. docs/schema.md describes it.

Concurrency: Scrapyd runs jobs in parallel, so several processes may write the
same file. Every write is one ``BEGIN IMMEDIATE`` transaction (the write lock is
taken up front, so two writers never deadlock upgrading a read lock), decided
against what is stored *inside* that transaction, and retried with backoff
while another writer holds the lock. WAL mode lets readers carry on meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple, NoReturn, TypeVar
from urllib.parse import quote

from itemadapter import ItemAdapter

from newsbot.items import ArticleItem
from newsbot.normalize import canonical_url, utc_now_iso

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 3
# The script that brings a database from version v-1 to v. A new database runs
# them all, so a fresh file and a migrated one are the same by construction.
_SCRIPTS = {1: "schema_v1.sql", 2: "migrate_v1_v2.sql", 3: "migrate_v2_v3.sql"}
# The oldest schema merge_from copies from as it is (v1 kept images as JSON and had no revisions);
# columns a newer version added are NULL for an older shard's articles.
_MERGE_MIN_VERSION = 2

ITEM_FIELDS: tuple[str, ...] = tuple(ArticleItem.fields)
LIST_FIELDS = ("tags", "images", "translations")
# The item's scalar fields as stored in `articles`, in the order every row tuple uses
# (the item's order, but article_id first: _Row.article_id is scalars[0]).
ARTICLE_COLUMNS = (
    "article_id", "url", "site_id", "source", "language", "title", "lead", "body", "word_count", "published_at",
    "published_at_utc", "category", "category_slug", "story_id", "crawled_at", "content_hash",
)
_SITE_ID, _WORD_COUNT, _CRAWLED_AT, _CONTENT_HASH = (ARTICLE_COLUMNS.index(c) for c in (
    "site_id", "word_count", "crawled_at", "content_hash"))
# Child tables and the columns copied between stores (merge_from).
_CHILD_COLUMNS = {
    "tags": ("article_id", "position", "tag"),
    "images": ("article_id", "position", "url", "caption"),
    "translations": ("article_id", "language", "url", "title"),
}
_REVISION_COLUMNS = ("article_id", "revision", "content_hash", "title", "body", "crawled_at")
_ALL_ARTICLE_COLUMNS = (*ARTICLE_COLUMNS, "first_seen_at", "last_crawled_at", "revision")

_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_CANTOPEN = 5, 6, 8, 14
_SQLITE_IOERR, _SQLITE_FULL = 10, 13  # the disk failed a write, or has no room for it
_CHUNK = 500  # ids per IN (...) list, or rows per multi-row INSERT (500 x 18 values: SQLite >= 3.32 allows 32766)
_MAX_BACKOFF = 8.0

# --- Statements (fixed text, so sqlite3's statement cache prepares each once) ---

_INSERT_ARTICLES = f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}, first_seen_at, last_crawled_at)"
_UPSERT_ARTICLES = (
    "ON CONFLICT (article_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ARTICLE_COLUMNS if c not in ("article_id", "site_id"))
    # A page that no longer shows its short link keeps the site_id known from before.
    + ", site_id = coalesce(excluded.site_id, site_id)"
    + ", revision = revision + 1, last_crawled_at = max(last_crawled_at, excluded.last_crawled_at)"
)
# Keeps the stored version as a revision; run before and after an update so both
# the previous and the new content are on record (OR IGNORE: already there).
_SNAPSHOT_REVISION = (
    f"INSERT OR IGNORE INTO article_revisions ({', '.join(_REVISION_COLUMNS)}) "
    f"SELECT {', '.join(_REVISION_COLUMNS)} FROM articles WHERE article_id = ?"
)
# Also fills in a site_id not known yet (an article stored before schema v3), which is no content change.
_TOUCH = ("UPDATE articles SET last_crawled_at = max(last_crawled_at, ?), site_id = coalesce(site_id, ?) "
          "WHERE article_id = ?")
_INSERT_CHILD = {t: f"INSERT INTO {t} ({', '.join(c)})" for t, c in _CHILD_COLUMNS.items()}
_DELETE_CHILD = {t: f"DELETE FROM {t} WHERE article_id = ?" for t in _CHILD_COLUMNS}

_COUNT_BY = {
    "day": "substr(published_at, 1, 10)",
    "edition": "language",
    "category": "category_slug",
}


class StoreError(Exception):
    """The store cannot be used: missing, read-only, not a newsbot database, or a newer schema."""


class StoreBusyError(StoreError):
    """Another process kept the database locked beyond the timeout and every retry."""


class StoreWriteError(StoreError):
    """The disk refused a write: full (SQLITE_FULL) or an I/O error (SQLITE_IOERR). Nothing was committed."""


@dataclass(frozen=True)
class StoredArticle:
    url: str
    article_id: str
    title: str
    published_at: str
    content_hash: str


@dataclass
class WriteResult:
    inserted: int = 0
    updated: int = 0    # content changed: a new revision
    unchanged: int = 0  # same content: only last_crawled_at moved
    stale: int = 0      # different content, but crawled before what is stored (another process was newer)


@dataclass
class MergeResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


_T = TypeVar("_T")


def _error_code(exc: sqlite3.Error) -> int:
    """The primary SQLite result code of an error (Python 3.10 has no sqlite_errorcode: read the message)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF
    message = str(exc)
    for text, value in (("locked", _SQLITE_BUSY), ("readonly", _SQLITE_READONLY),
                        ("unable to open", _SQLITE_CANTOPEN), ("disk is full", _SQLITE_FULL),
                        ("disk I/O error", _SQLITE_IOERR)):
        if text in message:
            return value
    return 0


def _abandon(conn: sqlite3.Connection | None, exc: StoreError | sqlite3.Error, failed: str) -> NoReturn:
    """Close a connection that could not be set up, and raise why as a StoreError."""
    if conn is not None:
        conn.close()
    if isinstance(exc, StoreError):
        raise exc
    raise StoreError(f"{failed}: {exc}") from exc


def _uri(path: Path, mode: str) -> str:
    """mode: ro, rwc, or ro&immutable=1."""
    return f"file:{quote(str(path.absolute()))}?mode={mode}"


def _script_statements(name: str) -> Iterator[str]:
    """The statements of a packaged SQL script (read as package data: works from a Scrapyd egg)."""
    text = resources.files("newsbot").joinpath(f"data/{name}").read_text("utf-8")
    statement = ""
    for line in text.splitlines(keepends=True):
        statement += line
        # complete_statement knows trigger bodies: their inner ";" do not end the statement.
        if sqlite3.complete_statement(statement):
            yield statement.strip()
            statement = ""


def _chunks(values: list[_T], size: int = _CHUNK) -> Iterator[list[_T]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _insert_rows(conn: sqlite3.Connection, insert: str, rows: list[tuple], conflict: str = "") -> None:
    """INSERT many rows as one multi-row statement (per chunk), not with executemany: an INSERT that
    fires the FTS trigger runs in a savepoint, and FTS5 writes its pending index out at every
    savepoint, so row-at-a-time inserts into articles would make one index segment per article,
    all to be merged again (about 2.5x slower overall)."""
    if not rows:
        return
    values = "(" + ", ".join("?" * len(rows[0])) + ")"
    for chunk in _chunks(rows):
        conn.execute(f"{insert} VALUES {', '.join([values] * len(chunk))} {conflict}",
                     [value for row in chunk for value in row])


class _Row(NamedTuple):
    """One item as the rows it becomes: the articles columns (ARTICLE_COLUMNS order) and its children."""

    scalars: tuple
    tags: list[tuple]
    images: list[tuple]
    translations: list[tuple]

    @property
    def article_id(self) -> str:
        return self.scalars[0]

    @property
    def site_id(self) -> int | None:
        return self.scalars[_SITE_ID]

    @property
    def crawled_at(self) -> str:
        return self.scalars[_CRAWLED_AT]

    @property
    def content_hash(self) -> str:
        return self.scalars[_CONTENT_HASH]


def as_mapping(item: Any) -> Mapping[str, Any]:
    """An item's fields as a Mapping: ArticleItems and dicts as they are, other item types
    (dataclasses, attrs) through ItemAdapter, which costs ~2.5 µs a field read on a slow CPU."""
    return item if isinstance(item, Mapping) else ItemAdapter(item)


def article_row(item: Any) -> _Row:
    """An item (ArticleItem, dict, any item type) as the rows Store.write_rows stores."""
    get = as_mapping(item).get
    scalars = [get(column) or "" for column in ARTICLE_COLUMNS]
    scalars[_WORD_COUNT] = int(scalars[_WORD_COUNT] or 0)
    site_id = get("site_id")  # an INTEGER or NULL, never '' (0 is not an id either)
    scalars[_SITE_ID] = int(site_id) if site_id not in (None, "", 0) else None
    if not scalars[_CRAWLED_AT]:  # an item that lost its crawled_at was still crawled now
        scalars[_CRAWLED_AT] = utc_now_iso()
    aid = scalars[0]
    return _Row(
        tuple(scalars),
        [(aid, i, tag) for i, tag in enumerate(get("tags") or ())],
        [(aid, i, im.get("url") or "", im.get("caption") or "") for i, im in enumerate(get("images") or ())],
        [(aid, t.get("language") or "", t.get("url") or "", t.get("title") or "") for t in get("translations") or ()],
    )


def _article_dict(row: tuple) -> dict[str, Any]:
    article = dict(zip(ITEM_FIELDS, row))
    for field in LIST_FIELDS:
        article[field] = json.loads(article[field])
    return article


class _Checkpointer:
    """Copies the WAL back into the database on a thread and connection of its own.

    A checkpoint ends in fsyncs; run by the writer (SQLite's autocheckpoint) it stalls the
    writes for them, about a fifth of the time of a bulk load. PASSIVE never waits for readers
    or writers, so it is safe beside any other process.
    """

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
        conn = sqlite3.connect(_uri(self.path, "rw"), uri=True, timeout=self.timeout, isolation_level=None)
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


class Store:
    """The newsbot SQLite database. Use as a context manager, or call close().

    ``readonly=True`` never creates or migrates; it reads databases of this
    version (and the lookups also older ones) and refuses newer ones.
    """

    def __init__(self, path: str | os.PathLike, timeout: float = 30.0, readonly: bool = False,
                 retries: int = 3, background_checkpoints: bool = False) -> None:
        """background_checkpoints: checkpoint the WAL on a thread of its own (for bulk writers)."""
        self.path = Path(path)
        self.timeout = float(timeout)
        self.readonly = readonly
        self.retries = retries  # write attempts after the first, each after sqlite waited `timeout`
        self._checkpointer: _Checkpointer | None = None
        self._conn = self._open_readonly() if readonly else self._open_writable()
        self.schema_version: int = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if background_checkpoints and not readonly:
            # Autocheckpoint stays on as a backstop, at ~200 MB of WAL, should the thread fall behind.
            self._conn.execute("PRAGMA wal_autocheckpoint = 50000")
            self._checkpointer = _Checkpointer(self.path, self.timeout)

    # --- Opening ---------------------------------------------------------

    def _connect(self, mode: str) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; writes say BEGIN IMMEDIATE themselves.
        conn = sqlite3.connect(_uri(self.path, mode), uri=True, timeout=self.timeout, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _open_readonly(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise StoreError(f"No newsbot database at {self.path}")
        conn = None
        try:
            try:
                conn = self._connect("ro")
                version = conn.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if _error_code(exc) not in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
                    raise
                # A WAL database in a directory this user cannot write, and no writer running (one
                # would have left the -shm file SQLite needs): nothing changes it, so read it as is.
                if conn is not None:
                    conn.close()
                conn = self._connect("ro&immutable=1")
                version = conn.execute("PRAGMA user_version").fetchone()[0]
            self._check_version(conn, version)
            if version == 0:
                raise StoreError(f"{self.path} is empty, not a newsbot database")
        except (StoreError, sqlite3.Error) as exc:
            _abandon(conn, exc, f"Cannot read {self.path}")
        return conn

    def _open_writable(self) -> sqlite3.Connection:
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the directory for the database {self.path}: {exc}") from exc
        # SQLite opens an unwritable file read-only without a word; say so before the first write fails.
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise StoreError(f"The database {self.path} is read-only: newsbot needs to write to it")
        if not os.access(directory, os.W_OK):
            raise StoreError(f"The directory {directory} is not writable: newsbot needs it for "
                             f"{self.path.name} and its -wal and -shm files")
        conn = None
        try:
            conn = self._connect("rwc")
            # WAL: readers never block the writer and the writer never blocks readers.
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                logger.warning("%s: SQLite refused WAL mode (journal_mode=%s); concurrent access will wait more",
                               self.path, mode)
            # NORMAL is safe in WAL mode: a killed process loses nothing committed, a power cut at
            # most the commits since the last checkpoint, and the file is never corrupted.
            conn.execute("PRAGMA synchronous = NORMAL")
            # Checkpoint every ~40 MB of WAL rather than every 4 MB: a batch with its FTS pages is
            # ~1 MB, and each checkpoint copies pages back and fsyncs.
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
            conn.execute("PRAGMA journal_size_limit = 67108864")
            # 16 MiB of page cache instead of 2: the indexes and the FTS segments being merged stay
            # in memory instead of being read back from the OS (~13% less CPU per article).
            conn.execute("PRAGMA cache_size = -16384")
            self._conn = conn
            self._migrate()
        except (StoreError, sqlite3.Error) as exc:
            _abandon(conn, exc, f"Cannot open {self.path} for writing")
        return conn

    def _check_version(self, conn: sqlite3.Connection, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this newsbot understands "
                f"({SCHEMA_VERSION}); upgrade newsbot to use it")
        if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise StoreError(f"{self.path} is not a newsbot database (it has tables but no schema version)")

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        self._check_version(self._conn, version)
        if version == SCHEMA_VERSION:
            return

        def run_scripts(conn: sqlite3.Connection) -> int:
            # Read again under the write lock: another process may have migrated meanwhile.
            start = conn.execute("PRAGMA user_version").fetchone()[0]
            self._check_version(conn, start)
            for target in range(start + 1, SCHEMA_VERSION + 1):
                for statement in _script_statements(_SCRIPTS[target]):
                    conn.execute(statement)
            return start

        start = self._write(run_scripts)
        if start:
            logger.info("Migrated %s from schema version %d to %d", self.path, start, SCHEMA_VERSION)

    def _require_current(self) -> None:
        if self.schema_version != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {self.schema_version}; open it read-write once "
                f"(any crawl does) to migrate it to version {SCHEMA_VERSION}")

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- Writing -----------------------------------------------------------

    def _write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run work(conn) in one BEGIN IMMEDIATE transaction, retrying with backoff while another
        process holds the write lock (sqlite itself already waited `timeout` seconds each time)."""
        conn = self._conn
        for attempt in range(self.retries + 1):
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(conn)
                    conn.execute("COMMIT")
                    if self._checkpointer is not None:
                        self._checkpointer.request()
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                return result
            except sqlite3.OperationalError as exc:
                if _error_code(exc) in (_SQLITE_FULL, _SQLITE_IOERR):  # the transaction was rolled back
                    raise StoreWriteError(f"{self.path}: {exc}") from exc
                if _error_code(exc) not in (_SQLITE_BUSY, _SQLITE_LOCKED):
                    raise
                if attempt == self.retries:
                    raise StoreBusyError(
                        f"{self.path} stayed locked by another writer: gave up after {attempt + 1} attempts "
                        f"of {self.timeout:g}s each ({exc})") from exc
                # A short timeout (tests, interactive tools) backs off briefly too.
                delay = min(min(self.timeout, 0.5) * 2 ** attempt, _MAX_BACKOFF)
                logger.warning("%s is locked by another writer (%s); retrying in %.1fs", self.path, exc, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def write(self, items: Iterable[Any]) -> WriteResult:
        """Store articles (ArticleItems, dicts, any item type) in one transaction.

        Decided under the write lock against what is stored, so it is right even when another
        process wrote in between: new -> inserted; same content_hash -> only last_crawled_at
        moves; different content_hash and crawled later -> updated, with the previous and new
        content kept in article_revisions; crawled earlier than what is stored -> left alone.
        """
        return self.write_rows(map(article_row, items))

    def write_rows(self, rows: Iterable[_Row]) -> WriteResult:
        """write() of items already made into rows by article_row (which need not hold the store)."""
        newest: dict[str, _Row] = {}
        for row in rows:
            kept = newest.get(row.article_id)
            if kept is None or row.crawled_at >= kept.crawled_at:  # one article twice: the newest crawl wins
                newest[row.article_id] = row
        if not newest:
            return WriteResult()
        return self._write(lambda conn: self._write_rows(conn, list(newest.values())))

    @staticmethod
    def _write_rows(conn: sqlite3.Connection, rows: list[_Row]) -> WriteResult:
        stored: dict[str, tuple[str, str]] = {}  # article_id -> (content_hash, crawled_at)
        for chunk in _chunks([row.article_id for row in rows]):
            stored.update((aid, (h, c)) for aid, h, c in conn.execute(
                "SELECT article_id, content_hash, crawled_at FROM articles "
                f"WHERE article_id IN ({', '.join('?' * len(chunk))})", chunk))
        result = WriteResult()
        to_write: list[_Row] = []
        changed: list[tuple[str]] = []
        touched: list[tuple[str, int | None, str]] = []
        for row in rows:
            previous = stored.get(row.article_id)
            if previous is None:
                result.inserted += 1
                to_write.append(row)
            elif previous[0] == row.content_hash:
                result.unchanged += 1
                touched.append((row.crawled_at, row.site_id, row.article_id))
            elif row.crawled_at >= previous[1]:
                result.updated += 1
                to_write.append(row)
                changed.append((row.article_id,))
            else:
                result.stale += 1
                touched.append((row.crawled_at, row.site_id, row.article_id))

        conn.executemany(_SNAPSHOT_REVISION, changed)
        # first_seen_at and last_crawled_at of a new article are its crawled_at.
        _insert_rows(conn, _INSERT_ARTICLES, [(*r.scalars, r.crawled_at, r.crawled_at) for r in to_write],
                     _UPSERT_ARTICLES)
        conn.executemany(_SNAPSHOT_REVISION, changed)
        for table in _CHILD_COLUMNS:
            conn.executemany(_DELETE_CHILD[table], changed)
            _insert_rows(conn, _INSERT_CHILD[table], [child for r in to_write for child in getattr(r, table)])
        conn.executemany(_TOUCH, touched)
        return result

    def start_run(self, spider: str, arguments: Mapping[str, Any], settings: Mapping[str, Any],
                  job_id: str | None = None, started_at: str | None = None) -> int:
        """Record a crawl run starting; returns its run_id for finish_run()."""
        return self._write(lambda conn: conn.execute(
            "INSERT INTO crawl_runs (spider, started_at, job_id, arguments, settings) VALUES (?, ?, ?, ?, ?)",
            (spider, started_at or utc_now_iso(), job_id,
             json.dumps(arguments, ensure_ascii=False, sort_keys=True, default=str),
             json.dumps(settings, ensure_ascii=False, sort_keys=True, default=str)),
        ).lastrowid)

    def finish_run(self, run_id: int, reason: str, counts: Mapping[str, int | None],
                   stats: Mapping[str, Any] | None = None, finished_at: str | None = None) -> None:
        """Close a crawl run: its finish reason, item counts (keys: scraped, new, updated,
        unchanged, duplicate, dropped) and the crawler's final stats."""
        self._write(lambda conn: conn.execute(
            "UPDATE crawl_runs SET finished_at = ?, finish_reason = ?, items_scraped = ?, items_new = ?, "
            "items_updated = ?, items_unchanged = ?, items_duplicate = ?, items_dropped = ?, stats = ? "
            "WHERE run_id = ?",
            (finished_at or utc_now_iso(), reason, *(counts.get(k) for k in (
                "scraped", "new", "updated", "unchanged", "duplicate", "dropped")),
             json.dumps(stats or {}, ensure_ascii=False, sort_keys=True, default=str), run_id),
        ))

    # --- Reading (each call is its own read: it sees what other processes committed) ---

    def lookup(self, urls: list[str]) -> dict[str, StoredArticle]:
        """The stored articles among `urls`, keyed by the URL as given (matched canonically)."""
        wanted: dict[str, list[str]] = {}
        for url in urls:
            wanted.setdefault(canonical_url(url), []).append(url)
        found: dict[str, StoredArticle] = {}
        for chunk in _chunks(list(wanted)):
            for row in self._conn.execute(
                "SELECT url, article_id, title, published_at, content_hash FROM articles "
                f"WHERE url IN ({', '.join('?' * len(chunk))})", chunk):
                article = StoredArticle(*row)
                for given in wanted[article.url]:
                    found[given] = article
        return found

    def count_articles(self) -> int:
        return self._conn.execute("SELECT count(*) FROM articles").fetchone()[0]

    def stored_hash(self, article_id: str) -> str | None:
        """The content_hash stored for an article, or None if it is not stored."""
        row = self._conn.execute("SELECT content_hash FROM articles WHERE article_id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def iter_articles(self, *, since: date | None = None, until: date | None = None,
                      languages: Iterable[str] = (), category: str | None = None,
                      story: str | None = None) -> Iterator[dict[str, Any]]:
        """Articles in the item's shape (ITEM_FIELDS order, lists as lists), oldest first.
        since/until are Baku dates, both inclusive; articles without a date only match no date filter."""
        self._require_current()
        where, params = [], []
        if since:
            where.append("published_at >= ?")
            params.append(since.isoformat())
        if until:
            where.append("published_at < ?")
            params.append((until + timedelta(days=1)).isoformat())
        if since or until:
            where.append("published_at != ''")
        languages = list(languages)
        if languages:
            where.append(f"language IN ({', '.join('?' * len(languages))})")
            params.extend(languages)
        if category:
            where.append("category_slug = ?")
            params.append(category)
        if story:
            where.append("story_id = ?")
            params.append(story)
        sql = f"SELECT {', '.join(ITEM_FIELDS)} FROM article_view"
        if where:
            sql += " WHERE " + " AND ".join(where)
        # Not a generator function: the checks above and the query run now, not at the first next().
        cursor = self._conn.execute(sql + " ORDER BY published_at, url", params)
        return (_article_dict(row) for row in cursor)

    def count_by(self, by: str) -> list[tuple[str, int]]:
        """(key, articles) per Baku publication day, edition (language) or category slug."""
        self._require_current()
        key = _COUNT_BY[by]  # a fixed expression, never user text
        return self._conn.execute(
            f"SELECT {key} AS key, count(*) FROM articles GROUP BY key ORDER BY key").fetchall()

    def fill_rates(self) -> dict[str, float]:
        """Per item field, the share of articles where it is non-empty (word_count: > 0, site_id: not NULL)."""
        self._require_current()
        expressions = []
        for field in ITEM_FIELDS:
            if field in LIST_FIELDS:
                expressions.append(f"sum(EXISTS (SELECT 1 FROM {field} AS c WHERE c.article_id = a.article_id))")
            elif field == "word_count":
                expressions.append("sum(word_count > 0)")
            elif field == "site_id":
                expressions.append("sum(site_id IS NOT NULL)")
            else:
                expressions.append(f"sum({field} != '')")
        total, *filled = self._conn.execute(
            f"SELECT count(*), {', '.join(expressions)} FROM articles AS a").fetchone()
        return {field: (count or 0) / total if total else 0.0 for field, count in zip(ITEM_FIELDS, filled)}

    def count_stories(self) -> int:
        self._require_current()
        return self._conn.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone()[0]

    def complete_run_stats(self, spider: str, keys: Iterable[str], *, min_pages: int,
                           limit: int = 10) -> list[dict[str, Any]]:
        """The stats named by `keys` (those recorded) of the last `limit` complete runs of `spider`
        (finish_reason 'finished') whose stats say they saw at least `min_pages` article pages
        (newsbot/article_pages), newest first; crawl health's history."""
        if self.schema_version < 2:  # crawl_runs.stats came with version 2
            return []
        keys = list(keys)
        # Keys hold slashes: quoted JSON paths. The run being recorded has no finish_reason yet.
        rows = self._conn.execute(
            "SELECT stats FROM crawl_runs WHERE spider = ? AND finish_reason = 'finished' AND stats IS NOT NULL "
            "AND json_valid(stats) AND json_extract(stats, '$.\"newsbot/article_pages\"') >= ? "
            "ORDER BY run_id DESC LIMIT ?", (spider, min_pages, limit)).fetchall()
        runs = []
        for (text,) in rows:
            stats = json.loads(text)
            runs.append({key: stats[key] for key in keys if key in stats})
        return runs

    def search(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Full-text search over title and body (FTS5 query syntax), best match first."""
        self._require_current()
        cursor = self._conn.execute(
            "SELECT a.article_id, a.url, a.language, a.title, "
            "snippet(articles_fts, 1, '[', ']', '…', 12) AS snippet "
            "FROM articles_fts JOIN articles AS a ON a.id = articles_fts.rowid "
            "WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?", (query, limit))
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row)) for row in cursor]

    def coverage(self, spider: str, language: str) -> tuple[str, str] | None:
        """(oldest, newest) of the feed stretch an earlier complete run of `spider` stored, if any."""
        if self.schema_version < 2:  # feed_coverage came with v2: no run has recorded any
            return None
        row = self._conn.execute("SELECT oldest, newest FROM feed_coverage WHERE spider = ? AND language = ?",
                                 (spider, language)).fetchone()
        return (row[0], row[1]) if row else None

    def record_coverage(self, spider: str, language: str, oldest: str, newest: str) -> None:
        """Replace the feed stretch recorded for `spider` and `language` (the spider merges ranges itself)."""
        self._write(lambda conn: conn.execute(
            "INSERT INTO feed_coverage (spider, language, oldest, newest, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (spider, language) DO UPDATE SET oldest = excluded.oldest, newest = excluded.newest, "
            "updated_at = excluded.updated_at", (spider, language, oldest, newest, utc_now_iso())))

    # --- Merging -----------------------------------------------------------

    def merge_from(self, other_path: str | os.PathLike) -> MergeResult:
        """Copy another store's articles, with their tags, images, translations and revisions.

        An article only there is added; one in both keeps the content of the crawl that saw it
        last, and the revision histories are united by content_hash (so nothing is duplicated and
        merging twice changes nothing). A shard of an older schema (from _MERGE_MIN_VERSION) is
        read as it is, never migrated: what it lacks (v2: site_id) is NULL for the articles it
        adds and left as it was for those in both. A site_id is never replaced by a NULL.
        """
        if self.readonly:
            raise StoreError(f"{self.path} is open read-only")
        other = Path(other_path)
        if other.exists() and other.resolve() == self.path.resolve():
            raise StoreError("Cannot merge a database into itself")
        with Store(other, timeout=self.timeout, readonly=True) as source:
            if source.schema_version < _MERGE_MIN_VERSION:
                raise StoreError(f"{other} has schema version {source.schema_version}; open it read-write "
                                 f"once to migrate it to {SCHEMA_VERSION} before merging")
        # ATTACH is not allowed inside a transaction, so it wraps the write.
        self._conn.execute("ATTACH DATABASE ? AS src", (_uri(other, "ro"),))
        try:
            return self._write(self._merge_attached)
        finally:
            self._conn.execute("DETACH DATABASE src")

    def _merge_attached(self, conn: sqlite3.Connection) -> MergeResult:
        result = MergeResult()
        new, same, diverged = [], [], []
        for aid, present, identical in conn.execute(
            "SELECT s.article_id, m.article_id IS NOT NULL, "
            "       m.content_hash = s.content_hash AND m.revision = 1 AND s.revision = 1 "
            "FROM src.articles AS s LEFT JOIN main.articles AS m USING (article_id)"):
            (diverged if present and not identical else same if present else new).append((aid,))

        # The source's columns: an older shard lacks those later versions added (v2: articles.site_id).
        src_articles = {name for _, name, *_ in conn.execute("PRAGMA src.table_info(articles)")}
        conn.execute("CREATE TEMP TABLE merge_ids (article_id TEXT PRIMARY KEY)")
        try:
            conn.executemany("INSERT INTO temp.merge_ids VALUES (?)", new)
            for table, columns in (("articles", _ALL_ARTICLE_COLUMNS), ("article_revisions", _REVISION_COLUMNS),
                                   *_CHILD_COLUMNS.items()):
                if table == "articles":  # the columns it lacks take their default (site_id: NULL)
                    columns = [c for c in columns if c in src_articles]
                names = ", ".join(columns)
                conn.execute(f"INSERT INTO main.{table} ({names}) SELECT {names} FROM src.{table} "
                             "WHERE article_id IN (SELECT article_id FROM temp.merge_ids)")
            result.added = len(new)

            conn.execute("DELETE FROM temp.merge_ids")
            conn.executemany("INSERT INTO temp.merge_ids VALUES (?)", same)
            fill_site_id = ("site_id = coalesce(main.articles.site_id, s.site_id), "
                            if "site_id" in src_articles else "")
            conn.execute(
                f"UPDATE main.articles SET {fill_site_id}"
                "first_seen_at = min(main.articles.first_seen_at, s.first_seen_at), "
                "last_crawled_at = max(main.articles.last_crawled_at, s.last_crawled_at) "
                "FROM src.articles AS s WHERE s.article_id = main.articles.article_id "
                "AND s.article_id IN (SELECT article_id FROM temp.merge_ids)")
            result.unchanged = len(same)
        finally:
            conn.execute("DROP TABLE temp.merge_ids")

        for (aid,) in diverged:
            if self._merge_article(conn, aid, src_articles):
                result.updated += 1
            else:
                result.unchanged += 1
        return result

    @staticmethod
    def _merge_article(conn: sqlite3.Connection, aid: str, src_articles: set[str]) -> bool:
        """Unite one article's histories from both stores; True if the local copy changed.
        src_articles: the columns src.articles has."""
        def state(schema: str) -> tuple[tuple, list[tuple]]:
            current = conn.execute(
                f"SELECT content_hash, last_crawled_at, first_seen_at, revision, title, body, crawled_at "
                f"FROM {schema}.articles WHERE article_id = ?", (aid,)).fetchone()
            history = conn.execute(
                f"SELECT content_hash, title, body, crawled_at FROM {schema}.article_revisions "
                "WHERE article_id = ? ORDER BY revision", (aid,)).fetchall()
            return current, history or [(current[0], current[4], current[5], current[6])]

        (mine, my_history), (theirs, their_history) = state("main"), state("src")
        take_theirs = theirs[0] != mine[0] and theirs[1] > mine[1]
        current_hash = theirs[0] if take_theirs else mine[0]
        versions: dict[str, tuple] = {}
        for version in sorted(my_history + their_history, key=lambda v: v[3]):
            versions.setdefault(version[0], version)  # the first crawl that saw each content
        history = [v for h, v in versions.items() if h != current_hash] + [versions[current_hash]]

        if take_theirs:  # (a column an older shard lacks keeps the local value)
            columns = [c for c in ARTICLE_COLUMNS if c != "article_id" and c in src_articles]
            values = ["coalesce(s.site_id, main.articles.site_id)" if c == "site_id" else f"s.{c}" for c in columns]
            conn.execute(f"UPDATE main.articles SET ({', '.join(columns)}) = "
                         f"(SELECT {', '.join(values)} FROM src.articles AS s WHERE s.article_id = ?) "
                         "WHERE article_id = ?", (aid, aid))
            for table, child_columns in _CHILD_COLUMNS.items():
                names = ", ".join(child_columns)
                conn.execute(f"DELETE FROM main.{table} WHERE article_id = ?", (aid,))
                conn.execute(f"INSERT INTO main.{table} ({names}) SELECT {names} FROM src.{table} "
                             "WHERE article_id = ?", (aid,))
        elif "site_id" in src_articles:  # keeping ours: fill in a site_id only theirs knows
            conn.execute("UPDATE main.articles SET site_id = coalesce(site_id, "
                         "(SELECT s.site_id FROM src.articles AS s WHERE s.article_id = ?)) WHERE article_id = ?",
                         (aid, aid))
        conn.execute("DELETE FROM main.article_revisions WHERE article_id = ?", (aid,))
        if len(history) > 1:
            conn.executemany(
                f"INSERT INTO main.article_revisions ({', '.join(_REVISION_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
                [(aid, number, h, title, body, crawled_at)
                 for number, (h, title, body, crawled_at) in enumerate(history, start=1)])
        conn.execute(
            "UPDATE main.articles SET revision = ?, first_seen_at = min(first_seen_at, ?), "
            "last_crawled_at = max(last_crawled_at, ?) WHERE article_id = ?",
            (len(history), theirs[2], theirs[1], aid))
        return take_theirs or len(history) != mine[3]
