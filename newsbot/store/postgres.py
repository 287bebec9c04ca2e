"""The store on PostgreSQL (NEWSBOT_DB=postgresql://…): connections through psycopg 3, the server's errors
as StoreErrors, write transactions, versioned migrations (newsbot/data/pg_*.sql) and the SQL that
differs from SQLite's (docs/schema.md, "PostgreSQL"). The statements both run live with the code that
uses them, written with SQLite's ``?`` placeholders, which the connection here turns into psycopg's.

Every write transaction first takes one transaction-scoped advisory lock, so writers from every node
take turns as SQLite's BEGIN IMMEDIATE makes them: each batch is decided against what is stored, and a
story merge (which rewrites rows found by walking the graph, so no row lock can be taken before it
starts) never interleaves with another. A retried serializable transaction would redo whole batches
whenever two nodes touch one story; a batch's transaction is short beside the crawl that fills it."""

from __future__ import annotations

import itertools
import logging
import re
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from functools import lru_cache
from importlib import resources
from typing import Any, TypeVar

from newsbot.store import summaries
from newsbot.store.connection import StoreBusyError, StoreError, StoreWriteError

logger = logging.getLogger("newsbot.store")

_T = TypeVar("_T")

SCHEMA_VERSION = 3
_SCRIPTS = {1: "pg_schema_v1.sql", 2: "pg_migrate_v1_v2.sql", 3: "pg_migrate_v2_v3.sql"}
# Run after a version's script in the same transaction, as newsbot.store.schema's.
_STEPS: dict[int, Callable[[Connection], None]] = {3: summaries.build}
# Any number no other application on the server would choose: the write lock of every newsbot store
# in this database.
_WRITE_LOCK = 0x6E657773626F74
INSTALL_HINT = "pip install 'newsbot[postgres]'"
_STREAMS = itertools.count()  # names of server-side cursors, unique within the process


def is_url(db: object) -> bool:
    return str(db).startswith(("postgresql://", "postgres://"))


# A URL's password (user:password@, up to the last "@": a password may hold "/" or "@" unencoded) and a
# password= parameter: for logs, messages, recorded settings.
_PASSWORDS = re.compile(r"(\w+://[^/@\s:]*:)(\S*)@|(\bpassword=)([^&\s]*)")


def redact(text: str) -> str:
    """A URL, or a message quoting one (psycopg's may), without its password."""
    return _PASSWORDS.sub(lambda m: f"{m[1]}***@" if m[1] else f"{m[3]}***", text)


def _without_passwords(message: str, url: str) -> str:
    """libpq's message about `url` without its passwords: one it cannot decode it quotes alone."""
    for match in _PASSWORDS.finditer(url):
        if secret := match[2] or match[4]:
            message = message.replace(secret, "***")
    return message


@lru_cache(maxsize=512)
def _placeholders(sql: str) -> str:
    # newsbot's SQL has no "?" or "%" of its own outside placeholders but LIKE patterns' "%".
    return sql.replace("%", "%%").replace("?", "%s")


def _line(exc: BaseException) -> str:
    """psycopg's message on one line (the server's hints follow on others)."""
    text = str(exc).strip()
    return redact(re.sub(r"\s+", " ", text.splitlines()[0] if text else type(exc).__name__))


class Connection:
    """A psycopg connection that takes newsbot's SQL as sqlite3 does: ``?`` placeholders, execute()
    and executemany() returning a cursor. Autocommit: each read is its own, writes run in Backend.write.
    A lost server is a StoreError, as a locked or missing SQLite file is."""

    def __init__(self, reopen: Callable[[], Any], name: str) -> None:
        import psycopg

        self._reopen = reopen  # a new psycopg connection, or StoreError
        self.raw = reopen()
        self.name = name
        self._lost = psycopg.OperationalError
        self._idle = psycopg.pq.TransactionStatus.IDLE

    def reopened(self) -> Connection:
        """This connection, on a new psycopg connection if the server dropped the old one."""
        if self.raw.closed or self.raw.broken:
            self.raw = self._reopen()
        return self

    def _unreachable(self, exc: Exception) -> None:
        if self.raw.broken or self.raw.closed:
            raise StoreError(f"{self.name} is unreachable: {_line(exc)}") from None

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        params = tuple(params)
        idle = self.raw.info.transaction_status == self._idle
        try:
            return self.raw.execute(_placeholders(sql), params) if params else self.raw.execute(sql)
        except self._lost as exc:
            if not (idle and self.raw.broken):
                self._unreachable(exc)
                if idle:  # a read the server refused (a statement_timeout, a cancel): one line too
                    raise StoreError(f"{self.name}: {_line(exc)}") from None
                raise  # in a write transaction: Backend.write tells a lock timeout from the rest
        # A read outside any transaction on a connection the server dropped while idle: opened again, once.
        self.raw = self._reopen()
        try:
            return self.raw.execute(_placeholders(sql), params) if params else self.raw.execute(sql)
        except self._lost as exc:
            self._unreachable(exc)
            raise

    def stream(self, sql: str, params: Iterable[Any] = ()) -> Iterator[tuple]:
        """The rows of a query, fetched a batch at a time through a server-side cursor (WITH HOLD, as
        reads are outside transactions), so an export of any size holds one batch in memory."""
        cursor = self.raw.cursor(name=f"newsbot_stream_{next(_STREAMS)}", withhold=True)
        cursor.itersize = 2000
        try:
            cursor.execute(_placeholders(sql), tuple(params))
        except BaseException:
            cursor.close()
            raise
        return self._rows(cursor)

    @staticmethod
    def _rows(cursor: Any) -> Iterator[tuple]:
        with cursor:
            yield from cursor

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> Any:
        cursor = self.raw.cursor()
        if isinstance(rows, list) and not rows:  # a round trip saved
            return cursor
        try:
            cursor.executemany(_placeholders(sql), rows)
        except self._lost as exc:
            self._unreachable(exc)
            raise
        return cursor

    def select_in(self, sql: str, values: Iterable[object]) -> Iterator[tuple]:
        """The rows of `sql`, whose `IN ({})` becomes one `= ANY(array)` of all `values`: one statement
        psycopg prepares once, where a list of placeholders would be parsed again each time."""
        values = list(values)
        return iter(self.execute(sql.replace("IN ({})", "= ANY(?)"), (values,)) if values else ())

    def insert_rows(self, table: str, columns: Sequence[str], rows: list[tuple], conflict: str = "") -> None:
        """COPY the rows in, through a temporary table when there is a conflict clause to apply: COPY
        costs the client a fraction of a multi-row INSERT's parameters."""
        if not rows:
            return
        names = ", ".join(columns)
        target = f"incoming_{table}" if conflict else table
        if conflict:
            self.execute(f"CREATE TEMP TABLE IF NOT EXISTS {target} (LIKE {table} INCLUDING DEFAULTS)")
        with self.raw.cursor().copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if conflict:
            self.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {target} {conflict}")
            self.execute(f"TRUNCATE {target}")

    def close(self) -> None:
        self.raw.close()


class Backend:
    """A newsbot database on a PostgreSQL server, as newsbot.store.Store uses it."""

    kind = "postgresql"
    SCHEMA_VERSION = SCHEMA_VERSION

    def __init__(self, url: str, timeout: float, readonly: bool, retries: int) -> None:
        try:
            import psycopg
        except ImportError:
            raise StoreError(f"{redact(url)} is a PostgreSQL URL, which needs psycopg: {INSTALL_HINT}") from None
        self._psycopg = psycopg
        self.url = url
        self.name = redact(url)
        self.path = None
        self.timeout = timeout
        self.readonly = readonly
        self.retries = retries
        self.conn = Connection(self._open, self.name)
        try:
            if readonly:
                self.schema_version = self._version()
                self._check_version(self.schema_version)
                if self.schema_version == 0:
                    raise StoreError(f"{self.name} is empty, not a newsbot database")
            else:
                self._migrate()
                self.schema_version = SCHEMA_VERSION
        except BaseException:
            self.conn.close()
            raise

    def _open(self) -> Any:
        psycopg = self._psycopg
        try:
            raw = psycopg.connect(self.url, autocommit=True, application_name="newsbot",
                                  connect_timeout=max(2, min(int(self.timeout), 30)))
        except psycopg.ProgrammingError as exc:  # the URL itself does not parse
            raise StoreError(f"Invalid PostgreSQL URL {self.name}: "
                             f"{_without_passwords(_line(exc), self.url)}") from None
        except psycopg.Error as exc:
            raise StoreError(f"Cannot connect to PostgreSQL at {self.name}: {_line(exc)}") from None
        try:
            # A writer waits this long for another node's write lock before a retry (StoreBusyError at last).
            # At least a millisecond: 0 would mean waiting for ever, where SQLite's 0 means not at all.
            raw.execute(f"SET lock_timeout = {max(1, int(self.timeout * 1000))}")
            if self.readonly:
                raw.execute("SET default_transaction_read_only = on")
        except psycopg.Error as exc:
            raw.close()
            raise StoreError(f"Cannot use PostgreSQL at {self.name}: {_line(exc)}") from None
        return raw

    def close(self) -> None:
        self.conn.close()

    def journal_key(self, path: str) -> str:
        """Several nodes write one database, each its own files: a journal's key names its host."""
        return f"{socket.gethostname()}:{path}"

    def journal_path(self, key: str) -> str | None:
        """The file a journal key names on this host, None for another node's."""
        host, _, path = key.partition(":")
        return path if host == socket.gethostname() else None

    # --- schema ---

    def _version(self) -> int:
        if self.conn.execute("SELECT to_regclass('newsbot_schema')").fetchone()[0] is None:
            return 0
        row = self.conn.execute("SELECT version FROM newsbot_schema").fetchone()
        return row[0] if row else 0

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.name} has schema version {version}, newer than this newsbot understands "
                             f"({SCHEMA_VERSION}); upgrade newsbot to use it")
        if version == 0 and self.conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()[0]:
            raise StoreError(f"{self.name} is not a newsbot database (it has tables but no newsbot_schema)")

    def _migrate(self) -> None:
        if self._version() == SCHEMA_VERSION:
            return

        def run_scripts(conn: Connection) -> int:
            start = self._version()  # again under the write lock: another node may have migrated meanwhile
            self._check_version(start)
            for target in range(start + 1, SCHEMA_VERSION + 1):
                script = resources.files("newsbot").joinpath(f"data/{_SCRIPTS[target]}").read_text("utf-8")
                try:
                    conn.execute(script)
                except (self._psycopg.errors.UndefinedFile, self._psycopg.errors.FeatureNotSupported) as exc:
                    raise StoreError(f"{self.name}: the server lacks the unaccent extension (Debian's "
                                     f"postgresql package has it): {_line(exc)}") from None
                if target in _STEPS:
                    _STEPS[target](conn)
            conn.execute("CREATE TABLE IF NOT EXISTS newsbot_schema (version INTEGER NOT NULL)")
            conn.execute("DELETE FROM newsbot_schema")
            conn.execute("INSERT INTO newsbot_schema (version) VALUES (?)", (SCHEMA_VERSION,))
            return start

        try:
            start = self.write(run_scripts)
        except self._psycopg.errors.InsufficientPrivilege as exc:
            raise StoreError(f"{self.name}: the user may not create newsbot's tables or the unaccent extension "
                             f"(a database owner may): {_line(exc)}") from None
        except self._psycopg.Error as exc:
            raise StoreError(f"{self.name}: cannot create newsbot's schema: {_line(exc)}") from None
        if start:
            logger.info("Migrated %s from schema version %d to %d", self.name, start, SCHEMA_VERSION)

    # --- transactions ---

    def _locked(self, work: Callable[[Connection], _T]) -> _T:
        """work(conn) in one transaction that first takes the write lock. A connection the server dropped
        while it sat idle (a restart, idle_session_timeout, a proxy) fails at BEGIN: opened again, once."""
        for reopen in (True, False):
            conn = self.connection()
            started = False
            try:
                with conn.raw.transaction():
                    conn.raw.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
                    started = True
                    return work(conn)
            except self._psycopg.OperationalError:
                if started or not reopen or not conn.raw.broken:
                    raise
        raise AssertionError("unreachable")

    def connection(self) -> Connection:
        """The connection, opened again if the server dropped it (a restart): StoreError while it is down."""
        return self.conn.reopened()

    def write(self, work: Callable[[Connection], _T]) -> _T:
        """work(conn) in one transaction under the write lock, retried (`retries` times) while another
        writer holds the lock beyond the timeout or the server chose this one as a deadlock's victim."""
        psycopg = self._psycopg
        errors = psycopg.errors
        for attempt in range(self.retries + 1):
            try:
                return self._locked(work)
            except (errors.LockNotAvailable, errors.DeadlockDetected, errors.SerializationFailure) as exc:
                if attempt == self.retries:
                    raise StoreBusyError(f"{self.name} stayed locked by another writer: gave up after "
                                         f"{attempt + 1} attempts of {self.timeout:g}s each ({_line(exc)})") from None
                delay = min(min(self.timeout, 0.5) * 2 ** attempt, 8.0)
                logger.warning("%s is locked by another writer (%s); retrying in %.1fs", self.name, _line(exc), delay)
                time.sleep(delay)
            except (errors.DiskFull, errors.IoError, errors.OutOfMemory) as exc:
                raise StoreWriteError(f"{self.name}: {_line(exc)}") from None
            except psycopg.OperationalError as exc:  # the server went away, or refuses connections
                raise StoreError(f"{self.name} is unreachable: {_line(exc)}") from None
        raise AssertionError("unreachable")

    # --- SQL that differs from SQLite's ---

    @staticmethod
    def seconds_between(start: str, end: str) -> str:
        return f"extract(epoch FROM ({end}::timestamptz - {start}::timestamptz))::float8"

    @staticmethod
    def utf8(column: str) -> str:
        return f"convert_to({column}, 'UTF8')"

    @staticmethod
    def stat(key: str) -> str:
        """A crawl run's stat, by key, as a whole number (stats are JSON text; the ones read are counts)."""
        return f"round((stats::jsonb ->> '{key}')::numeric)::bigint"

    def search(self, query: str, limit: int) -> list[tuple]:
        """(article_id, url, language, title, snippet), best match first: web-search syntax (words,
        "a phrase", -word, or), folded as the index is."""
        return self.conn.execute(
            "SELECT a.article_id, a.url, a.language, a.title, "
            "ts_headline('simple', a.body, q, 'StartSel=[, StopSel=], MaxWords=12, MinWords=6, "
            "FragmentDelimiter=…, MaxFragments=1') AS snippet "
            "FROM articles AS a, websearch_to_tsquery('simple', newsbot_fold(?)) AS q "
            "WHERE newsbot_document(a.title, a.body) @@ q "
            "ORDER BY ts_rank(newsbot_document(a.title, a.body), q) DESC, a.id LIMIT ?", (query, limit)).fetchall()

    def merge(self, shard: Any, tables: tuple[str, ...], work: Callable[[Connection], _T]) -> _T:
        """work(conn) in one write transaction with the shard's `tables` loaded as the schema ``src``,
        which the same transaction drops again (so a merge that fails leaves none behind)."""
        def loaded(conn: Connection) -> _T:
            try:
                conn.execute("CREATE SCHEMA src")
            except self._psycopg.errors.DuplicateSchema:
                raise StoreError(f"{self.name} has a schema named src, which merging needs for itself") from None
            for name in tables:
                conn.execute(f"CREATE TABLE src.{name} (LIKE {name} INCLUDING DEFAULTS INCLUDING INDEXES)")
            with closing(shard.tables(tables)) as rows:
                self.load(conn, rows, schema="src.")
            result = work(conn)
            conn.execute("DROP SCHEMA src CASCADE")
            return result
        return self.write(loaded)

    @staticmethod
    def load(conn: Connection, tables: Iterable[tuple[str, list[str], Iterator[tuple]]], schema: str = "") -> None:
        """COPY every table's rows (tables()'s) in, inside the caller's write transaction."""
        for name, columns, rows in tables:
            with conn.raw.cursor().copy(f"COPY {schema}{name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def tables(self, names: Iterable[str]) -> Iterator[tuple[str, list[str], Iterator[tuple]]]:
        """(table, its columns, its rows) for each of `names`, all read in one snapshot of the database."""
        raw = self.conn.raw
        with raw.transaction():
            raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            for name in names:
                with raw.cursor(name=f"newsbot_{name}") as cursor:
                    cursor.itersize = 2000
                    cursor.execute(f"SELECT * FROM {name}")
                    yield name, [c.name for c in cursor.description], iter(cursor)
