"""The SQLite store: schema, migrations and every SQL statement newsbot runs.

One file, readable by anything that reads SQLite (sqlite3 shell, pandas,
Datasette): no custom functions, plain tables, an FTS5 index kept in sync by
triggers, and views for analysts. docs/schema.md describes it.

Callers use the ``Store`` façade; behind it, one module per concern:

- ``connection``: opening read-only / writable connections, SQLite's errors as
  StoreErrors, write transactions retried with backoff, the WAL checkpointer;
- ``schema``: the schema version and the migration scripts (newsbot/data/*.sql);
- ``articles``: items as rows, and writing them (``decide``: new, updated,
  unchanged or stale);
- ``queries``: the read-only queries;
- ``runs``: crawl runs and feed coverage;
- ``merge``: merging another store (a shard) into this one.

SQL lives only in this package and in newsbot/data/*.sql.

Concurrency: Scrapyd runs jobs in parallel, so several processes may write the
same file. Every write is one ``BEGIN IMMEDIATE`` transaction (the write lock is
taken up front, so two writers never deadlock upgrading a read lock), decided
against what is stored *inside* that transaction, and retried with backoff
while another writer holds the lock. WAL mode lets readers carry on meanwhile.
"""

from newsbot.store.articles import (
    ARTICLE_COLUMNS,
    EXPORT_FIELDS,
    ITEM_FIELDS,
    LIST_FIELDS,
    Outcome,
    WriteResult,
    article_row,
    as_mapping,
    decide,
)
from newsbot.store.connection import StoreBusyError, StoreError, StoreWriteError
from newsbot.store.facade import Store
from newsbot.store.merge import MergeResult
from newsbot.store.queries import StoredArticle
from newsbot.store.schema import SCHEMA_VERSION

__all__ = [
    "ARTICLE_COLUMNS", "EXPORT_FIELDS", "ITEM_FIELDS", "LIST_FIELDS", "SCHEMA_VERSION",
    "MergeResult", "Outcome", "Store", "StoreBusyError", "StoreError", "StoreWriteError", "StoredArticle",
    "WriteResult", "article_row", "as_mapping", "decide",
]
