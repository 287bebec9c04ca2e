"""The store, an SQLite file or a PostgreSQL database (docs/schema.md), and every SQL statement newsbot
runs (here and in newsbot/data/*.sql).
Callers use ``Store`` (``facade``, its reads in ``queries``); each module's docstring says what it holds."""

from newsbot.store.articles import (ARTICLE_COLUMNS, EXPORT_FIELDS, ITEM_FIELDS, LIST_FIELDS, Outcome, WriteResult,
                                    article_row, as_mapping, decide)
from newsbot.store.connection import StoreBusyError, StoreError, StoreWriteError
from newsbot.store.facade import Store
from newsbot.store.merge import MergeResult
from newsbot.store.postgres import is_url as is_postgres_url, redact as redact_url
from newsbot.store.queries import StoredArticle
from newsbot.store.schema import SCHEMA_VERSION

__all__ = [
    "ARTICLE_COLUMNS", "EXPORT_FIELDS", "ITEM_FIELDS", "LIST_FIELDS", "SCHEMA_VERSION",
    "MergeResult", "Outcome", "Store", "StoreBusyError", "StoreError", "StoreWriteError", "StoredArticle",
    "WriteResult", "article_row", "as_mapping", "decide", "is_postgres_url", "redact_url",
]
