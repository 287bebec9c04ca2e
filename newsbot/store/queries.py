"""Read-only queries. Each is its own read on the connection given: it sees what other
processes committed. Those that need the current schema are guarded by the caller
(Store checks the version first); those that also read older schemas take it as an argument."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from newsbot import stats as stats_keys
from newsbot.site import split_article_path
from newsbot.normalize import canonical_url, url_key
from newsbot.store.articles import EXPORT_FIELDS, ITEM_FIELDS, LIST_FIELDS
from newsbot.store.connection import chunks

_COUNT_BY = {
    "day": "substr(published_at, 1, 10)",
    "edition": "language",
    "category": "category_slug",
}


@dataclass(frozen=True)
class StoredArticle:
    url: str
    article_id: str
    title: str
    published_at: str
    content_hash: str


def _article_dict(row: tuple, fields: tuple[str, ...] = ITEM_FIELDS) -> dict[str, Any]:
    article = dict(zip(fields, row))
    for field in LIST_FIELDS:
        article[field] = json.loads(article[field])
    return article


def lookup(conn: sqlite3.Connection, urls: list[str], schema_version: int) -> dict[str, StoredArticle]:
    """The stored articles among `urls`, keyed by the URL as given (matched by url_key, so either
    spelling of a link, and an earlier URL of an article whose slug was edited, finds it)."""
    if schema_version < 4:  # no article_urls: match the canonical spelling an older store kept
        return _lookup_by_url(conn, urls)
    wanted: dict[str, list[str]] = {}
    for url in urls:
        wanted.setdefault(url_key(url), []).append(url)
    found: dict[str, StoredArticle] = {}
    for chunk in chunks(list(wanted)):
        for key, *row in conn.execute(
            "SELECT u.url_key, a.url, a.article_id, a.title, a.published_at, a.content_hash "
            "FROM article_urls AS u JOIN articles AS a USING (article_id) "
            f"WHERE u.url_key IN ({', '.join('?' * len(chunk))})", chunk):
            article = StoredArticle(*row)
            for given in wanted[key]:
                found[given] = article
    return found


def _lookup_by_url(conn: sqlite3.Connection, urls: list[str]) -> dict[str, StoredArticle]:
    wanted: dict[str, list[str]] = {}
    for url in urls:
        canonical = canonical_url(url)
        for spelling in {canonical, canonical if canonical.endswith("/") else canonical + "/"}:
            wanted.setdefault(spelling, []).append(url)
    found: dict[str, StoredArticle] = {}
    for chunk in chunks(list(wanted)):
        for row in conn.execute(
            "SELECT url, article_id, title, published_at, content_hash FROM articles "
            f"WHERE url IN ({', '.join('?' * len(chunk))})", chunk):
            article = StoredArticle(*row)
            for given in wanted[article.url]:
                found[given] = article
    return found


def articles_at(conn: sqlite3.Connection, urls: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The stored articles among `urls` in the item's shape, keyed by url_key (matched through
    article_urls, so either spelling, and an earlier URL of an article whose slug was edited)."""
    keys = list(dict.fromkeys(url_key(url) for url in urls))
    found: dict[str, dict[str, Any]] = {}
    columns = ", ".join(f"v.{field}" for field in ITEM_FIELDS)
    for chunk in chunks(keys):
        for key, *row in conn.execute(
                f"SELECT u.url_key, {columns} FROM article_urls AS u JOIN article_view AS v USING (article_id) "
                f"WHERE u.url_key IN ({', '.join('?' * len(chunk))})", chunk):
            found[key] = _article_dict(tuple(row))
    return found


def journal_missing(conn: sqlite3.Connection, key: str) -> Iterator[dict[str, Any]]:
    """The articles stored while a JSON Lines journal refused their lines, as their lines would
    have been (the item's shape), oldest crawl first."""
    cursor = conn.execute(
        f"SELECT {', '.join(ITEM_FIELDS)} FROM article_view "
        "WHERE article_id IN (SELECT article_id FROM journal_missing WHERE path = ?) ORDER BY crawled_at, url", (key,))
    return (_article_dict(row) for row in cursor)


def journals_missing_lines(conn: sqlite3.Connection) -> list[str]:
    """The JSON Lines files (their keys) that miss lines of stored articles."""
    return [path for (path,) in conn.execute("SELECT DISTINCT path FROM journal_missing ORDER BY path")]


def identity_summary(conn: sqlite3.Connection) -> dict[str, Any]:
    """What the store knows of identity: aliases, merged stories, and category slugs per kind."""
    known_slugs = conn.execute(
        "SELECT language, category_slug, count(*) FROM articles GROUP BY language, category_slug "
        "ORDER BY language, category_slug").fetchall()
    return {
        "renamed_articles": conn.execute(
            "SELECT count(*) FROM (SELECT article_id FROM article_urls GROUP BY article_id HAVING count(*) > 1)"
        ).fetchone()[0],
        "article_aliases": conn.execute("SELECT count(*) FROM article_aliases").fetchone()[0],
        "story_aliases": conn.execute("SELECT count(*) FROM story_aliases").fetchone()[0],
        "learned": conn.execute("SELECT language, slug, key FROM category_map ORDER BY language, slug").fetchall(),
        "categories": known_slugs,
    }


def story_of(conn: sqlite3.Connection, story_id: str) -> str:
    """The current id of a story id, following a merge (an id that never merged is its own)."""
    row = conn.execute("SELECT story_id FROM story_aliases WHERE alias = ?", (story_id,)).fetchone()
    return row[0] if row else story_id


def segment_keys(conn: sqlite3.Connection, language: str) -> dict[str, str]:
    """URL segment -> the key most of the edition's stored articles under it carry: what earlier
    crawls learnt of its categories from their stories' linked editions."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for url, key in conn.execute("SELECT url, category_slug FROM articles WHERE language = ?", (language,)):
        parts = split_article_path(urlsplit(url).path)
        if parts is not None:
            counts[parts[1]][key] += 1
    return {segment: keys.most_common(1)[0][0] for segment, keys in counts.items()}


def count_articles(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM articles").fetchone()[0]


def iter_articles(conn: sqlite3.Connection, *, since: date | None = None, until: date | None = None,
                  languages: Iterable[str] = (), category: str | None = None,
                  story: str | None = None) -> Iterator[dict[str, Any]]:
    """Articles as exports carry them (EXPORT_FIELDS order, lists as lists), oldest first.
    since/until are Baku dates, both inclusive; articles without a date only match no date filter."""
    where, params = [], []
    if since:
        where.append("published_at >= ?")
        params.append(since.isoformat())
    if until:
        where.append("published_at < ?")
        params.append((until + timedelta(days=1)).isoformat())
    if since or until:
        where.append("published_at != ''")
    languages = list(languages)
    if languages:
        where.append(f"language IN ({', '.join('?' * len(languages))})")
        params.extend(languages)
    if category:
        where.append("category_slug = ?")
        params.append(category)
    if story:  # a story id, or one merged into another (an earlier export's): that story
        where.append("story_id = ?")
        params.append(story_of(conn, story))
    sql = f"SELECT {', '.join(EXPORT_FIELDS)} FROM article_view"
    if where:
        sql += " WHERE " + " AND ".join(where)
    # Not a generator function: the checks above and the query run now, not at the first next().
    cursor = conn.execute(sql + " ORDER BY published_at, url", params)
    return (_article_dict(row, EXPORT_FIELDS) for row in cursor)


def count_by(conn: sqlite3.Connection, by: str) -> list[tuple[str, int]]:
    """(key, articles) per Baku publication day, edition (language) or category slug."""
    key = _COUNT_BY[by]  # a fixed expression, never user text
    return conn.execute(f"SELECT {key} AS key, count(*) FROM articles GROUP BY key ORDER BY key").fetchall()


def fill_rates(conn: sqlite3.Connection) -> dict[str, float]:
    """Per item field, the share of articles where it is non-empty (word_count: > 0, site_id: not NULL)."""
    expressions = []
    for field in ITEM_FIELDS:
        if field in LIST_FIELDS:
            expressions.append(f"sum(EXISTS (SELECT 1 FROM {field} AS c WHERE c.article_id = a.article_id))")
        elif field == "word_count":
            expressions.append("sum(word_count > 0)")
        elif field == "site_id":
            expressions.append("sum(site_id IS NOT NULL)")
        else:
            expressions.append(f"sum({field} != '')")
    total, *filled = conn.execute(f"SELECT count(*), {', '.join(expressions)} FROM articles AS a").fetchone()
    return {field: (count or 0) / total if total else 0.0 for field, count in zip(ITEM_FIELDS, filled)}


def count_stories(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone()[0]


def complete_run_stats(conn: sqlite3.Connection, schema_version: int, spider: str, keys: Iterable[str], *,
                       min_pages: int, limit: int = 10) -> list[dict[str, Any]]:
    """The stats named by `keys` (those recorded) of the last `limit` complete runs of `spider`
    (finish_reason 'finished') whose stats say they saw at least `min_pages` article pages
    (newsbot.stats.PAGES_JUDGED), newest first; crawl health's history."""
    if schema_version < 2:  # crawl_runs.stats came with version 2
        return []
    keys = list(keys)
    # Keys hold slashes: quoted JSON paths. The run being recorded has no finish_reason yet.
    rows = conn.execute(
        "SELECT stats FROM crawl_runs WHERE spider = ? AND finish_reason = 'finished' AND stats IS NOT NULL "
        "AND json_valid(stats) AND json_extract(stats, ?) >= ? "
        "ORDER BY run_id DESC LIMIT ?", (spider, f'$."{stats_keys.PAGES_JUDGED}"', min_pages, limit)).fetchall()
    runs = []
    for (text,) in rows:
        stats = json.loads(text)
        runs.append({key: stats[key] for key in keys if key in stats})
    return runs


def search(conn: sqlite3.Connection, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Full-text search over title and body (FTS5 query syntax), best match first."""
    cursor = conn.execute(
        "SELECT a.article_id, a.url, a.language, a.title, "
        "snippet(articles_fts, 1, '[', ']', '…', 12) AS snippet "
        "FROM articles_fts JOIN articles AS a ON a.id = articles_fts.rowid "
        "WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?", (query, limit))
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row)) for row in cursor]


def coverage(conn: sqlite3.Connection, schema_version: int, spider: str, language: str) -> tuple[str, str] | None:
    """(oldest, newest) of the feed stretch an earlier complete run of `spider` stored, if any."""
    if schema_version < 2:  # feed_coverage came with v2: no run has recorded any
        return None
    row = conn.execute("SELECT oldest, newest FROM feed_coverage WHERE spider = ? AND language = ?",
                       (spider, language)).fetchone()
    return (row[0], row[1]) if row else None


# --- The report's figures (scrapy report): each a list of plain tuples, oldest or largest first ---


def articles_per_day(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """(Baku publication day, edition, articles); undated articles are left out."""
    return conn.execute(
        "SELECT substr(published_at, 1, 10) AS day, language, count(*) FROM articles WHERE published_at != '' "
        "GROUP BY day, language ORDER BY day, language").fetchall()


def stories_by_editions(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    """(number of editions stored, stories with that many)."""
    return conn.execute(
        "SELECT editions, count(*) FROM (SELECT count(DISTINCT language) AS editions FROM articles "
        "GROUP BY story_id) GROUP BY editions ORDER BY editions").fetchall()


def category_mix(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """(edition, category key, articles)."""
    return conn.execute(
        "SELECT language, category_slug, count(*) FROM articles GROUP BY language, category_slug "
        "ORDER BY language, count(*) DESC, category_slug").fetchall()


def run_history(conn: sqlite3.Connection, limit: int = 200) -> list[dict[str, Any]]:
    """The last `limit` crawl runs, oldest first: spider, times, duration in seconds (None while
    running or when killed), finish reason (None: never recorded), item counts, and the error lines
    and failed pages their stats counted."""
    cursor = conn.execute(
        "SELECT * FROM (SELECT run_id, spider, started_at, finished_at, "
        "(julianday(finished_at) - julianday(started_at)) * 86400.0 AS seconds, finish_reason, "
        "items_new, items_updated, items_unchanged, items_dropped, "
        "CASE WHEN json_valid(stats) THEN coalesce(json_extract(stats, '$.\"log_count/ERROR\"'), 0) END AS errors "
        "FROM crawl_runs ORDER BY run_id DESC LIMIT ?) ORDER BY run_id", (limit,))
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row)) for row in cursor]


def freshness(conn: sqlite3.Connection) -> list[tuple[str, float]]:
    """(edition, seconds from publication to the crawl that first stored it) per dated article."""
    return conn.execute(
        "SELECT language, (julianday(first_seen_at) - julianday(published_at_utc)) * 86400.0 FROM articles "
        "WHERE published_at_utc != '' AND first_seen_at != '' ORDER BY language").fetchall()
