"""Articles as a typed Parquet file (scrapy export --format parquet; the schema: docs/analysis.md).
Imports pyarrow at the top: import it only when Parquet is asked for (the `analysis` extra)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from newsbot.items import FIELDS, Kind
from newsbot.store import EXPORT_FIELDS

# Baku has kept +04:00 all year since 2016: published_at keeps the offset the site shows.
# Milliseconds, though the site gives minutes: Parquet has no seconds unit (pyarrow would coerce to ms anyway).
BAKU = "+04:00"
ROWS_PER_GROUP = 10_000  # one row group (and at most this many articles in memory) at a time

_ARROW = {"string": pa.string(), "int32": pa.int32(), "int64": pa.int64(),
          "baku_time": pa.timestamp("ms", tz=BAKU), "utc_time": pa.timestamp("ms", tz="UTC")}


def _arrow(kind: Kind) -> pa.DataType:
    if not kind.is_list:
        return _ARROW[kind.arrow]
    return pa.list_(pa.string() if kind.plain else pa.struct([(m, pa.string()) for m in kind.members]))


# The item's fields as their kinds say (a date or a site_id the page did not give is a null, not a
# made-up value), and the Baku day, in the export's order.
_COLUMNS = {f.name: pa.field(f.name, _arrow(f.kind), nullable=f.kind.nullable) for f in FIELDS}
_COLUMNS["published_date"] = pa.field("published_date", pa.date32())  # what a count per day groups by
SCHEMA = pa.schema([_COLUMNS[name] for name in EXPORT_FIELDS])
_TIMES = tuple(f.name for f in FIELDS if f.kind.arrow.endswith("_time"))


def _row(article: dict[str, Any]) -> dict[str, Any]:
    row = dict(article)
    for name in _TIMES:  # the store's '' (no date) is a null here, not a made-up epoch
        row[name] = datetime.fromisoformat(row[name].replace("Z", "+00:00")) if row[name] else None
    row["published_date"] = date.fromisoformat(row["published_date"]) if row["published_date"] else None
    return row


def write_parquet(articles: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Write articles (as Store.iter_articles gives them) to a Parquet file; returns how many."""
    count, rows = 0, map(_row, articles)
    with pq.ParquetWriter(str(path), SCHEMA, compression="zstd") as writer:
        # An empty export is still a file with the schema.
        while (batch := list(islice(rows, ROWS_PER_GROUP))) or not count:
            writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
            count += len(batch)
            if len(batch) < ROWS_PER_GROUP:
                break
    return count
