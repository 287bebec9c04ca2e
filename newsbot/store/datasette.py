"""Datasette for a store: the metadata (the packaged descriptions, facets and full-text wiring of
newsbot/data/datasette.json plus the canned queries, whose SQL lives here with the rest of newsbot's
SQL), and the columns it never serves (newsbot.store.serve applies them)."""

from __future__ import annotations

import copy
import json
import sqlite3
from importlib import resources
from typing import Any

from newsbot.items import FIELDS

# (table, column) never served: read as NULL by every query, the tables, row pages, JSON, canned
# queries and any SQL a visitor writes. A run's settings may hold credentials (a proxy URL, a
# PostgreSQL DSN), and Datasette can be served to a network (--host).
HIDDEN_COLUMNS = frozenset({("crawl_runs", "settings")})

# Every table's column descriptions stay in each column's menu (Datasette's cog) instead of a list
# above the rows, which would push the articles below the first screen.
STYLE_PATH = "/-/newsbot.css"
STYLE = "dl.column-descriptions { display: none; }\n"

# The database name the packaged file is written for; a store of another name gets the same.
PACKAGED_NAME = "newsbot"

# Named parameters (:day) become a form above the query's results in Datasette.
CANNED_QUERIES: dict[str, dict[str, str]] = {
    "stories_in_all_editions": {
        "title": "Stories in all three editions",
        "description": "Stories whose az, en and ru editions are all stored, newest first.",
        "sql": (
            "SELECT story_id, first_published_at, category_slug, title_az, title_en, title_ru, url_az, url_en, url_ru\n"
            "FROM story_editions\n"
            "WHERE title_az IS NOT NULL AND title_en IS NOT NULL AND title_ru IS NOT NULL\n"
            "ORDER BY first_published_at DESC"),
    },
    "todays_stories_by_category": {
        "title": "Today's stories by category",
        "description": "Stories first published on a Baku day (empty: today), per category: how many, "
                       "and their titles (en, else ru, else az).",
        "sql": (
            "SELECT category_slug, count(*) AS stories,\n"
            "       group_concat(coalesce(title_en, title_ru, title_az), ' · ') AS titles\n"
            "FROM story_editions\n"
            # A range, not substr(...) = day: the index on first_published_at finds the day's stories.
            "WHERE first_published_at >= coalesce(nullif(:day, ''), date('now', '+4 hours'))\n"
            "  AND first_published_at < date(coalesce(nullif(:day, ''), date('now', '+4 hours')), '+1 day')\n"
            "GROUP BY category_slug\n"
            "ORDER BY stories DESC, category_slug"),
    },
    "edited_articles": {
        "title": "Articles edited after publication",
        "description": "Articles whose content changed after they were first stored (revision > 1); "
                       "article_revisions holds every version.",
        "sql": (
            "SELECT language, title, revision, published_at, first_seen_at, crawled_at AS edit_seen_at, url,\n"
            "       article_id\n"
            "FROM articles\n"
            "WHERE revision > 1\n"
            "ORDER BY crawled_at DESC"),
    },
    "last_crawl_runs": {
        "title": "Last crawl runs",
        "description": "The last 50 crawls with their finish reasons (NULL: killed or still running), "
                       "duration and item counts.",
        "sql": (
            "SELECT run_id, spider, job_id, started_at, finished_at, finish_reason,\n"
            "       round((julianday(finished_at) - julianday(started_at)) * 86400) AS seconds,\n"
            "       items_new, items_updated, items_unchanged, items_dropped,\n"
            "       json_extract(stats, '$.\"log_count/ERROR\"') AS error_lines\n"
            "FROM crawl_runs\n"
            "ORDER BY run_id DESC\n"
            "LIMIT 50"),
    },
}


def datasette_metadata(database: str = PACKAGED_NAME) -> dict[str, Any]:
    """Datasette's metadata for a store that Datasette names `database` (its file name without
    the extension): the packaged file with the item fields' descriptions and the canned queries,
    under that name."""
    # importlib.resources: the packaged file is found inside an egg too.
    metadata = json.loads(resources.files("newsbot").joinpath("data/datasette.json").read_text(encoding="utf-8"))
    databases = metadata["databases"]
    entry = databases.pop(PACKAGED_NAME)
    for table, lists in (("articles", False), ("article_view", True)):  # the view holds lists as JSON
        columns = entry["tables"][table]["columns"]
        fields = {f.name: ("JSON array: " if f.kind.is_list else "") + f.doc for f in FIELDS
                  if lists or not f.kind.is_list}
        entry["tables"][table]["columns"] = {**fields, **columns}
    entry["queries"] = copy.deepcopy(CANNED_QUERIES)
    databases[database] = entry
    return metadata


def hide_columns(action: int, table: str | None, column: str | None, database: str | None,
                 trigger: str | None) -> int:
    """A SQLite authorizer: HIDDEN_COLUMNS read as NULL. SQLite's own column-level access control,
    so no query can get round it, as metadata (which only hides tables from the index) could be."""
    if action == sqlite3.SQLITE_READ and (table, column) in HIDDEN_COLUMNS:
        return sqlite3.SQLITE_IGNORE
    return sqlite3.SQLITE_OK
