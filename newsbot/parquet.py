"""Articles as a typed Parquet file (scrapy export --format parquet; the schema: docs/analysis.md).
Imports pyarrow at the top: import it only when Parquet is asked for (the `analysis` extra)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from itertools import islice
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

from newsbot.items import FIELDS, LIST_FIELDS, Kind
from newsbot.store import EXPORT_FIELDS

# Baku has kept +04:00 all year since 2016: published_at keeps the offset the site shows.
# Milliseconds, though the site gives minutes: Parquet has no seconds unit (pyarrow would coerce to ms anyway).
BAKU = "+04:00"
ROWS_PER_GROUP = 10_000
ROWS_PER_BATCH = 2_000  # rows turned into Arrow arrays at a time

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
# Stored as ISO text, '' when there is none: parsed by Arrow, the '' a null rather than a made-up epoch.
_PARSED = frozenset(f.name for f in FIELDS if f.kind.arrow.endswith("_time")) | {"published_date"}
_SCALARS = [(i, field) for i, field in enumerate(SCHEMA) if field.name not in LIST_FIELDS]
_LISTS = [EXPORT_FIELDS.index(name) for name in LIST_FIELDS]
# The lists come as JSON text (article_view's): one object per article, parsed by Arrow's JSON reader,
# in C++ (PostgreSQL's json_agg puts newlines between elements).
_LIST_OBJECT = ("{" + ",".join(f'"{name}":%b' for name in LIST_FIELDS) + "}").encode()
_LIST_PARSING = pj.ParseOptions(explicit_schema=pa.schema([_COLUMNS[name] for name in LIST_FIELDS]),
                                newlines_in_values=True)


def _scalar(field: pa.Field, values: tuple) -> pa.Array:
    if field.name in _PARSED:
        text = pa.array(values, pa.string())
        return pc.if_else(pc.equal(text, ""), None, text).cast(field.type)
    return pa.array(values, field.type)


def _table(rows: list[tuple]) -> pa.Table:
    columns = list(zip(*rows))
    objects = b"\n".join([_LIST_OBJECT % lists for lists in zip(*(columns[i] for i in _LISTS))])
    lists = pj.read_json(pa.py_buffer(objects), parse_options=_LIST_PARSING)
    scalars = {field.name: _scalar(field, columns[i]) for i, field in _SCALARS}
    return pa.Table.from_pydict({**scalars, **{name: lists.column(name) for name in LIST_FIELDS}}, SCHEMA)


def _batches(rows: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    """The rows `size` at a time, each batch read on a thread of its own while the one before is converted:
    SQLite lets go of the GIL while it steps, so reading the store overlaps building the arrays."""
    with ThreadPoolExecutor(1) as reader:
        pending = reader.submit(lambda: list(islice(rows, size)))
        while batch := pending.result():
            pending = reader.submit(lambda: list(islice(rows, size)))
            yield batch


def _group(batches: Iterator[list[tuple]], count: int) -> pa.Table | None:
    """The next `count` batches (fewer at the end; None after it) as one table, converted a batch at a
    time: a group's rows are never all Python objects at once."""
    tables = [_table(batch) for batch in islice(batches, count)]
    return pa.concat_tables(tables) if tables else None


def write_parquet(rows: Iterable[tuple], path: str | Path, rows_per_group: int = ROWS_PER_GROUP) -> int:
    """Write rows as Store.export_rows(encoded=True) gives them to a Parquet file, in row groups of
    `rows_per_group`; returns how many. An empty export is still a file with the schema."""
    count, batch = 0, math.gcd(rows_per_group, ROWS_PER_BATCH)  # whole batches make a group
    batches = _batches(iter(rows), batch)
    # pyarrow's default allocator (mimalloc) hands a group's freed pages back to the system at once,
    # and the next group faults them in again: the C library's allocator keeps them.
    pa.set_memory_pool(pa.system_memory_pool())
    # Compression runs on a thread of its own (pyarrow lets go of the GIL) while the next group is read.
    # closing: on a failure too, the reader thread is done with the store's cursor before the caller closes it.
    with closing(batches), pq.ParquetWriter(str(path), SCHEMA, compression="zstd") as writer, \
            ThreadPoolExecutor(1) as compressor:
        written: Future | None = None
        while (table := _group(batches, rows_per_group // batch)) is not None:
            count += table.num_rows
            if written is not None:
                written.result()  # one group compressed while the next is read: two in memory at most
            written = compressor.submit(writer.write_table, table, rows_per_group)
        if written is not None:
            written.result()
    return count
