"""Merging another store (a shard) into this one: articles, children, revision histories, and identity
(docs/schema.md, "Versions and migrations"). The shard is never changed: a scratch copy of it is
migrated, ATTACHed as ``src`` and merged in one write transaction."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from newsbot.normalize import url_key, utc_now_iso
from newsbot.store import identity
from newsbot.store.articles import (ALL_ARTICLE_COLUMNS, ARTICLE_COLUMNS, CHILD_COLUMNS, REVISION_COLUMNS,
                                     next_article_id)
from newsbot.store.connection import Connection, StoreError, uri

# The oldest shard merge_from migrates a copy of (v1 kept images as JSON and had no revisions).
MERGE_MIN_VERSION = 2
# What merge_copy reads of the shard, parents first; a snapshot copies these and the crawls' records.
SHARD_TABLES = ("articles", *CHILD_COLUMNS, "article_revisions", "article_urls", "article_aliases",
                "category_map", "story_nodes", "story_aliases")
SNAPSHOT_TABLES = (*SHARD_TABLES, "crawl_runs", "feed_coverage", "journal_files", "journal_missing")


@dataclass
class MergeResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def copy_store(source: Path, target: Path, timeout: float) -> None:
    """A consistent copy of a store (SQLite's online backup: a writer may be at work on it)."""
    src = sqlite3.connect(uri(source, "ro"), uri=True, timeout=timeout)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    except sqlite3.Error as exc:
        raise StoreError(f"Cannot read {source}: {exc}") from exc
    finally:
        dst.close()
        src.close()


def merge_copy(conn: Connection) -> MergeResult:
    """Merge the shard's scratch copy (current schema), as the schema `src` (ATTACHed read-write to an
    SQLite store, loaded into a PostgreSQL one), inside the caller's write transaction: its ids are first
    changed to this store's. Unqualified names are this store's tables."""
    identity.rekey(conn, _ids_here(conn), schema="src")
    result = _merge_articles(conn)
    _merge_identity(conn)
    return result


def _ids_here(conn: Connection) -> dict[str, str]:
    """src article id -> the id this store knows the same article by, where they differ. Of two src
    articles that are one here, the more recently crawled is kept and the other dropped from the copy."""
    keys: dict[str, list[str]] = {}
    for key, aid in conn.execute("SELECT url_key, article_id FROM src.article_urls"):
        keys.setdefault(aid, []).append(key)
    articles = conn.execute("SELECT article_id, url, language, site_id, last_crawled_at FROM src.articles").fetchall()
    probes = [(key, aid, language, site_id)
              for aid, url, language, site_id, _ in articles for key in keys.get(aid) or [url_key(url)]]
    found = identity.stored_ids(conn, probes)
    here: dict[str, str] = {}
    for (_, aid, _, _), stored in zip(probes, found):
        if stored is not None:
            here.setdefault(aid, stored)
    mapping: dict[str, str] = {}
    taken: dict[str, tuple[str, str]] = {}  # id here -> (last_crawled_at, src id) of the src article given it
    for aid, _, _, _, last in articles:
        target = here.get(aid, aid)
        previous = taken.get(target)
        if previous is not None:  # two src articles are one article here: keep the later crawl
            loser = aid if previous[0] >= last else previous[1]
            # Its rows in every table, as an SQLite copy's foreign keys would cascade (a PostgreSQL copy has none).
            for table in ("articles", *CHILD_COLUMNS, "article_revisions", "article_urls"):
                conn.execute(f"DELETE FROM src.{table} WHERE article_id = ?", (loser,))
            mapping.pop(loser, None)
            if loser == aid:
                continue
        taken[target] = (last, aid)
        if target != aid:
            mapping[aid] = target
    return mapping


def _merge_identity(conn: Connection) -> None:
    """Join the copy's URLs, aliases, learned categories and story graph to this store's."""
    now = utc_now_iso()
    conn.execute("INSERT INTO article_urls (url_key, article_id, url, first_seen_at) "
                 "SELECT url_key, article_id, url, first_seen_at FROM src.article_urls "
                 "WHERE article_id IN (SELECT article_id FROM articles) ON CONFLICT DO NOTHING")
    conn.execute("INSERT INTO article_aliases SELECT alias, article_id, reason FROM src.article_aliases WHERE true "
                 "ON CONFLICT DO NOTHING")
    conn.execute("INSERT INTO category_map SELECT language, slug, key, learned_at FROM src.category_map WHERE true "
                 "ON CONFLICT DO NOTHING")
    groups: dict[str, list[str]] = {}
    for story, node in conn.execute("SELECT story_id, node FROM src.story_nodes"):
        groups.setdefault(story, []).append(node)
    known = identity.known_nodes(conn, (node for nodes in groups.values() for node in nodes))
    assignment = identity.assign_stories(groups.items(), known, proposals_are_ids=True)
    identity.apply_stories(conn, assignment, now)
    final = dict(zip(groups, assignment.stories))
    conn.executemany("INSERT INTO story_aliases (alias, story_id, merged_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                     [(alias, final.get(story, story), merged_at) for alias, story, merged_at in
                      conn.execute("SELECT alias, story_id, merged_at FROM src.story_aliases").fetchall()])
    # The copied articles carry the shard's story ids: give each its component's.
    conn.execute(
        "UPDATE articles SET story_id = coalesce((SELECT min(n.story_id) FROM article_urls AS u "
        "JOIN story_nodes AS n ON n.node = u.url_key WHERE u.article_id = articles.article_id), story_id) "
        "WHERE article_id IN (SELECT article_id FROM src.articles)")
    # The stories the copied articles are in; learn_and_apply_categories reads all their editions.
    stories = {story: [] for (story,) in conn.execute(
        "SELECT DISTINCT story_id FROM articles WHERE article_id IN (SELECT article_id FROM src.articles)")}
    identity.learn_and_apply_categories(conn, stories, identity.category_map(conn), now)


def _merge_articles(conn: Connection) -> MergeResult:
    result = MergeResult()
    new, same, diverged = [], [], []
    for aid, present, identical in conn.execute(
        "SELECT s.article_id, m.article_id IS NOT NULL, "
        "       m.content_hash = s.content_hash AND m.revision = 1 AND s.revision = 1 "
        "FROM src.articles AS s LEFT JOIN articles AS m USING (article_id)"):
        (diverged if present and not identical else same if present else new).append((aid,))

    conn.execute("CREATE TEMP TABLE merge_ids (article_id TEXT PRIMARY KEY)")
    conn.executemany("INSERT INTO merge_ids VALUES (?)", new)
    names = ", ".join(ALL_ARTICLE_COLUMNS)  # the ids (articles.id) are this store's
    conn.execute(f"INSERT INTO articles (id, {names}) SELECT ? + row_number() OVER (), {names} "
                 "FROM src.articles WHERE article_id IN (SELECT article_id FROM merge_ids)",
                 (next_article_id(conn) - 1,))
    for table, columns in (("article_revisions", REVISION_COLUMNS), *CHILD_COLUMNS.items()):
        names = ", ".join(columns)
        conn.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM src.{table} "
                     "WHERE article_id IN (SELECT article_id FROM merge_ids)")
    result.added = len(new)

    conn.execute("DELETE FROM merge_ids")
    conn.executemany("INSERT INTO merge_ids VALUES (?)", same)
    conn.execute(
        "UPDATE articles SET site_id = coalesce(articles.site_id, s.site_id), "
        "first_seen_at = CASE WHEN s.first_seen_at < articles.first_seen_at "
        "THEN s.first_seen_at ELSE articles.first_seen_at END, "
        "last_crawled_at = CASE WHEN s.last_crawled_at > articles.last_crawled_at "
        "THEN s.last_crawled_at ELSE articles.last_crawled_at END "
        "FROM src.articles AS s WHERE s.article_id = articles.article_id "
        "AND s.article_id IN (SELECT article_id FROM merge_ids)")
    result.unchanged = len(same)
    # Dropped here, not in a finally: after an error PostgreSQL refuses every statement until the
    # rollback, which takes a table created in the transaction away anyway.
    conn.execute("DROP TABLE merge_ids")

    for (aid,) in diverged:
        if _merge_article(conn, aid):
            result.updated += 1
        else:
            result.unchanged += 1
    return result


def _merge_article(conn: Connection, aid: str) -> bool:
    """Unite one article's histories from both stores; True if the local copy changed."""
    def state(schema: str) -> tuple[tuple, list[tuple]]:  # schema: "" (this store's) or "src."
        current = conn.execute(
            f"SELECT content_hash, last_crawled_at, first_seen_at, revision, title, body, crawled_at "
            f"FROM {schema}articles WHERE article_id = ?", (aid,)).fetchone()
        history = conn.execute(
            f"SELECT content_hash, title, body, crawled_at FROM {schema}article_revisions "
            "WHERE article_id = ? ORDER BY revision", (aid,)).fetchall()
        return current, history or [(current[0], current[4], current[5], current[6])]

    (mine, my_history), (theirs, their_history) = state(""), state("src.")
    take_theirs = theirs[0] != mine[0] and theirs[1] > mine[1]
    current_hash = theirs[0] if take_theirs else mine[0]
    versions: dict[str, tuple] = {}
    for version in sorted(my_history + their_history, key=lambda v: v[3]):
        versions.setdefault(version[0], version)  # the first crawl that saw each content
    history = [v for h, v in versions.items() if h != current_hash] + [versions[current_hash]]

    if take_theirs:
        columns = [c for c in ARTICLE_COLUMNS if c != "article_id"]
        values = ["coalesce(s.site_id, articles.site_id)" if c == "site_id" else f"s.{c}" for c in columns]
        conn.execute(f"UPDATE articles SET ({', '.join(columns)}) = "
                     f"(SELECT {', '.join(values)} FROM src.articles AS s WHERE s.article_id = ?) "
                     "WHERE article_id = ?", (aid, aid))
        for table, child_columns in CHILD_COLUMNS.items():
            names = ", ".join(child_columns)
            conn.execute(f"DELETE FROM {table} WHERE article_id = ?", (aid,))
            conn.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM src.{table} "
                         "WHERE article_id = ?", (aid,))
    else:  # keeping ours: fill in a site_id only theirs knows
        conn.execute("UPDATE articles SET site_id = coalesce(site_id, "
                     "(SELECT s.site_id FROM src.articles AS s WHERE s.article_id = ?)) WHERE article_id = ?",
                     (aid, aid))
    conn.execute("DELETE FROM article_revisions WHERE article_id = ?", (aid,))
    if len(history) > 1:
        conn.executemany(
            f"INSERT INTO article_revisions ({', '.join(REVISION_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
            [(aid, number, h, title, body, crawled_at)
             for number, (h, title, body, crawled_at) in enumerate(history, start=1)])
    conn.execute(
        "UPDATE articles SET revision = ?, "
        "first_seen_at = CASE WHEN ? < first_seen_at THEN ? ELSE first_seen_at END, "
        "last_crawled_at = CASE WHEN ? > last_crawled_at THEN ? ELSE last_crawled_at END WHERE article_id = ?",
        (len(history), theirs[2], theirs[2], theirs[1], theirs[1], aid))
    return take_theirs or len(history) != mine[3]
