"""Store: the one object callers use. It holds the connection and delegates each job to the
module that does it (connection, schema, articles, queries, runs, merge)."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from newsbot.store import merge, queries, runs, schema
from newsbot.store.articles import (Journal, WriteResult, _Row, article_row, journal_reconciled, journal_size,
                                    journal_verified, newest_rows, unstored_lines, write_rows)
from newsbot.store.connection import Checkpointer, StoreError, open_readonly, open_writable, transaction
from newsbot.store.merge import MergeResult
from newsbot.store.queries import StoredArticle

_T = TypeVar("_T")
# Missing articles appended per write while a journal is reconciled (a bounded read of the store).
_JOURNAL_BATCH = 500


class Store:
    """The newsbot SQLite database. Use as a context manager, or call close().

    ``readonly=True`` never creates or migrates; it reads databases of this
    version (and the lookups also older ones) and refuses newer ones.
    """

    def __init__(self, path: str | os.PathLike, timeout: float = 30.0, readonly: bool = False,
                 retries: int = 3, background_checkpoints: bool = False) -> None:
        """background_checkpoints: checkpoint the WAL on a thread of its own (for bulk writers)."""
        self.path = Path(path)
        self.timeout = float(timeout)
        self.readonly = readonly
        self.retries = retries  # write attempts after the first, each after sqlite waited `timeout`
        self._checkpointer: Checkpointer | None = None
        if readonly:
            self._conn = open_readonly(self.path, self.timeout, lambda conn: schema.check_readable(conn, self.path))
        else:
            self._conn = open_writable(self.path, self.timeout, lambda conn: schema.migrate(
                conn, self.path, lambda work: transaction(
                    conn, work, path=self.path, timeout=self.timeout, retries=self.retries)))
        self.schema_version: int = schema.version_of(self._conn)
        if background_checkpoints and not readonly:
            # Autocheckpoint stays on as a backstop, at ~200 MB of WAL, should the thread fall behind.
            self._conn.execute("PRAGMA wal_autocheckpoint = 50000")
            self._checkpointer = Checkpointer(self.path, self.timeout)

    def _require_current(self) -> None:
        schema.require_current(self.path, self.schema_version)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- Writing -----------------------------------------------------------

    def _write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run work(conn) in one BEGIN IMMEDIATE transaction, retrying with backoff while another
        process holds the write lock (sqlite itself already waited `timeout` seconds each time)."""
        checkpointer = self._checkpointer
        return transaction(self._conn, work, path=self.path, timeout=self.timeout, retries=self.retries,
                           on_commit=checkpointer.request if checkpointer is not None else None)

    def write(self, items: Iterable[Any], journal: Journal | None = None) -> WriteResult:
        """Store articles (ArticleItems, dicts, any item type) in one transaction.

        Decided under the write lock against what is stored, so it is right even when another
        process wrote in between: new -> inserted; same content_hash -> only last_crawled_at
        moves; different content_hash and crawled later -> updated, with the previous and new
        content kept in article_revisions; crawled earlier than what is stored -> left alone
        (articles.decide says which).
        """
        return self.write_rows(map(article_row, items), journal)

    def write_rows(self, rows: Iterable[_Row], journal: Journal | None = None) -> WriteResult:
        """write() of items already made into rows by article_row (which need not hold the store).

        journal: a file that gets the articles this transaction keeps (new or updated), under the
        ids the store gave them, written inside the transaction; its committed size is recorded
        with them, so open_journal can cut what a transaction that never committed left there."""
        newest = newest_rows(rows)  # one article twice: the newest crawl wins
        if not newest:
            return WriteResult()
        try:
            result = self._write(lambda conn: write_rows(conn, newest, journal))
        except BaseException:
            if journal is not None:
                journal.rollback()
            raise
        if journal is not None:
            journal.committed()
        return result

    def open_journal(self, journal: Journal) -> tuple[int, int]:
        """Before a journal's first write, bring it in line with the store, in one write
        transaction (so no other process is between appending and committing): cut the lines of
        transactions that never committed (a killed crawl: at the end of the file, and once per file
        anywhere in it, for files written before v5), then append, from the store, the articles
        stored while the file refused their lines (a full disk).
        Returns (lines cut, lines appended); OSError if the file refuses them again (they stay due)."""
        def reconcile(conn: sqlite3.Connection) -> tuple[int, int]:
            cut = journal.trim(journal_size(conn, journal.key))
            if not journal_verified(conn, journal.key):
                # Once per file: one written before v5 may hold uncommitted lines mid-file.
                unstored = unstored_lines(conn, journal.versions())
                if unstored:
                    journal.drop_lines(unstored)
                    cut += len(unstored)
            missing, appended = queries.journal_missing(conn, journal.key), 0
            while records := list(islice(missing, _JOURNAL_BATCH)):
                journal.append(records)
                appended += len(records)
            journal_reconciled(conn, journal.key, journal.size())
            return cut, appended
        try:
            result = self._write(reconcile)
        except BaseException:
            journal.rollback()
            raise
        journal.committed()
        return result

    def journals_missing_lines(self) -> list[str]:
        """The JSON Lines files that miss lines of stored articles (a full disk), as open_journal keys them."""
        return queries.journals_missing_lines(self._conn)

    def start_run(self, spider: str, arguments: Mapping[str, Any], settings: Mapping[str, Any],
                  job_id: str | None = None, started_at: str | None = None) -> int:
        """Record a crawl run starting; returns its run_id for finish_run()."""
        return self._write(lambda conn: runs.start_run(conn, spider, arguments, settings, job_id, started_at))

    def finish_run(self, run_id: int, reason: str, counts: Mapping[str, int | None],
                   stats: Mapping[str, Any] | None = None, finished_at: str | None = None) -> None:
        """Close a crawl run: its finish reason, item counts (keys: scraped, new, updated,
        unchanged, duplicate, dropped) and the crawler's final stats."""
        self._write(lambda conn: runs.finish_run(conn, run_id, reason, counts, stats, finished_at))

    def record_coverage(self, spider: str, language: str, oldest: str, newest: str) -> None:
        """Replace the feed stretch recorded for `spider` and `language` (the spider merges ranges itself)."""
        self._write(lambda conn: runs.record_coverage(conn, spider, language, oldest, newest))

    # --- Reading (each call is its own read: it sees what other processes committed) ---

    def lookup(self, urls: list[str]) -> dict[str, StoredArticle]:
        """The stored articles among `urls`, keyed by the URL as given (matched canonically)."""
        return queries.lookup(self._conn, urls, self.schema_version)

    def articles_at(self, urls: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored articles among `urls`, in the item's shape (as iter_articles gives them),
        keyed by url_key: what `scrapy reextract` compares its items with before writing them."""
        self._require_current()
        return queries.articles_at(self._conn, urls)

    def count_articles(self) -> int:
        return queries.count_articles(self._conn)

    def segment_keys(self, language: str) -> dict[str, str]:
        """URL segment -> category key of one edition, as its stored articles carry them."""
        return queries.segment_keys(self._conn, language)

    def iter_articles(self, *, since: date | None = None, until: date | None = None,
                      languages: Iterable[str] = (), category: str | None = None,
                      story: str | None = None) -> Iterator[dict[str, Any]]:
        """Articles as exports carry them (EXPORT_FIELDS: the item's and the Baku day), oldest first.
        since/until are Baku dates, both inclusive; articles without a date only match no date filter.
        story: a story id, or an id that was merged into one (an earlier export's), meaning that story."""
        self._require_current()
        return queries.iter_articles(self._conn, since=since, until=until, languages=languages,
                                     category=category, story=story)

    def count_by(self, by: str) -> list[tuple[str, int]]:
        """(key, articles) per Baku publication day, edition (language) or category slug."""
        self._require_current()
        return queries.count_by(self._conn, by)

    def fill_rates(self) -> dict[str, float]:
        """Per item field, the share of articles where it is non-empty (word_count: > 0, site_id: not NULL)."""
        self._require_current()
        return queries.fill_rates(self._conn)

    def identity_summary(self) -> dict[str, Any]:
        """Aliases, merged stories, learned and unknown category slugs (scrapy stats shows them)."""
        self._require_current()
        return queries.identity_summary(self._conn)

    def story_of(self, story_id: str) -> str:
        """The current id of a story id (an alias after a merge maps to the survivor)."""
        self._require_current()
        return queries.story_of(self._conn, story_id)

    def count_stories(self) -> int:
        self._require_current()
        return queries.count_stories(self._conn)

    def complete_run_stats(self, spider: str, keys: Iterable[str], *, min_pages: int,
                           limit: int = 10) -> list[dict[str, Any]]:
        """The stats named by `keys` (those recorded) of the last `limit` complete runs of `spider`
        (finish_reason 'finished') whose stats say they saw at least `min_pages` article pages
        (newsbot/article_pages), newest first; crawl health's history."""
        return queries.complete_run_stats(self._conn, self.schema_version, spider, keys,
                                          min_pages=min_pages, limit=limit)

    def search(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Full-text search over title and body (FTS5 query syntax), best match first."""
        self._require_current()
        return queries.search(self._conn, query, limit)

    # --- The report's figures (scrapy report) -------------------------------

    def articles_per_day(self) -> list[tuple[str, str, int]]:
        """(Baku publication day, edition, articles), oldest day first; undated articles left out."""
        self._require_current()
        return queries.articles_per_day(self._conn)

    def stories_by_editions(self) -> list[tuple[int, int]]:
        """(editions stored, stories with that many)."""
        self._require_current()
        return queries.stories_by_editions(self._conn)

    def category_mix(self) -> list[tuple[str, str, int]]:
        """(edition, category key, articles)."""
        self._require_current()
        return queries.category_mix(self._conn)

    def run_history(self, limit: int = 200) -> list[dict[str, Any]]:
        """The last `limit` crawl runs, oldest first, with duration, finish reason, counts and errors."""
        self._require_current()
        return queries.run_history(self._conn, limit)

    def freshness(self) -> list[tuple[str, float]]:
        """(edition, seconds from publication to first stored) of every dated article."""
        self._require_current()
        return queries.freshness(self._conn)

    def coverage(self, spider: str, language: str) -> tuple[str, str] | None:
        """(oldest, newest) of the feed stretch an earlier complete run of `spider` stored, if any."""
        return queries.coverage(self._conn, self.schema_version, spider, language)

    # --- Merging -----------------------------------------------------------

    def merge_from(self, other_path: str | os.PathLike) -> MergeResult:
        """Copy another store's articles, with their tags, images, translations and revisions, and
        join its story graph, URLs and learned categories to this store's (newsbot.store.merge).

        An article only there is added; one in both (the same url_key, or the same edition's
        site_id) keeps the content of the crawl that saw it last, and the revision histories are
        united by content_hash (so nothing is duplicated and merging twice changes nothing). A
        shard of an older schema (from merge._MERGE_MIN_VERSION) is migrated in a scratch copy,
        never in place. A site_id is never replaced by a NULL.
        """
        if self.readonly:
            raise StoreError(f"{self.path} is open read-only")
        other = Path(other_path)
        merge.check_shard(self.path, other)
        with Store(other, timeout=self.timeout, readonly=True) as source:
            merge.check_shard_version(other, source.schema_version)
        with tempfile.TemporaryDirectory(prefix="newsbot-merge-") as scratch:
            copy = Path(scratch) / other.name
            merge.copy_store(other, copy, self.timeout)
            Store(copy, timeout=self.timeout).close()  # migrates the copy of an older shard
            return merge.merge_attached_from(self._conn, copy, self._write)
