"""Articles as a typed Parquet file (scrapy export --format parquet); docs/analysis.md has the schema.

Imports pyarrow at the top: import this module only when Parquet is asked for (the `analysis` extra).
Lists stay lists and times are instants with a time zone, so pandas, DuckDB and Spark read the
file without parsing JSON or date strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from newsbot.store import EXPORT_FIELDS

# Baku has kept +04:00 all year since 2016: published_at keeps the offset the site shows.
# Milliseconds, though the site gives minutes: Parquet has no seconds unit (pyarrow would coerce to ms anyway).
BAKU = "+04:00"
ROWS_PER_GROUP = 10_000  # one row group (and at most this many articles in memory) at a time

SCHEMA = pa.schema([
    pa.field("url", pa.string(), nullable=False),
    pa.field("article_id", pa.string(), nullable=False),
    pa.field("site_id", pa.int64()),  # null: the page showed no short link
    pa.field("source", pa.string(), nullable=False),
    pa.field("language", pa.string(), nullable=False),
    pa.field("title", pa.string(), nullable=False),
    pa.field("lead", pa.string(), nullable=False),
    pa.field("body", pa.string(), nullable=False),
    pa.field("word_count", pa.int32(), nullable=False),
    pa.field("published_at", pa.timestamp("ms", tz=BAKU)),  # null: the page's date could not be read
    pa.field("published_at_utc", pa.timestamp("ms", tz="UTC")),
    pa.field("published_date", pa.date32()),  # the Baku day: what a count per day groups by
    pa.field("category", pa.string(), nullable=False),
    pa.field("category_slug", pa.string(), nullable=False),
    pa.field("tags", pa.list_(pa.string()), nullable=False),
    pa.field("images", pa.list_(pa.struct([("url", pa.string()), ("caption", pa.string())])), nullable=False),
    pa.field("translations", pa.list_(pa.struct([("language", pa.string()), ("url", pa.string()),
                                                 ("title", pa.string())])), nullable=False),
    pa.field("story_id", pa.string(), nullable=False),
    pa.field("crawled_at", pa.timestamp("ms", tz="UTC"), nullable=False),
    pa.field("content_hash", pa.string(), nullable=False),
])
assert tuple(SCHEMA.names) == EXPORT_FIELDS, "the Parquet schema follows the export's fields, in order"
_TIMES = ("published_at", "published_at_utc", "crawled_at")


def _instant(text: str) -> datetime | None:
    # The store's '' (no date) is a null here, not a made-up epoch.
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _row(article: dict[str, Any]) -> dict[str, Any]:
    row = dict(article)
    for name in _TIMES:
        row[name] = _instant(row[name])
    row["published_date"] = date.fromisoformat(row["published_date"]) if row["published_date"] else None
    return row


def write_parquet(articles: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Write articles (as Store.iter_articles gives them) to a Parquet file; returns how many."""
    count = 0
    with pq.ParquetWriter(str(path), SCHEMA, compression="zstd") as writer:
        batch: list[dict[str, Any]] = []
        for article in articles:
            batch.append(_row(article))
            if len(batch) >= ROWS_PER_GROUP:
                writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
                count += len(batch)
                batch = []
        if batch or not count:  # an empty export is still a file with the schema
            writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
            count += len(batch)
    return count
