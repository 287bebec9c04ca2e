"""The SQLite store: schema, migrations and every SQL statement newsbot runs.

One file, readable by anything that reads SQLite (sqlite3 shell, pandas,
Datasette): no custom functions, plain tables, an FTS5 index kept in sync by
triggers, and views for analysts. docs/schema.md describes it.

Callers use the ``Store`` façade (``facade``; its reads in ``queries``); behind it ``connection``
(opening, errors, write transactions; how concurrent writers share the file), ``schema``
(migrations), ``articles`` (items as rows and writing them), ``identity`` and ``merge``.
SQL lives only in this package and in newsbot/data/*.sql.
"""

from newsbot.store.articles import (ARTICLE_COLUMNS, EXPORT_FIELDS, ITEM_FIELDS, LIST_FIELDS, Outcome, WriteResult,
                                    article_row, as_mapping, decide)
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
