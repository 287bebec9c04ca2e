"""Crawl runs (crawl_runs) and feed coverage (feed_coverage) writes. Each function is the work of
one write transaction: the caller runs it inside one (Store._write)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from newsbot.normalize import utc_now_iso


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def start_run(conn: sqlite3.Connection, spider: str, arguments: Mapping[str, Any], settings: Mapping[str, Any],
              job_id: str | None = None, started_at: str | None = None) -> int:
    """Record a crawl run starting; returns its run_id."""
    return conn.execute(
        "INSERT INTO crawl_runs (spider, started_at, job_id, arguments, settings) VALUES (?, ?, ?, ?, ?)",
        (spider, started_at or utc_now_iso(), job_id, _json(arguments), _json(settings)),
    ).lastrowid


def finish_run(conn: sqlite3.Connection, run_id: int, reason: str, counts: Mapping[str, int | None],
               stats: Mapping[str, Any] | None = None, finished_at: str | None = None) -> None:
    """Close a crawl run: its finish reason, item counts (keys: scraped, new, updated,
    unchanged, duplicate, dropped) and the crawler's final stats."""
    conn.execute(
        "UPDATE crawl_runs SET finished_at = ?, finish_reason = ?, items_scraped = ?, items_new = ?, "
        "items_updated = ?, items_unchanged = ?, items_duplicate = ?, items_dropped = ?, stats = ? "
        "WHERE run_id = ?",
        (finished_at or utc_now_iso(), reason, *(counts.get(k) for k in (
            "scraped", "new", "updated", "unchanged", "duplicate", "dropped")),
         _json(stats or {}), run_id),
    )


def record_coverage(conn: sqlite3.Connection, spider: str, language: str, oldest: str, newest: str) -> None:
    """Replace the feed stretch recorded for `spider` and `language` (the spider merges ranges itself)."""
    conn.execute(
        "INSERT INTO feed_coverage (spider, language, oldest, newest, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (spider, language) DO UPDATE SET oldest = excluded.oldest, newest = excluded.newest, "
        "updated_at = excluded.updated_at", (spider, language, oldest, newest, utc_now_iso()))
