"""The schema version and its migrations: the packaged scripts newsbot/data/*.sql, run in order."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

from newsbot.store import identity, summaries
from newsbot.store.connection import StoreError, transaction

logger = logging.getLogger("newsbot.store")

SCHEMA_VERSION = 9
# The script that brings a database from version v-1 to v. A new database runs
# them all, so a fresh file and a migrated one are the same by construction.
_SCRIPTS = {1: "schema_v1.sql", **{v: f"migrate_v{v - 1}_v{v}.sql" for v in range(2, SCHEMA_VERSION + 1)}}
# What SQL alone cannot do, run after a version's script in the same transaction (v4 re-keys
# ids with the hash newsbot.normalize computes; v8 fills the summaries its triggers keep from then on).
_STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {4: identity.migrate_v4, 7: identity.migrate_v7,
                                                           8: summaries.build}


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


def version_of(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def check_version(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """Refuse a newer schema, and a database with tables but no schema version."""
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version}, newer than this newsbot understands "
            f"({SCHEMA_VERSION}); upgrade newsbot to use it")
    if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise StoreError(f"{path} is not a newsbot database (it has tables but no schema version)")


def check_readable(conn: sqlite3.Connection, path: Path) -> None:
    """What a read-only store accepts: a newsbot database of this version or an older one."""
    version = version_of(conn)
    check_version(conn, path, version)
    if version == 0:
        raise StoreError(f"{path} is empty, not a newsbot database")


def migrate(conn: sqlite3.Connection, path: Path, timeout: float, retries: int) -> None:
    """Bring the database to SCHEMA_VERSION, in one write transaction (connection.transaction's arguments)."""
    version = version_of(conn)
    check_version(conn, path, version)
    if version == SCHEMA_VERSION:
        return

    def run_scripts(conn: sqlite3.Connection) -> int:
        # Read again under the write lock: another process may have migrated meanwhile.
        start = version_of(conn)
        check_version(conn, path, start)
        for target in range(start + 1, SCHEMA_VERSION + 1):
            if start:  # a store with articles, maybe many: say where a long migration is
                logger.info("Migrating %s to schema version %d", path, target)
            for statement in _script_statements(_SCRIPTS[target]):
                conn.execute(statement)
            if target in _STEPS:
                _STEPS[target](conn)
        broken = conn.execute("PRAGMA foreign_key_check").fetchone()
        if broken:
            raise StoreError(f"{path}: migrating left a row of {broken[0]} without its {broken[2]} row")
        return start

    # Off around the whole transaction (SQLite ignores the pragma inside one), as SQLite's recipe for
    # remaking a table says: dropping the old one would otherwise delete its child rows (v7).
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        start = transaction(conn, run_scripts, path=path, timeout=timeout, retries=retries)
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    if start:
        logger.info("Migrated %s from schema version %d to %d", path, start, SCHEMA_VERSION)

