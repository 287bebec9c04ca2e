"""Articles as rows, and writing them: what each incoming row means against what is stored
(decide, a pure function) and the statements that carry it out (write_rows)."""

from __future__ import annotations

import enum
import json
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterator, Protocol

from itemadapter import ItemAdapter

from newsbot.items import BY_NAME, ITEM_FIELDS, LIST_FIELDS
from newsbot.normalize import url_key, utc_now_iso
from newsbot.store import identity
from newsbot.store.connection import Connection

# What exports carry (Store.iter_articles): the item's fields and, next to the UTC instant, the Baku
# publication day as article_view derives it, so a count per day needs no time-zone arithmetic.
EXPORT_FIELDS: tuple[str, ...] = (*ITEM_FIELDS[:ITEM_FIELDS.index("published_at_utc") + 1], "published_date",
                                  *ITEM_FIELDS[ITEM_FIELDS.index("published_at_utc") + 1:])
# The item's scalar fields as stored in `articles`, in the order every row tuple uses
# (the item's order, but article_id first).
ARTICLE_COLUMNS = ("article_id", *(f for f in ITEM_FIELDS if f not in LIST_FIELDS and f != "article_id"))
# A list field's child table (named after it) and its columns, copied between stores (merge_from).
CHILD_COLUMNS = {name: ("article_id", *(("position",) if BY_NAME[name].kind.positioned else ()),
                        *BY_NAME[name].kind.members) for name in LIST_FIELDS}
_LIST_KINDS = tuple(BY_NAME[name].kind for name in LIST_FIELDS)
# The links to the story's other editions: which list field, and where a child row holds the URL.
_EDITIONS = LIST_FIELDS.index("translations")
_EDITION_URL = CHILD_COLUMNS["translations"].index("url")
REVISION_COLUMNS = ("article_id", "revision", "content_hash", "title", "body", "crawled_at")
ALL_ARTICLE_COLUMNS = (*ARTICLE_COLUMNS, "first_seen_at", "last_crawled_at", "revision")

# A page that no longer shows its short link keeps the site_id known from before.
_UPSERT_ARTICLES = (
    "ON CONFLICT (article_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ARTICLE_COLUMNS if c not in ("article_id", "site_id"))
    + ", site_id = coalesce(excluded.site_id, articles.site_id), revision = articles.revision + 1"
    + ", last_crawled_at = CASE WHEN excluded.last_crawled_at > articles.last_crawled_at "
      "THEN excluded.last_crawled_at ELSE articles.last_crawled_at END"
)
# Run before and after an update so both the previous and the new content are on record
# (nothing: already there).
_SNAPSHOT_REVISION = (
    f"INSERT INTO article_revisions ({', '.join(REVISION_COLUMNS)}) "
    f"SELECT {', '.join(REVISION_COLUMNS)} FROM articles WHERE article_id = ? ON CONFLICT DO NOTHING"
)
_RECORD_JOURNAL = ("INSERT INTO journal_files (path, size, updated_at) VALUES (?, ?, ?) "
                   "ON CONFLICT (path) DO UPDATE SET size = excluded.size, updated_at = excluded.updated_at")
# Missing articles appended per write while a journal is reconciled (a bounded read of the store).
_JOURNAL_BATCH = 500


class Journal(Protocol):
    """A file that records every article a transaction keeps (newsbot.pipelines.jsonlines.JsonLinesFile):
    appended inside the transaction, its committed size recorded in the same transaction. append()
    returns the file's size after the records and leaves none of them written if it raises OSError;
    committed() keeps the lines of the transaction that appended, rollback() takes them back; trim()
    cuts what follows the committed size (None: nothing recorded yet) and returns the lines cut;
    versions() gives (line number, article_id, content_hash) per line, None for a line that is no
    record; drop_lines() removes lines so numbered, keeping the others in order."""

    key: str  # the file, as journal_files names it

    def append(self, records: list[dict[str, Any]]) -> int: ...
    def committed(self) -> None: ...
    def rollback(self) -> None: ...
    def trim(self, committed: int | None) -> int: ...
    def size(self) -> int: ...
    def versions(self) -> Iterator[tuple[int, str | None, str | None]]: ...
    def drop_lines(self, lines: set[int]) -> None: ...


@dataclass
class WriteResult:
    inserted: int = 0
    updated: int = 0    # content changed: a new revision
    unchanged: int = 0  # same content: only last_crawled_at moved
    stale: int = 0      # different content, but crawled before what is stored (another process was newer)
    slug_edits: int = 0        # a known article (same edition, same site_id) at a new URL
    stories_merged: int = 0    # stories joined into another by a new edition link
    categories_learned: int = 0
    journal_lines: int = 0
    journal_error: OSError | None = None  # the journal refused the lines; the articles are stored all the same
    journal_cut: int = 0  # lines another transaction appended and never committed (its crawl was killed)
    # Seconds from publication to crawl of each inserted, dated article (newsbot/freshness/*): the
    # report's freshness measure, as crawled_at becomes first_seen_at.
    new_latencies: list[float] = field(default_factory=list)


class Outcome(str, enum.Enum):
    """What writing a row does; the value is the WriteResult field that counts it."""

    NEW = "inserted"
    UPDATED = "updated"      # replaces the stored content, both kept as revisions
    UNCHANGED = "unchanged"
    STALE = "stale"          # other content, but crawled before what is stored: left alone


class _Row(namedtuple("_Row", (*ARTICLE_COLUMNS, "children"))):
    """One item as the rows it becomes: its articles columns (ARTICLE_COLUMNS) and `children`, per
    list field (LIST_FIELDS order) its child table's rows (CHILD_COLUMNS)."""

    __slots__ = ()

    @property
    def scalars(self) -> tuple:
        return self[:-1]

    @property
    def edition_urls(self) -> list[str]:
        return [child[_EDITION_URL] for child in self.children[_EDITIONS]]

    def with_article_id(self, article_id: str) -> _Row:
        """The same row under the id the store knows its article by."""
        return self._replace(article_id=article_id, children=tuple(
            [(article_id, *child[1:]) for child in rows] for rows in self.children))

    def record(self) -> dict[str, Any]:
        """The row as the item it was made from (ITEM_FIELDS order), under the store's ids."""
        values = self._asdict()
        for name, kind, rows in zip(LIST_FIELDS, _LIST_KINDS, self.children):
            width = len(kind.members)
            values[name] = ([child[-1] for child in rows] if kind.plain
                            else [dict(zip(kind.members, child[-width:])) for child in rows])
        return {field: values[field] for field in ITEM_FIELDS}


def article_dict(row: tuple, fields: tuple[str, ...] = ITEM_FIELDS) -> dict[str, Any]:
    """A row of article_view (its lists as JSON) in the item's shape."""
    article = dict(zip(fields, row))
    for name in LIST_FIELDS:
        article[name] = json.loads(article[name])
    return article


def as_mapping(item: Any) -> Mapping[str, Any]:
    """An item's fields as a Mapping: ArticleItems and dicts as they are, other item types
    (dataclasses, attrs) through ItemAdapter, which costs far more per field read."""
    return item if isinstance(item, Mapping) else ItemAdapter(item)


def article_row(item: Any) -> _Row:
    """An item (ArticleItem, dict, any item type) as the rows Store.write_rows stores."""
    get = as_mapping(item).get
    scalars = {column: get(column) or "" for column in ARTICLE_COLUMNS}
    scalars["word_count"] = int(scalars["word_count"] or 0)
    site_id = get("site_id")  # an INTEGER or NULL, never '' (0 is not an id either)
    scalars["site_id"] = int(site_id) if site_id not in (None, "", 0) else None
    # An item that lost its crawled_at was still crawled now.
    scalars["crawled_at"] = scalars["crawled_at"] or utc_now_iso()
    aid = scalars["article_id"]
    children = []
    for name, kind in zip(LIST_FIELDS, _LIST_KINDS):
        values = get(name) or ()
        cells = ([(value,) for value in values] if kind.plain
                 else [tuple(value.get(m) or "" for m in kind.members) for value in values])
        children.append([(aid, i, *c) for i, c in enumerate(cells)] if kind.positioned else [(aid, *c) for c in cells])
    return _Row(**scalars, children=tuple(children))


def decide(stored: tuple[str, str] | None, row: _Row) -> Outcome:
    """What writing `row` does, given the (content_hash, crawled_at) stored for its article
    (None: not stored). Pure: the caller reads `stored` inside the write transaction."""
    if stored is None:
        return Outcome.NEW
    if stored[0] == row.content_hash:
        return Outcome.UNCHANGED
    return Outcome.UPDATED if row.crawled_at >= stored[1] else Outcome.STALE


def publication_latency(row: _Row) -> float | None:
    """Seconds from the row's publication (published_at_utc) to its crawl, or None without a date."""
    try:
        published, crawled = (datetime.fromisoformat(text.replace("Z", "+00:00"))
                              for text in (row.published_at_utc, row.crawled_at))
    except ValueError:
        return None
    if published.tzinfo is None or crawled.tzinfo is None:
        return None
    return (crawled - published).total_seconds()


def newest_rows(rows: Iterable[_Row]) -> list[_Row]:
    """One row per article: of an article given twice, the newest crawl (the later one on a tie)."""
    newest: dict[str, _Row] = {}
    for row in rows:
        kept = newest.get(row.article_id)
        if kept is None or row.crawled_at >= kept.crawled_at:
            newest[row.article_id] = row
    return list(newest.values())


def next_article_id(conn: Connection) -> int:
    """The id (articles_fts's rowid) of the next new article: since v7 it is no longer the rowid, so
    SQLite does not choose it. Read inside the write transaction, so no other writer takes it."""
    return conn.execute("SELECT coalesce(max(id), 0) + 1 FROM articles").fetchone()[0]


def write_rows(conn: Connection, rows: list[_Row], journal: Journal | None = None) -> WriteResult:
    """Store rows (one per article: newest_rows) inside the caller's write transaction, each as
    decide() says against what is stored now, under the article, story and category identity the
    store keeps (identity)."""
    result = WriteResult()
    # url_key of each URL of the batch computed once: a page's own URL is keyed to find it, to place it
    # in its story and to record it, and every edition link of its story once per edition.
    keys = lru_cache(maxsize=None)(url_key)
    rows = _resolve_articles(conn, rows, result, keys)
    stored = {aid: (h, c) for aid, h, c in conn.select_in(  # article_id -> (content_hash, crawled_at)
        "SELECT article_id, content_hash, crawled_at FROM articles WHERE article_id IN ({})",
        [row.article_id for row in rows])}
    to_write: list[_Row] = []
    changed: list[tuple[str]] = []
    touched: list[tuple[str, int | None, str, str]] = []
    for row in rows:
        outcome = decide(stored.get(row.article_id), row)
        setattr(result, outcome.value, getattr(result, outcome.value) + 1)
        if outcome is Outcome.UNCHANGED or outcome is Outcome.STALE:
            touched.append((row.crawled_at, row.site_id, row.url, row.article_id))
            continue
        to_write.append(row)
        if outcome is Outcome.UPDATED:
            changed.append((row.article_id,))
        elif (latency := publication_latency(row)) is not None:
            result.new_latencies.append(latency)
    to_write = _place_in_stories(conn, to_write, {aid for (aid,) in changed}, result, keys)

    conn.executemany(_SNAPSHOT_REVISION, changed)
    # first_seen_at and last_crawled_at of a new article are its crawled_at; an update keeps its id.
    first_id = next_article_id(conn)
    conn.insert_rows("articles", (*ARTICLE_COLUMNS, "first_seen_at", "last_crawled_at", "id"),
                     [(*r.scalars, r.crawled_at, r.crawled_at, first_id + n) for n, r in enumerate(to_write)],
                     _UPSERT_ARTICLES)
    conn.executemany(_SNAPSHOT_REVISION, changed)
    for n, (table, columns) in enumerate(CHILD_COLUMNS.items()):
        conn.executemany(f"DELETE FROM {table} WHERE article_id = ?", changed)
        conn.insert_rows(table, columns, [child for r in to_write for child in r.children[n]])
    # Also fills in a site_id not known yet (an article stored before schema v3), which is no content
    # change, and the URL the page was fetched at if this is the latest fetch (a stale row's URL may be
    # an edited slug's old one). Every SET expression sees the row as it was.
    conn.executemany("UPDATE articles SET "
                     "last_crawled_at = CASE WHEN ? > last_crawled_at THEN ? ELSE last_crawled_at END, "
                     "site_id = coalesce(site_id, ?), "
                     "url = CASE WHEN ? >= last_crawled_at THEN ? ELSE url END WHERE article_id = ?",
                     [(crawled, crawled, site_id, crawled, url, aid) for crawled, site_id, url, aid in touched])
    conn.insert_rows("article_urls", ("url_key", "article_id", "url", "first_seen_at"),
                     [(keys(r.url), r.article_id, r.url, r.crawled_at) for r in rows], "ON CONFLICT DO NOTHING")
    if journal is not None and to_write:
        _journal(conn, journal, to_write, result)
    return result


def _journal(conn: Connection, journal: Journal, rows: list[_Row], result: WriteResult) -> None:
    """Append the rows to the journal, or record them as missing from it if it refuses them. Under the
    write lock what follows the committed size was left by a crawl killed before its commit: cut it
    first, or our commit would record it as committed."""
    keys = [(journal.key, r.article_id) for r in rows]
    try:
        result.journal_cut = journal.trim(_journal_size(conn, journal.key))
        size = journal.append([r.record() for r in rows])
    except OSError as exc:
        result.journal_error = exc
        conn.executemany("INSERT INTO journal_missing (path, article_id) VALUES (?, ?) ON CONFLICT DO NOTHING", keys)
        return
    result.journal_lines = len(rows)
    conn.execute(_RECORD_JOURNAL, (journal.key, size, utc_now_iso()))
    # Written now, in their latest content.
    conn.executemany("DELETE FROM journal_missing WHERE path = ? AND article_id = ?", keys)


def _journal_size(conn: Connection, key: str) -> int | None:
    """The size of a JSON Lines journal as of the last committed transaction that wrote to it."""
    row = conn.execute("SELECT size FROM journal_files WHERE path = ?", (key,)).fetchone()
    return row[0] if row else None


def reconcile_journal(conn: Connection, journal: Journal) -> tuple[int, int]:
    """Store.open_journal's work: cut the lines of transactions that never committed, then append the
    articles stored while the file refused their lines (a full disk); (lines cut, lines appended)."""
    cut = journal.trim(_journal_size(conn, journal.key))
    if not conn.execute("SELECT 1 FROM journal_files WHERE path = ? AND verified = 1", (journal.key,)).fetchone():
        # Once per file: one written before v5 may hold uncommitted lines mid-file.
        unstored = _unstored_lines(conn, journal.versions())
        if unstored:
            journal.drop_lines(unstored)
            cut += len(unstored)
    # As their lines would have been, oldest crawl first.
    missing = conn.execute(
        f"SELECT {', '.join(ITEM_FIELDS)} FROM article_view WHERE article_id IN "
        "(SELECT article_id FROM journal_missing WHERE path = ?) ORDER BY crawled_at, url", (journal.key,))
    appended = 0
    while rows := missing.fetchmany(_JOURNAL_BATCH):
        journal.append([article_dict(row) for row in rows])
        appended += len(rows)
    conn.execute(_RECORD_JOURNAL, (journal.key, journal.size(), utc_now_iso()))
    conn.execute("UPDATE journal_files SET verified = 1 WHERE path = ?", (journal.key,))
    conn.execute("DELETE FROM journal_missing WHERE path = ?", (journal.key,))
    return cut, appended


def _unstored_lines(conn: Connection,
                    versions: Iterable[tuple[int, str | None, str | None]]) -> set[int]:
    """The lines of a journal that no committed transaction wrote: a version the store never kept
    (nor any revision of it), and every copy of a version but its last (a killed crawl's line of an
    article another crawl then stored and wrote). In a temporary table, so a file of any length is
    checked in bounded memory."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS journal_lines "
                 "(line INTEGER PRIMARY KEY, article_id TEXT, content_hash TEXT)")
    conn.execute("DELETE FROM journal_lines")
    conn.executemany("INSERT INTO journal_lines VALUES (?, ?, ?)", versions)  # streamed from the iterator
    conn.execute("CREATE INDEX IF NOT EXISTS journal_lines_version ON journal_lines (article_id, content_hash)")
    found = {line for (line,) in conn.execute(
        "SELECT line FROM journal_lines AS l "
        "WHERE NOT EXISTS (SELECT 1 FROM articles AS a WHERE a.article_id = l.article_id "
        "                  AND a.content_hash = l.content_hash) "
        "  AND NOT EXISTS (SELECT 1 FROM article_revisions AS r WHERE r.article_id = l.article_id "
        "                  AND r.content_hash = l.content_hash) "
        "UNION "
        "SELECT line FROM journal_lines AS l WHERE line < (SELECT max(line) FROM journal_lines AS m "
        "    WHERE m.article_id = l.article_id AND m.content_hash = l.content_hash)")}
    conn.execute("DELETE FROM journal_lines")
    return found


def _resolve_articles(conn: Connection, rows: list[_Row], result: WriteResult,
                      keys: Callable[[str], str]) -> list[_Row]:
    """The rows under the ids of the stored articles they are (one row per article, the newest)."""
    found = identity.stored_ids(conn, [(keys(r.url), r.article_id, r.language, r.site_id) for r in rows])
    resolved = [row if stored_id in (None, row.article_id) else row.with_article_id(stored_id)
                for row, stored_id in zip(rows, found)]
    result.slug_edits += sum(row is not given for row, given in zip(resolved, rows))
    return newest_rows(resolved)  # a slug edit can make two of them one article


def _place_in_stories(conn: Connection, rows: list[_Row], stored_ids: set[str],
                      result: WriteResult, keys: Callable[[str], str]) -> list[_Row]:
    """The rows to write with the story ids of the graph their edition links extend, and the
    category keys their stories teach; merges and learned keys reach earlier rows too.
    stored_ids: the rows that update a stored article (the others are new)."""
    if not rows:
        return rows
    now = utc_now_iso()
    stored_keys: dict[str, list[str]] = {}  # a stored article's earlier URLs are pages of its story too
    for aid, key in conn.select_in("SELECT article_id, url_key FROM article_urls WHERE article_id IN ({})",
                              stored_ids):
        stored_keys.setdefault(aid, []).append(key)
    groups = [(row.story_id, list(dict.fromkeys([keys(row.url), *stored_keys.get(row.article_id, ()),
                                                  *map(keys, row.edition_urls)])))
              for row in rows]
    known = identity.known_nodes(conn, (n for _, ns in groups for n in ns))
    assignment = identity.assign_stories(groups, known)
    identity.apply_stories(conn, assignment, now)
    result.stories_merged += len(assignment.merged)

    learned = identity.category_map(conn)
    editions: dict[str, list[tuple[str, str]]] = {}
    earlier: set[str] = set()  # stories stored before this batch: their stored editions may teach or learn
    slugs = []
    for row, story, (_, nodes) in zip(rows, assignment.stories, groups):
        slug = learned.get((row.language, row.category_slug), row.category_slug)
        slugs.append(slug)
        editions.setdefault(story, []).append((row.language, slug))
        if known and any(node in known for node in nodes):
            earlier.add(story)
    # Only a story with two editions, in this batch or stored, can teach a key.
    editions = {story: pairs for story, pairs in editions.items()
                if story in earlier or len({language for language, _ in pairs}) > 1}
    new = identity.learn_and_apply_categories(conn, editions, learned, now, stored=earlier)
    result.categories_learned += len(new)
    placed = []
    for row, story, slug in zip(rows, assignment.stories, slugs):
        slug = new.get((row.language, slug), slug)
        # Most rows keep the story and category they proposed: no copy of those.
        if story != row.story_id or slug != row.category_slug:
            row = row._replace(story_id=story, category_slug=slug)
        placed.append(row)
    return placed
