"""A block (issue 13): the site's WAF answering 403/429 or challenge pages closes the crawl as
`blocked` within a few requests, and `too_many_errors` is judged as failures come, every failure
line naming its HTTP status. Real crawls against the replica's block faults (tests/replica/faults.py)."""

from __future__ import annotations

import re
import socket

import pytest
import pytest_twisted

from newsbot.outcome import exit_code
from newsbot.settings import CONCURRENT_REQUESTS, NEWSBOT_BLOCK_AFTER, RETRY_TIMES
from tests.crawling import crawl_settings, logged, scrapy_cli
from tests.test_fault_drills import (ANY_ARTICLE, EN_ARTICLE, assert_stored_exactly, drill_crawl, english,
                                     english_paths, only, path_of, pick, stored_articles, urls)
from tests.replica.faults import selected
from tests.test_health import stats_from_log

URL = re.compile(r"https?://\S+")


def test_a_block_closes_the_crawl_as_blocked_within_a_few_requests(replica, tmp_path):
    block_after = 40
    site = replica(stories=60, faults=[{"block_after": block_after}])
    db = tmp_path / "news.sqlite"
    run = scrapy_cli("crawl", "latest", "-s", f"NEWSBOT_BASE_URL={site.base_url}", "-s", f"NEWSBOT_DB={db}",
                     "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0", "-s", "NEWSBOT_LATEST_SINCE=",
                     "-s", "TELNETCONSOLE_ENABLED=0", "-s", "NEWSBOT_RETRY_BACKOFF=0.05")
    log = run.stderr
    assert "'finish_reason': 'blocked'" in log, log[-3000:]
    assert run.returncode == exit_code("blocked") == 1
    assert "Traceback (most recent call last)" not in log and "CRITICAL" not in log, log[-3000:]
    # Stopped at once: the block answers in a row, plus what was in flight; the queue (~180 articles)
    # was left. "In flight" is up to two windows: Scrapy frees a download slot, and may refill it,
    # before the response reaches the block detector, so each answer of the first window can be
    # followed by one more request before the detector has counted enough of them (seen: 23).
    hits = site.hits()
    after_block = hits["total"] - hits["paths"].get("/robots.txt", 0) - block_after
    assert 0 < after_block <= NEWSBOT_BLOCK_AFTER + 2 * CONCURRENT_REQUESTS, hits["total"]
    assert hits["total"] < 120, hits["total"]
    # One ERROR line, naming the status and a URL.
    errors = logged(log, "ERROR")
    assert len(errors) == 1, errors
    assert "blocked" in errors[0] and "HTTP 403" in errors[0] and URL.search(errors[0]), errors
    assert re.search(r"'newsbot/blocked/403': (\d+)", log)
    assert int(re.search(r"'newsbot/blocked/403': (\d+)", log)[1]) >= NEWSBOT_BLOCK_AFTER


@pytest_twisted.ensureDeferred
async def test_challenge_pages_close_the_crawl_as_blocked(replica, tmp_path, warnings_caplog):
    site = replica(stories=60, faults=[{"match": ANY_ARTICLE, "mode": "challenge"}])
    db = tmp_path / "news.sqlite"
    result = await drill_crawl("latest", crawl_settings(site.base_url, db), lang="en")
    assert result.reason == "blocked", result.stats
    assert result.stat("newsbot/blocked/challenge") >= NEWSBOT_BLOCK_AFTER
    # A challenge page is no page of the site: never parsed as an article (no drop, no item).
    assert not result.items and not any(k.startswith("newsbot/dropped/") for k in result.stats)
    article_hits = sum(n for path, n in site.hits()["paths"].items() if re.search(EN_ARTICLE, path))
    assert article_hits <= NEWSBOT_BLOCK_AFTER + CONCURRENT_REQUESTS < len(english(site))
    errors = [r.getMessage() for r in warnings_caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "blocked" in errors[0] and "challenge" in errors[0] and URL.search(errors[0])


@pytest_twisted.ensureDeferred
async def test_a_lone_429_is_waited_out_not_taken_for_a_block(replica, tmp_path, warnings_caplog):
    [limited] = pick(english_paths(30), 1)
    site = replica(stories=30, faults=[{"match": only(limited), "status": 429, "retry_after": 1, "times": 1}])
    db = tmp_path / "news.sqlite"
    # The default NEWSBOT_BLOCK_AFTER: the 429 is counted as a block answer, then waited out.
    result = await drill_crawl("latest", crawl_settings(site.base_url, db), lang="en")
    assert result.reason == "finished", result.stats
    assert_stored_exactly(db, english(site))
    assert result.stat("newsbot/blocked/429") == 1
    assert result.stat("newsbot/retry/retry_after_honoured") == 1
    [url] = urls(site, limited)
    statuses = result.timeline[url]
    assert [s for s, _ in statuses] == [429, 200] and statuses[1][1] - statuses[0][1] >= 0.95, statuses
    assert result.errors == 0


@pytest_twisted.ensureDeferred
async def test_too_many_errors_closes_mid_crawl_and_each_failure_names_its_status(
        replica, tmp_path, warnings_caplog):
    site = replica(stories=200, faults=[{"match": EN_ARTICLE, "rate": 0.9, "status": 503}])
    truth = english(site)
    db = tmp_path / "news.sqlite"
    result = await drill_crawl("latest", crawl_settings(site.base_url, db), lang="en")
    assert result.reason == "too_many_errors", result.stats
    # Judged as the failures came: a failing page costs 1 + RETRY_TIMES requests, and most of them
    # were never sent (draining the queue sends them all, then closes when the spider goes idle).
    failing = [t for t in truth if selected(path_of(t["url"]), 0.9)]
    article_hits = sum(n for path, n in site.hits()["paths"].items() if re.search(EN_ARTICLE, path))
    print("article requests", article_hits, "of", len(failing) * (1 + RETRY_TIMES) + len(truth) - len(failing))
    assert article_hits < len(failing) * (1 + RETRY_TIMES) // 2, (article_hits, len(failing))
    assert result.stat("retry/max_reached") < len(failing) // 2
    failed = [r.getMessage() for r in warnings_caplog.records if r.getMessage().startswith("Article page failed")]
    assert failed and all(re.fullmatch(r"Article page failed: http\S+ \(HTTP 503 after 4 retries\)", m)
                          for m in failed), failed[:3]
    assert all(r.levelname == "ERROR" for r in warnings_caplog.records
               if r.getMessage().startswith("Article page failed"))
    assert not any("Ignoring non-200 response" in r.getMessage() for r in warnings_caplog.records)
    assert len(stored_articles(db)) < len(truth)


@pytest.mark.parametrize("base_url", ["refused", "http://report.invalid"])
def test_an_unreachable_site_closes_site_unreachable_at_once_in_one_line(tmp_path, base_url):
    if base_url == "refused":
        with socket.socket() as sock:  # a port nothing listens on
            sock.bind(("127.0.0.1", 0))
            base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    run = scrapy_cli("crawl", "latest", "-s", f"NEWSBOT_BASE_URL={base_url}",
                     "-s", f"NEWSBOT_DB={tmp_path / 'n.sqlite'}")
    assert run.returncode == 1, run.stderr[-3000:]
    stats = stats_from_log(run.stderr)
    assert stats["finish_reason"] == "site_unreachable"
    # Not retried: the first failures end it (offline, retries only made the crawl take a minute to fail).
    assert "retry/count" not in stats and stats["downloader/request_count"] <= 4, stats
    errors = logged(run.stderr, "ERROR")
    host = base_url.split("//")[1].split(":")[0]
    assert len(errors) == 1 and errors[0].startswith(f"Crawl is broken (site_unreachable): cannot reach {host} ")
    assert "python -m tests.replica" in errors[0] and "NEWSBOT_BASE_URL" in errors[0]
    assert not logged(run.stderr, "WARNING") and "Traceback" not in run.stderr
