"""Fixtures: the report.az replica (tests/replica) as a real subprocess on a free port."""

from __future__ import annotations

import logging
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
