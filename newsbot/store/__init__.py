"""The SQLite store (docs/schema.md): plain tables any SQLite reader can open, and every SQL statement
newsbot runs (here and in newsbot/data/*.sql). Callers use ``Store`` (``facade``, reads in ``queries``);
behind it ``connection`` (opening, write transactions), ``schema`` (migrations), ``articles`` (items as
rows), ``identity`` and ``merge``."""

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
