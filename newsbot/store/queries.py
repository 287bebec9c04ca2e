"""Store's read-only queries. Each is its own read: it sees what other processes committed. Those
that need the current schema check it first; the others also read older schemas."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from newsbot import stats as stats_keys
from newsbot.items import FIELDS
from newsbot.normalize import canonical_url, url_key
from newsbot.site import split_article_path
from newsbot.store.articles import EXPORT_FIELDS, ITEM_FIELDS, article_dict
from newsbot.store.connection import Connection, StoreError


_NUMBERS = frozenset(f.name for f in FIELDS if f.kind.arrow in ("int32", "int64"))


@dataclass(frozen=True)
class StoredArticle:
    url: str
    article_id: str
    title: str
    published_at: str
    content_hash: str


class Queries:
    """The reads of newsbot.store.Store, whose backend gives `_conn`."""

    name: str
    schema_version: int
    backend: Any  # newsbot.store.sqlite.Backend or newsbot.store.postgres.Backend
    _conn: Connection

    def _current(self) -> Connection:
        """The connection, once the store is known to be of this schema version (a read-only store of
        an older one was never migrated)."""
        newest = self.backend.SCHEMA_VERSION
        if self.schema_version != newest:
            raise StoreError(f"{self.name} has schema version {self.schema_version}; open it read-write once "
                             f"(any crawl does) to migrate it to version {newest}")
        return self._conn

    def _before(self, version: int) -> bool:
        """An SQLite store older than `version` (which some lookups still read); never a PostgreSQL one."""
        return self.backend.kind == "sqlite" and self.schema_version < version

    def _rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        cursor = self._current().execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row)) for row in cursor]

    def lookup(self, urls: list[str]) -> dict[str, StoredArticle]:
        """The stored articles among `urls`, keyed by the URL as given (matched by url_key, so either
        spelling of a link, and an earlier URL of an article whose slug was edited, finds it)."""
        wanted: dict[str, list[str]] = {}
        if self._before(4):  # no article_urls: match the canonical spelling an older store kept
            for url in urls:
                canonical = canonical_url(url)
                for spelling in {canonical, canonical if canonical.endswith("/") else canonical + "/"}:
                    wanted.setdefault(spelling, []).append(url)
            rows = self._conn.select_in("SELECT url, url, article_id, title, published_at, content_hash "
                             "FROM articles WHERE url IN ({})", wanted)
        else:
            for url in urls:
                wanted.setdefault(url_key(url), []).append(url)
            rows = self._conn.select_in("SELECT u.url_key, a.url, a.article_id, a.title, a.published_at, "
                             "a.content_hash FROM article_urls AS u JOIN articles AS a USING (article_id) "
                             "WHERE u.url_key IN ({})", wanted)
        return {given: StoredArticle(*row) for key, *row in rows for given in wanted[key]}

    def articles_at(self, urls: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored articles among `urls`, in the item's shape (as iter_articles gives them),
        keyed by url_key: what `scrapy reextract` compares its items with before writing them."""
        columns = ", ".join(f"v.{name}" for name in ITEM_FIELDS)
        return {key: article_dict(tuple(row)) for key, *row in self._current().select_in(
            f"SELECT u.url_key, {columns} FROM article_urls AS u "
            "JOIN article_view AS v USING (article_id) WHERE u.url_key IN ({})",
            dict.fromkeys(url_key(url) for url in urls))}

    def journals_missing_lines(self) -> list[str]:
        """The JSON Lines files that miss lines of stored articles (a full disk), as open_journal keys them."""
        return [path for (path,) in self._conn.execute(
            "SELECT DISTINCT path FROM journal_missing ORDER BY path")]

    def identity_summary(self) -> dict[str, Any]:
        """Aliases, merged stories, learned and unknown category slugs (scrapy stats shows them)."""
        conn = self._current()
        return {
            "renamed_articles": conn.execute("SELECT renamed_articles FROM summary_totals").fetchone()[0],
            "article_aliases": conn.execute("SELECT count(*) FROM article_aliases").fetchone()[0],
            "story_aliases": conn.execute("SELECT count(*) FROM story_aliases").fetchone()[0],
            "learned": conn.execute(
                "SELECT language, slug, key FROM category_map ORDER BY language, slug").fetchall(),
            "categories": self._summed("language, category_slug", order="language, category_slug"),
        }

    def story_of(self, story_id: str) -> str:
        """The current id of a story id (an alias after a merge maps to the survivor)."""
        row = self._current().execute("SELECT story_id FROM story_aliases WHERE alias = ?",
                                      (story_id,)).fetchone()
        return row[0] if row else story_id

    def segment_keys(self, language: str) -> dict[str, str]:
        """URL segment -> the category key most of one edition's stored articles under it carry: what
        earlier crawls learnt of its categories from their stories' linked editions."""
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for url, key in self._conn.execute("SELECT url, category_slug FROM articles WHERE language = ?",
                                           (language,)):
            parts = split_article_path(urlsplit(url).path)
            if parts is not None:
                counts[parts[1]][key] += 1
        return {segment: keys.most_common(1)[0][0] for segment, keys in counts.items()}

    def _summed(self, keys: str, *, where: str = "", order: str) -> list[tuple]:
        """summary_articles' counts summed per `keys` (column names), as (*keys, articles) tuples."""
        return self._current().execute(
            f"SELECT {keys}, CAST(sum(articles) AS BIGINT) AS articles FROM summary_articles "
            f"{'WHERE ' + where if where else ''} GROUP BY {keys} HAVING sum(articles) > 0 ORDER BY {order}"
        ).fetchall()

    def count_articles(self) -> int:
        if self.schema_version < self.backend.SCHEMA_VERSION:  # an older store read as it is: no summaries
            return self._conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        return self._conn.execute("SELECT articles FROM summary_totals").fetchone()[0]

    def count_stories(self) -> int:
        return self._current().execute(
            "SELECT CAST(coalesce(sum(stories), 0) AS BIGINT) FROM summary_editions").fetchone()[0]

    def export_rows(self, *, since: date | None = None, until: date | None = None,
                    languages: Iterable[str] = (), category: str | None = None,
                    story: str | None = None, encoded: bool = False) -> Iterable[tuple]:
        """Articles as exports carry them, as tuples of EXPORT_FIELDS (the item's and the Baku day; the
        lists as JSON text), oldest first, read as they are consumed (Connection.stream). encoded: text as
        UTF-8 bytes, which Parquet's writer takes as they are (a str would be decoded only to be encoded back).
        since/until are Baku dates, both inclusive; articles without a date only match no date filter.
        story: a story id, or an id that was merged into one (an earlier export's), meaning that story."""
        conn = self._current()
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
        if story:
            where.append("story_id = ?")
            params.append(self.story_of(story))
        columns = [self.backend.utf8(name) if encoded and name not in _NUMBERS else name for name in EXPORT_FIELDS]
        sql = f"SELECT {', '.join(columns)} FROM article_view"
        if where:
            sql += " WHERE " + " AND ".join(where)
        # Not a generator function: the checks above and the query run now, not at the first next().
        return conn.stream(sql + " ORDER BY published_at, url", params)

    def iter_articles(self, **selection: Any) -> Iterator[dict[str, Any]]:
        """export_rows' articles (selection: its keywords), each a dict in the item's shape plus
        published_date."""
        return (article_dict(row, EXPORT_FIELDS) for row in self.export_rows(**selection))

    def count_by(self, by: str) -> list[tuple[str, int]]:
        """(key, articles) per Baku publication day, edition (language) or category slug."""
        key = {"day": "day", "edition": "language", "category": "category_slug"}[by]  # never user text
        return self._summed(key, order=key)

    def fill_rates(self) -> dict[str, float]:
        """Per item field, the share of articles where it is non-empty (word_count: > 0, site_id: not NULL)."""
        total, *filled = self._current().execute(
            f"SELECT articles, {', '.join(ITEM_FIELDS)} FROM summary_totals").fetchone()
        return {name: count / total if total else 0.0 for name, count in zip(ITEM_FIELDS, filled)}

    def complete_run_stats(self, spider: str, keys: Iterable[str], *, min_pages: int,
                           limit: int = 10) -> list[dict[str, Any]]:
        """The stats named by `keys` (those recorded) of the last `limit` complete runs of `spider`
        (finish_reason 'finished') whose stats say they saw at least `min_pages` article pages
        (newsbot.stats.PAGES_JUDGED), newest first; crawl health's history."""
        if self._before(2):  # crawl_runs.stats came with version 2
            return []
        keys = list(keys)
        # The run being recorded has no finish_reason yet.
        rows = self._conn.execute(
            "SELECT stats FROM crawl_runs WHERE spider = ? AND finish_reason = 'finished' AND stats IS NOT NULL "
            f"AND {self.backend.stat(stats_keys.PAGES_JUDGED)} >= ? ORDER BY run_id DESC LIMIT ?",
            (spider, min_pages, limit))
        return [{key: stats[key] for key in keys if key in stats}
                for stats in (json.loads(text) for (text,) in rows)]

    def search(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Full-text search over title and body, diacritics folded, best match first (an SQLite store
        takes FTS5's query syntax, a PostgreSQL one web-search syntax: words, "a phrase", -word, or)."""
        self._current()
        columns = ("article_id", "url", "language", "title", "snippet")
        return [dict(zip(columns, row)) for row in self.backend.search(query, limit)]

    def coverage(self, spider: str, language: str) -> tuple[str, str] | None:
        """(oldest, newest) of the feed stretch an earlier complete run of `spider` stored, if any."""
        if self._before(2):  # feed_coverage came with v2: no run has recorded any
            return None
        return self._conn.execute("SELECT oldest, newest FROM feed_coverage WHERE spider = ? AND language = ?",
                                  (spider, language)).fetchone()

    # --- The report's figures (scrapy report): each a list of plain tuples, oldest or largest first ---

    def articles_per_day(self) -> list[tuple[str, str, int]]:
        """(Baku publication day, edition, articles); undated articles are left out."""
        return self._summed("day, language", where="day != ''", order="day, language")

    def stories_by_editions(self) -> list[tuple[int, int]]:
        """(number of editions stored, stories with that many)."""
        return self._current().execute(
            "SELECT editions, stories FROM summary_editions WHERE stories > 0 ORDER BY editions").fetchall()

    def category_mix(self) -> list[tuple[str, str, int]]:
        """(edition, category key, articles)."""
        return self._summed("language, category_slug", order="language, articles DESC, category_slug")

    def run_history(self, limit: int = 200) -> list[dict[str, Any]]:
        """The last `limit` crawl runs, oldest first: spider, times, duration in seconds (None while
        running or when killed), finish reason (None: never recorded), item counts, and the error lines
        and failed pages their stats counted."""
        return self._rows(
            "SELECT * FROM (SELECT run_id, spider, started_at, finished_at, "
            f"{self.backend.seconds_between('started_at', 'finished_at')} AS seconds, finish_reason, "
            "items_new, items_updated, items_unchanged, items_dropped, "
            f"CASE WHEN stats IS NOT NULL THEN coalesce({self.backend.stat('log_count/ERROR')}, 0) END AS errors "
            "FROM crawl_runs ORDER BY run_id DESC LIMIT ?) AS runs ORDER BY run_id", limit)

    def freshness(self) -> list[tuple[str, int, int]]:
        """(edition, seconds from publication to the crawl that first stored it, to three significant figures
        (summaries.freshness_bucket), dated articles that took that long)."""
        return self._current().execute(
            "SELECT language, seconds, articles FROM summary_freshness WHERE articles > 0 "
            "ORDER BY language, seconds").fetchall()
