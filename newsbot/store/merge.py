"""Merging another store (a shard) into this one: articles, children and revision histories.

The shard is ATTACHed read-only as ``src`` and copied in one write transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsbot.store.articles import ALL_ARTICLE_COLUMNS, ARTICLE_COLUMNS, CHILD_COLUMNS, REVISION_COLUMNS
from newsbot.store.connection import StoreError, uri
from newsbot.store.schema import SCHEMA_VERSION

# The oldest schema merge_from copies from as it is (v1 kept images as JSON and had no revisions);
# columns a newer version added are NULL for an older shard's articles.
_MERGE_MIN_VERSION = 2


@dataclass
class MergeResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def check_shard(path: Path, other: Path) -> None:
    """Refuse to merge the store at `path` into itself."""
    if other.exists() and other.resolve() == path.resolve():
        raise StoreError("Cannot merge a database into itself")


def check_shard_version(other: Path, version: int) -> None:
    """Refuse a shard older than the merge reads as it is."""
    if version < _MERGE_MIN_VERSION:
        raise StoreError(f"{other} has schema version {version}; open it read-write "
                         f"once to migrate it to {SCHEMA_VERSION} before merging")


def merge_attached_from(conn: sqlite3.Connection, other: Path,
                        write: Callable[[Callable[[sqlite3.Connection], MergeResult]], MergeResult]) -> MergeResult:
    """ATTACH `other` as src and merge it in with write(work), one write transaction."""
    # ATTACH is not allowed inside a transaction, so it wraps the write.
    conn.execute("ATTACH DATABASE ? AS src", (uri(other, "ro"),))
    try:
        return write(merge_attached)
    finally:
        conn.execute("DETACH DATABASE src")


def merge_attached(conn: sqlite3.Connection) -> MergeResult:
    result = MergeResult()
    new, same, diverged = [], [], []
    for aid, present, identical in conn.execute(
        "SELECT s.article_id, m.article_id IS NOT NULL, "
        "       m.content_hash = s.content_hash AND m.revision = 1 AND s.revision = 1 "
        "FROM src.articles AS s LEFT JOIN main.articles AS m USING (article_id)"):
        (diverged if present and not identical else same if present else new).append((aid,))

    # The source's columns: an older shard lacks those later versions added (v2: articles.site_id).
    src_articles = {name for _, name, *_ in conn.execute("PRAGMA src.table_info(articles)")}
    conn.execute("CREATE TEMP TABLE merge_ids (article_id TEXT PRIMARY KEY)")
    try:
        conn.executemany("INSERT INTO temp.merge_ids VALUES (?)", new)
        for table, columns in (("articles", ALL_ARTICLE_COLUMNS), ("article_revisions", REVISION_COLUMNS),
                               *CHILD_COLUMNS.items()):
            if table == "articles":  # the columns it lacks take their default (site_id: NULL)
                columns = [c for c in columns if c in src_articles]
            names = ", ".join(columns)
            conn.execute(f"INSERT INTO main.{table} ({names}) SELECT {names} FROM src.{table} "
                         "WHERE article_id IN (SELECT article_id FROM temp.merge_ids)")
        result.added = len(new)

        conn.execute("DELETE FROM temp.merge_ids")
        conn.executemany("INSERT INTO temp.merge_ids VALUES (?)", same)
        fill_site_id = ("site_id = coalesce(main.articles.site_id, s.site_id), "
                        if "site_id" in src_articles else "")
        conn.execute(
            f"UPDATE main.articles SET {fill_site_id}"
            "first_seen_at = min(main.articles.first_seen_at, s.first_seen_at), "
            "last_crawled_at = max(main.articles.last_crawled_at, s.last_crawled_at) "
            "FROM src.articles AS s WHERE s.article_id = main.articles.article_id "
            "AND s.article_id IN (SELECT article_id FROM temp.merge_ids)")
        result.unchanged = len(same)
    finally:
        conn.execute("DROP TABLE temp.merge_ids")

    for (aid,) in diverged:
        if _merge_article(conn, aid, src_articles):
            result.updated += 1
        else:
            result.unchanged += 1
    return result


def _merge_article(conn: sqlite3.Connection, aid: str, src_articles: set[str]) -> bool:
    """Unite one article's histories from both stores; True if the local copy changed.
    src_articles: the columns src.articles has."""
    def state(schema: str) -> tuple[tuple, list[tuple]]:
        current = conn.execute(
            f"SELECT content_hash, last_crawled_at, first_seen_at, revision, title, body, crawled_at "
            f"FROM {schema}.articles WHERE article_id = ?", (aid,)).fetchone()
        history = conn.execute(
            f"SELECT content_hash, title, body, crawled_at FROM {schema}.article_revisions "
            "WHERE article_id = ? ORDER BY revision", (aid,)).fetchall()
        return current, history or [(current[0], current[4], current[5], current[6])]

    (mine, my_history), (theirs, their_history) = state("main"), state("src")
    take_theirs = theirs[0] != mine[0] and theirs[1] > mine[1]
    current_hash = theirs[0] if take_theirs else mine[0]
    versions: dict[str, tuple] = {}
    for version in sorted(my_history + their_history, key=lambda v: v[3]):
        versions.setdefault(version[0], version)  # the first crawl that saw each content
    history = [v for h, v in versions.items() if h != current_hash] + [versions[current_hash]]

    if take_theirs:  # (a column an older shard lacks keeps the local value)
        columns = [c for c in ARTICLE_COLUMNS if c != "article_id" and c in src_articles]
        values = ["coalesce(s.site_id, main.articles.site_id)" if c == "site_id" else f"s.{c}" for c in columns]
        conn.execute(f"UPDATE main.articles SET ({', '.join(columns)}) = "
                     f"(SELECT {', '.join(values)} FROM src.articles AS s WHERE s.article_id = ?) "
                     "WHERE article_id = ?", (aid, aid))
        for table, child_columns in CHILD_COLUMNS.items():
            names = ", ".join(child_columns)
            conn.execute(f"DELETE FROM main.{table} WHERE article_id = ?", (aid,))
            conn.execute(f"INSERT INTO main.{table} ({names}) SELECT {names} FROM src.{table} "
                         "WHERE article_id = ?", (aid,))
    elif "site_id" in src_articles:  # keeping ours: fill in a site_id only theirs knows
        conn.execute("UPDATE main.articles SET site_id = coalesce(site_id, "
                     "(SELECT s.site_id FROM src.articles AS s WHERE s.article_id = ?)) WHERE article_id = ?",
                     (aid, aid))
    conn.execute("DELETE FROM main.article_revisions WHERE article_id = ?", (aid,))
    if len(history) > 1:
        conn.executemany(
            f"INSERT INTO main.article_revisions ({', '.join(REVISION_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
            [(aid, number, h, title, body, crawled_at)
             for number, (h, title, body, crawled_at) in enumerate(history, start=1)])
    conn.execute(
        "UPDATE main.articles SET revision = ?, first_seen_at = min(first_seen_at, ?), "
        "last_crawled_at = max(last_crawled_at, ?) WHERE article_id = ?",
        (len(history), theirs[2], theirs[1], aid))
    return take_theirs or len(history) != mine[3]
