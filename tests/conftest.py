"""Fixtures: the report.az replica (tests/replica) as a real subprocess on a free port, a real PostgreSQL,
and `db`, a fresh store target on each backend (with `rows` to query it)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.replica.client import RunningReplica, start_replica


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than 20 s")


@pytest.fixture
def replica() -> Iterator[Callable[..., RunningReplica]]:
    """Factory: replica(stories=60, faults=None, hidden=0, js_feed=False, seed=1) -> RunningReplica.

    Also other_spelling="301"|"404"|"serve", renamed_old="301"|"404", late=K, sitemaps=False,
    numbered_shards=True, category_pages="cumulative"|"paged", category_past_end="404"|"cap"|"empty",
    category_pagination="prev-next"|"numbered" (tests/replica/server.py).
    The object has .base_url, .port, .ground_truth(), .hits(), .publish(n), .edit(i), .rename(i),
    .publish_late(), .stop();
    every replica started through the factory is stopped at teardown.
    """
    started: list[RunningReplica] = []

    def start(stories: int = 60, faults: list | str | None = None, hidden: int = 0, js_feed: bool = False,
              seed: int = 1, **kwargs) -> RunningReplica:
        running = start_replica(stories=stories, faults=faults, hidden=hidden, js_feed=js_feed, seed=seed, **kwargs)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture(scope="session")
def shared_replica() -> Iterator[RunningReplica]:
    """One 60-story replica without faults for read-only tests (do not publish or edit on it)."""
    running = start_replica(stories=60)
    yield running
    running.stop()


@pytest.fixture
def warnings_caplog(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """caplog recording WARNING and above: what the drills and health checks judge a crawl by."""
    caplog.set_level(logging.WARNING)
    return caplog


@pytest.fixture(scope="session")
def postgres_server() -> Iterator["PostgresServer"]:
    """One real PostgreSQL cluster for the session (tests/postgres.py)."""
    from tests.postgres import remove, start_postgres

    server = start_postgres()
    yield server
    remove(server)


@pytest.fixture
def postgres_url(postgres_server, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on the session's PostgreSQL: its postgresql:// URL."""
    import re

    name = "t_" + re.sub(r"\W", "_", request.node.name.lower())[:50] + f"_{len(postgres_server.databases)}"
    return postgres_server.create_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path) -> Iterator[Path | str]:
    """A fresh store target on each backend: a path under tmp_path, or an empty PostgreSQL database's
    URL (the server starts only when a PostgreSQL case runs). Whatever store the test leaves there, its
    summaries must still agree with a scan of its articles (tests/test_summaries.py)."""
    target = tmp_path / "news.sqlite" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    yield target
    from newsbot.store import Store, StoreError
    from tests.test_summaries import assert_summaries_agree

    try:
        with Store(target, readonly=True) as store:
            current = store.schema_version == store.backend.SCHEMA_VERSION
    except StoreError:  # none was made, or the test left it unreadable on purpose
        return
    if current:
        assert_summaries_agree(target)


def rows(db: Path | str, sql: str, *params) -> list[tuple]:
    """`sql` (with ? placeholders) run on either backend's database, outside any Store."""
    from newsbot.store import is_postgres_url

    if is_postgres_url(db):
        import psycopg

        with psycopg.connect(str(db), autocommit=True) as conn:
            cursor = conn.execute(sql.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []
    import sqlite3

    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()
