"""The summary tables `scrapy stats` and `scrapy report` read (schema v8 on SQLite, v3 on PostgreSQL):
what they count, and their first filling from the articles a store already holds. Triggers keep them
(newsbot/data/migrate_v7_v8.sql, pg_migrate_v2_v3.sql), so this is also the definition those triggers
follow and the tests check them against."""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from newsbot.items import ITEM_FIELDS, LIST_FIELDS
from newsbot.store.connection import Connection

logger = logging.getLogger("newsbot.store")

# When an article counts as having a field (its fill rate): a list field has a row in its table.
FILLED: dict[str, str] = {name: "site_id IS NOT NULL" if name == "site_id" else "word_count > 0"
                          if name == "word_count" else f"{name} != ''"
                          for name in ITEM_FIELDS if name not in LIST_FIELDS}

# Freshness is kept to three significant figures of seconds: (below this many seconds, round to).
_FIGURES = ((1_000, 1), (10_000, 10), (100_000, 100), (1_000_000, 1_000), (10_000_000, 10_000))


def freshness_bucket(seconds: int) -> int:
    """`seconds` cut to three significant figures, towards zero (as the triggers' SQL does)."""
    step = next((step for below, step in _FIGURES if abs(seconds) < below), 100_000)
    return abs(seconds) // step * step * (1 if seconds >= 0 else -1)


# A UTC timestamp as the store writes them (YYYY-MM-DDTHH:MM:SS, perhaps a fraction, Z): what the triggers'
# SQL counts too (SQLite's GLOB, PostgreSQL's regular expression), each by its whole seconds.
_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}.*Z", re.DOTALL)


def latency(published_at_utc: str, first_seen_at: str) -> int | None:
    """Seconds from publication to first stored, each time's fraction dropped; None unless both are UTC
    timestamps as the store writes them."""
    if not _UTC.fullmatch(published_at_utc) or not _UTC.fullmatch(first_seen_at):
        return None
    try:
        delta = datetime.fromisoformat(first_seen_at[:19]) - datetime.fromisoformat(published_at_utc[:19])
    except ValueError:  # no such day or time
        return None
    return int(delta.total_seconds())


def build(conn: Connection) -> None:
    """Fill the (empty) summary tables from the articles, inside the migration's write transaction, so
    no write lands between the filling and the triggers that keep them. Logs a line per step: on a large
    store each is a pass over the articles."""
    steps: list[tuple[str, Callable[[], None]]] = [
        ("articles per day, edition and category", lambda: conn.execute(
            "INSERT INTO summary_articles (day, language, category_slug, articles) "
            "SELECT substr(published_at, 1, 10) AS day, language, category_slug, count(*) FROM articles "
            "GROUP BY day, language, category_slug")),
        ("fill rates", lambda: conn.execute(
            f"UPDATE summary_totals SET ({', '.join(['articles', *FILLED])}) = (SELECT count(*), "
            + ", ".join(f"count(*) FILTER (WHERE {condition})" for condition in FILLED.values())
            + " FROM articles)")),
        ("articles with tags, images and editions linked, and renamed", lambda: conn.execute(
            f"UPDATE summary_totals SET ({', '.join([*LIST_FIELDS, 'renamed_articles'])}) = ("
            + ", ".join(f"(SELECT count(DISTINCT article_id) FROM {name})" for name in LIST_FIELDS)
            + ", (SELECT count(*) FROM (SELECT article_id FROM article_urls GROUP BY article_id "
              "HAVING count(*) > 1) AS renamed))")),
        ("stories by number of editions", lambda: conn.execute(
            "INSERT INTO summary_editions (editions, stories) SELECT editions, count(*) FROM "
            "(SELECT count(DISTINCT language) AS editions FROM articles GROUP BY story_id) AS stories "
            "GROUP BY editions")),
        ("freshness", lambda: _build_freshness(conn)),
    ]
    started = time.monotonic()
    for number, (what, step) in enumerate(steps, start=1):
        logger.info("Building the store's summaries, step %d of %d: %s", number, len(steps), what)
        step()
    logger.info("Built the store's summaries in %.0f s", time.monotonic() - started)


def _build_freshness(conn: Connection) -> None:
    histogram: Counter[tuple[str, int]] = Counter()
    for language, published, first_seen in conn.stream(
            "SELECT language, published_at_utc, first_seen_at FROM articles "
            "WHERE published_at_utc != '' AND first_seen_at != ''"):
        seconds = latency(published, first_seen)
        if seconds is not None:
            histogram[language, freshness_bucket(seconds)] += 1
    conn.executemany("INSERT INTO summary_freshness (language, seconds, articles) VALUES (?, ?, ?)",
                     [(language, seconds, count) for (language, seconds), count in histogram.items()])
