"""Fault drills: real crawls over real sockets against the replica's fault modes (tests/replica/faults.py).

Every drill checks the same contract:
- every *reachable* article (the ground truth minus those whose fault is permanent:
  no body, oversized, redirect loop, always too slow...) is in the SQLite store exactly
  once, every field as the ground truth says;
- every failure is counted in the stats with its reason;
- the process never crashes: finish_reason "finished", no CRITICAL, no Python traceback
  in the log.

Drills crawl the English edition of a small replica (fast); the SIGKILL drill runs
`scrapy crawl` as a subprocess, kills it with SIGKILL and resumes it with the same JOBDIR.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_twisted
from scrapy import signals
from scrapy.crawler import CrawlerRunner

from newsbot.store import Store
from tests.crawling import ROOT, CrawlResult, assert_matches_ground_truth, crawl_settings
from tests.replica.faults import selected

# The English edition's article pages and category listings (page 1 and /page/N), as fault-rule regexes.
# An article path ends with a slash or not, as the page's design has it (the crawler requests it as linked).
EN_ARTICLE = r"^/en/(?!latest-news/|infinity/)[^/]+/(?!page/)[^/]+/?$"
EN_LISTING = r"^/en/(?!latest-news/?$|infinity/)[^/]+(?:/page/\d+)?/?$"
# Article pages of every edition (az is unprefixed).
ANY_ARTICLE = r"^/(?:(?:en|ru)/)?(?!(?:en|ru|infinity|uploads|son-xeberler|latest-news|poslednie-novosti)/)[^/]+/(?!page/)[^/]+/?$"
RETRY_503 = "retry/reason_count/503 Service Unavailable"
RETRY_500 = "retry/reason_count/500 Internal Server Error"


# --- helpers ------------------------------------------------------------------------------

def path_of(url: str) -> str:
    return urlsplit(url).path


def only(paths: list[str]) -> str:
    """A fault-rule regex matching exactly these pages."""
    return "^(?:" + "|".join(re.escape(p) for p in paths) + ")$"


def english(site) -> list[dict]:
    return [t for t in site.ground_truth() if t["language"] == "en"]


def english_paths(stories: int, seed: int = 1) -> list[str]:
    """The English article paths of a replica of that size, known before it starts (the corpus is
    deterministic), so a drill can aim its faults at chosen pages."""
    from tests.replica.content import Corpus, State

    return sorted(path_of(t["url"]) for t in State(Corpus(stories, seed)).truth_records("http://replica")
                  if t["language"] == "en")


def pick(paths: list[str], *counts: int) -> list[list[str]]:
    """Disjoint groups of `counts` paths, spread evenly over the list (deterministic)."""
    step = max(1, len(paths) // (sum(counts) + 1))
    chosen = paths[step::step][:sum(counts)]
    assert len(chosen) == sum(counts)
    groups, start = [], 0
    for count in counts:
        groups.append(chosen[start:start + count])
        start += count
    return groups


def urls(site, paths: list[str]) -> list[str]:
    return [site.base_url + p for p in paths]


def selected_paths(truth: list[dict], pattern: str, rate: float) -> list[str]:
    """The ground-truth pages a rule (pattern, rate) applies to."""
    regex = re.compile(pattern)
    return [t["url"] for t in truth if regex.search(path_of(t["url"])) and selected(path_of(t["url"]), rate)]


class Drill(CrawlResult):
    """A crawl result plus, per URL, the (status, time) of every response the downloader got."""

    timeline: dict[str, list[tuple[int, float]]]


async def drill_crawl(spider: str, settings, **spider_args: Any) -> Drill:
    """tests.crawling.crawl, also recording every downloaded response (retried ones included)."""
    runner = CrawlerRunner(settings)
    crawler = runner.create_crawler(spider)
    result = Drill([], {})
    result.timeline = {}

    def item_scraped(item, response, spider):
        result.items.append(dict(item))

    def response_downloaded(response, request, spider):
        result.timeline.setdefault(request.url, []).append((response.status, time.monotonic()))

    crawler.signals.connect(item_scraped, signals.item_scraped)
    crawler.signals.connect(response_downloaded, signals.response_downloaded)
    await runner.crawl(crawler, **spider_args)
    result.stats = dict(crawler.stats.get_stats())
    return result


def assert_never_crashed(result: CrawlResult, caplog: pytest.LogCaptureFixture) -> None:
    assert result.reason == "finished", result.stats
    assert "log_count/CRITICAL" not in result.stats
    tracebacks = [r.getMessage()[:500] for r in caplog.records
                  if r.exc_info or "Traceback (most recent call last)" in r.getMessage()]
    assert not tracebacks, tracebacks


def assert_log_is_clean(text: str) -> None:
    assert "Traceback (most recent call last)" not in text, text[-3000:]
    assert "CRITICAL" not in text, text[-3000:]


def stored_articles(db: Path) -> list[dict]:
    with Store(db, readonly=True) as store:
        return list(store.iter_articles())


def assert_stored_exactly(db: Path, expected: list[dict]) -> None:
    """The store holds exactly these articles, once each, every field as given, never rewritten."""
    assert_matches_ground_truth(stored_articles(db), expected)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows, urls, rewritten = conn.execute(
            "SELECT count(*), count(DISTINCT url), sum(revision > 1) FROM articles").fetchone()
    assert rows == urls == len(expected) and not rewritten


def without(truth: list[dict], urls: list[str]) -> list[dict]:
    gone = set(urls)
    return [t for t in truth if t["url"] not in gone]


def timeout_count(stats: dict, prefix: str) -> int:
    return sum(v for k, v in stats.items() if k.startswith(prefix) and "Timeout" in k)


# --- HTTP errors --------------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_bursts_of_500_and_503_are_retried_until_every_article_is_stored(replica, tmp_path, warnings_caplog):
    faults = [
        {"match": r"^/en/$", "status": 503, "times": 1},
        {"match": EN_ARTICLE, "rate": 0.15, "status": 503, "times": 2},
        {"match": EN_LISTING, "rate": 0.5, "status": 500, "times": 1},
    ]
    site = replica(stories=60, faults=faults)
    truth = english(site)
    db = tmp_path / "news.sqlite"
    result = await drill_crawl("category", crawl_settings(site.base_url, db), lang="en")

    assert_never_crashed(result, warnings_caplog)
    assert_stored_exactly(db, truth)
    # Every fault counted with its reason: each faulty target failed exactly `times` times.
    targets = site.hits()["targets"]
    articles_503 = [t for t in targets if re.search(EN_ARTICLE, t) and selected(t, 0.15)]
    listings_500 = [t for t in targets if re.search(EN_LISTING, t) and selected(t, 0.5)]
    assert articles_503 and listings_500
    assert all(targets[t] == 3 for t in articles_503) and all(targets[t] == 2 for t in listings_500)
    assert result.stat(RETRY_503) == 2 * len(articles_503) + 1
    assert result.stat(RETRY_500) == len(listings_500)
    assert result.stat("downloader/response_status_count/503") == result.stat(RETRY_503)
    assert result.stat("retry/count") == result.stat(RETRY_503) + result.stat(RETRY_500)
    assert result.stat("retry/max_reached") == 0
    assert result.stat("newsbot/retry/wait_seconds") > 0  # backed off before each retry


@pytest_twisted.ensureDeferred
async def test_a_503_burst_absorbed_by_retries_is_not_too_many_errors(replica, tmp_path, warnings_caplog):
    site = replica(stories=30, faults=[{"match": EN_ARTICLE, "rate": 0.6, "status": 503, "times": 2}])
    db = tmp_path / "news.sqlite"
    result = await drill_crawl("latest", crawl_settings(site.base_url, db), lang="en")
    assert_stored_exactly(db, english(site))
    assert result.stat("retry/max_reached") == 0
    assert result.reason == "finished"


@pytest_twisted.ensureDeferred
async def test_429_retry_after_is_honoured(replica, tmp_path, warnings_caplog):
    [limited] = pick(english_paths(30), 3)
    site = replica(stories=30, faults=[{"match": only(limited), "status": 429, "retry_after": 1, "times": 1}])
    truth = english(site)
    db = tmp_path / "news.sqlite"
    result = await drill_crawl("latest", crawl_settings(site.base_url, db), lang="en")

    assert_never_crashed(result, warnings_caplog)
    assert_stored_exactly(db, truth)
    assert result.stat("newsbot/retry/retry_after_honoured") == len(limited)
    assert result.stat("retry/reason_count/429 Unknown Status") == len(limited)
    assert result.stat("newsbot/retry/wait_seconds") >= len(limited) * 1.0
    assert result.stat("elapsed_time_seconds") >= 1.0
    for url in urls(site, limited):
        statuses = result.timeline[url]
        assert [s for s, _ in statuses] == [429, 200], statuses
        waited = statuses[1][1] - statuses[0][1]
        assert waited >= 0.95, f"{url}: retried {waited:.2f}s after a 429 asking for 1s"


@pytest_twisted.ensureDeferred
async def test_slow_pages_time_out_and_are_retried_or_given_up_and_counted(replica, tmp_path, warnings_caplog):
    slow_once, always_slow = pick(english_paths(30), 3, 1)
    site = replica(stories=30, faults=[{"match": only(slow_once), "delay": 3, "times": 1},
                                       {"match": only(always_slow), "delay": 3}])
    truth = english(site)
    db = tmp_path / "news.sqlite"
    settings = crawl_settings(site.base_url, db, DOWNLOAD_TIMEOUT=1, RETRY_TIMES=2)
    result = await drill_crawl("latest", settings, lang="en")

    assert_never_crashed(result, warnings_caplog)
    assert_stored_exactly(db, without(truth, urls(site, always_slow)))
    # Slow once: one timeout each, then served. Always slow: 1 + RETRY_TIMES timeouts, then given up.
    attempts = len(slow_once) + 3 * len(always_slow)
    assert timeout_count(result.stats, "downloader/exception_type_count/") == attempts
    assert timeout_count(result.stats, "retry/reason_count/") == len(slow_once) + 2 * len(always_slow)
    assert result.stat("retry/max_reached") == len(always_slow)
    assert result.stat("newsbot/pages/article_failed") == len(always_slow)


# --- broken pages ---------------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_malformed_html_still_gives_every_article_exactly(replica, tmp_path, warnings_caplog):
    site = replica(stories=60, faults=[{"match": EN_ARTICLE, "rate": 0.5, "mode": "malformed"},
                                       {"match": EN_LISTING, "mode": "malformed"},
                                       {"match": r"^/en/$", "mode": "malformed"}])
    truth = english(site)
    assert selected_paths(truth, EN_ARTICLE, 0.5)
    db = tmp_path / "news.sqlite"
    result = await drill_crawl("category", crawl_settings(site.base_url, db), lang="en")
    assert_never_crashed(result, warnings_caplog)
    assert_stored_exactly(db, truth)
    assert not any(k.startswith("newsbot/dropped/") for k in result.stats)


@pytest_twisted.ensureDeferred
async def test_pages_truncated_once_are_fetched_again_not_stored_cut_short(replica, tmp_path, warnings_caplog):
    site = replica(stories=60, faults=[{"match": EN_ARTICLE, "rate": 0.2, "mode": "truncate", "times": 1},
                                       {"match": EN_LISTING, "rate": 0.5, "mode": "truncate", "times": 1}])
    db = tmp_path / "news.sqlite"
    result = await drill_crawl("category", crawl_settings(site.base_url, db), lang="en")
    assert_never_crashed(result, warnings_caplog)
    assert_stored_exactly(db, english(site))


@pytest_twisted.ensureDeferred
async def test_pages_cut_or_empty_every_time_are_dropped_after_the_retries_and_counted(
        replica, tmp_path, warnings_caplog):
    cut, empty = pick(english_paths(30), 1, 1)
    site = replica(stories=30, faults=[{"match": only(cut), "mode": "truncate"},
                                       {"match": only(empty), "mode": "empty"}])
    truth = english(site)
    db = tmp_path / "news.sqlite"
    result = await drill_crawl("latest", crawl_settings(site.base_url, db, RETRY_TIMES=2), lang="en")
    assert_never_crashed(result, warnings_caplog)
    assert_stored_exactly(db, without(truth, urls(site, cut + empty)))
    # Fetched 1 + RETRY_TIMES times each, then one drop each, under its reason.
    assert site.hits()["paths"][cut[0]] == site.hits()["paths"][empty[0]] == 3
    assert result.stat("retry/reason_count/truncated_html") == 2 * 2
    assert result.stat("newsbot/dropped/truncated") == result.stat("newsbot/dropped/empty") == 1
    assert sum(v for k, v in result.stats.items() if k.startswith("newsbot/dropped/")) == 2


@pytest.mark.parametrize("charset", ["iso-8859-1", "windows-1251", "koi8-r"])
@pytest_twisted.ensureDeferred
async def test_wrong_charset_header_still_gives_the_right_text(replica, tmp_path, warnings_caplog, charset):
    site = replica(stories=30, faults=[{"match": EN_ARTICLE, "rate": 0.5, "mode": "wrong_charset", "charset": charset}])
    db = tmp_path / "news.sqlite"
    result = await drill_crawl("latest", crawl_settings(site.base_url, db), lang="en")
    assert_never_crashed(result, warnings_caplog)
    truth = english(site)
    assert_stored_exactly(db, truth)
    # Each mislabelled page with non-ASCII text (every article here) is counted, beside the pages whose
    # own labels lie (tests/replica/renderings.py).
    mislabelled = selected_paths(truth, EN_ARTICLE, 0.5)
    assert mislabelled and result.stat("newsbot/warnings/wrong_charset") >= len(mislabelled)


@pytest_twisted.ensureDeferred
async def test_redirect_loop_is_abandoned_without_a_crash(replica, tmp_path, warnings_caplog):
    [looping] = pick(english_paths(30), 2)
    site = replica(stories=30, faults=[{"match": only(looping), "mode": "redirect_loop"}])
    truth = english(site)
    db = tmp_path / "news.sqlite"
    result = await drill_crawl("latest", crawl_settings(site.base_url, db), lang="en")
    assert_never_crashed(result, warnings_caplog)
    assert_stored_exactly(db, without(truth, urls(site, looping)))
    # A -> A?replica_loop=1 -> A: the second visit of A is the dupe filter's (or a max-redirects) stop.
    assert result.stat("downloader/response_status_count/302") >= 2 * len(looping)
    assert result.stat("dupefilter/filtered") + result.stat("newsbot/pages/article_failed") >= len(looping)


@pytest_twisted.ensureDeferred
async def test_redirect_loop_is_counted_as_a_lost_article(replica, tmp_path, warnings_caplog):
    [looping] = pick(english_paths(15), 1)
    site = replica(stories=15, faults=[{"match": only(looping), "mode": "redirect_loop"}])
    result = await drill_crawl("latest", crawl_settings(site.base_url, tmp_path / "news.sqlite"), lang="en")
    lost = result.stat("newsbot/pages/article_failed") + sum(
        v for k, v in result.stats.items() if k.startswith("newsbot/dropped/") and "redirect" in k)
    assert lost == len(looping)


@pytest_twisted.ensureDeferred
async def test_oversized_page_is_skipped_and_counted(replica, tmp_path, warnings_caplog):
    [huge] = pick(english_paths(30), 2)
    site = replica(stories=30, faults=[{"match": only(huge), "mode": "oversized", "size": 3_000_000}])
    truth = english(site)
    db = tmp_path / "news.sqlite"
    settings = crawl_settings(site.base_url, db, DOWNLOAD_MAXSIZE=2_000_000, DOWNLOAD_WARNSIZE=1_000_000)
    result = await drill_crawl("latest", settings, lang="en")
    assert_never_crashed(result, warnings_caplog)
    assert_stored_exactly(db, without(truth, urls(site, huge)))
    assert result.stat("downloader/exception_type_count/scrapy.exceptions.DownloadCancelledError") == len(huge)
    assert result.stat("newsbot/pages/article_failed") == len(huge)
    assert result.stat("retry/count") == 0  # never worth fetching again


@pytest_twisted.ensureDeferred
async def test_oversized_page_is_counted_as_dropped_for_its_size(replica, tmp_path, warnings_caplog):
    [huge] = pick(english_paths(15), 1)
    site = replica(stories=15, faults=[{"match": only(huge), "mode": "oversized", "size": 3_000_000}])
    settings = crawl_settings(site.base_url, tmp_path / "news.sqlite", DOWNLOAD_MAXSIZE=2_000_000,
                              DOWNLOAD_WARNSIZE=1_000_000)
    result = await drill_crawl("latest", settings, lang="en")
    by_size = sum(v for k, v in result.stats.items()
                  if k.startswith("newsbot/dropped/") and any(w in k for w in ("size", "large", "big")))
    assert by_size == len(huge)


@pytest_twisted.ensureDeferred
async def test_deeply_nested_markup_is_read_and_past_the_parsers_depth_dropped_in_one_line(
        replica, tmp_path, warnings_caplog):
    nested, too_deep = pick(english_paths(30), 2, 1)
    site = replica(stories=30, faults=[{"match": only(nested), "mode": "nested"},
                                       {"match": only(too_deep), "mode": "nested", "depth": 100_000}])
    truth = english(site)
    db = tmp_path / "news.sqlite"
    result = await drill_crawl("latest", crawl_settings(site.base_url, db), lang="en")
    assert_never_crashed(result, warnings_caplog)
    # 1,000 <div>s deep, the article is all there; past libxml2's depth the rest of the page is not,
    # so the article is dropped, once, on one line, rather than stored cut short.
    assert_stored_exactly(db, without(truth, urls(site, too_deep)))
    assert result.stat("newsbot/dropped/too_deep") == 1
    lines = [r.getMessage() for r in warnings_caplog.records if too_deep[0] in r.getMessage()]
    assert lines == [f"Not an article (too deep): {site.base_url}{too_deep[0]}"]


@pytest_twisted.ensureDeferred
async def test_pages_missing_body_or_title_are_dropped_and_missing_date_kept_with_a_warning(
        replica, tmp_path, warnings_caplog):
    no_body, no_title, no_date = pick(english_paths(60), 2, 1, 2)
    site = replica(stories=60, faults=[{"match": only(no_body), "mode": "no_body"},
                                       {"match": only(no_title), "mode": "no_title"},
                                       {"match": only(no_date), "mode": "no_date"}])
    truth = english(site)
    db = tmp_path / "news.sqlite"
    # 5 faulty pages of ~55 are under the 20% that closes a crawl as extraction_degraded, unless
    # the order of answers brings all 5 into the first 20 pages judged (it did once, under load):
    # at a 50% threshold no order can, and the drill tests the drops, not that monitor (test_health).
    result = await drill_crawl("category", crawl_settings(site.base_url, db, NEWSBOT_DEGRADED_THRESHOLD=0.5),
                               lang="en")

    assert_never_crashed(result, warnings_caplog)
    undated = [{**t, "published_at": "", "published_at_utc": ""} if path_of(t["url"]) in no_date else t
               for t in without(truth, urls(site, no_body + no_title))]
    assert_stored_exactly(db, undated)
    assert result.stat("newsbot/dropped/missing_body") == len(no_body)
    assert result.stat("newsbot/dropped/missing_title") == len(no_title)
    assert result.stat("newsbot/warnings/missing_date") == len(no_date)
    warned = [r.getMessage() for r in warnings_caplog.records if "missing date" in r.getMessage()]
    assert sorted(w.rsplit(" ", 1)[1] for w in warned) == sorted(urls(site, no_date))


# --- a crawl killed mid-run -----------------------------------------------------------------

def _rows(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("spider", ["latest", "category"])
def test_sigkill_mid_crawl_then_resume_stores_every_article_exactly_once(spider, replica, tmp_path):
    # Slowed article pages, so the kill lands mid-crawl; small batches, so some rows are committed by then.
    site = replica(stories=50, faults=[{"match": ANY_ARTICLE, "delay": 0.4}])
    truth = site.ground_truth()
    db, jobdir, jsonl = tmp_path / "news.sqlite", tmp_path / "job", tmp_path / "news.jsonl"
    args = ["crawl", spider, "-s", f"NEWSBOT_BASE_URL={site.base_url}", "-s", f"NEWSBOT_DB={db}",
            "-s", f"JOBDIR={jobdir}", "-s", f"NEWSBOT_JSONL={jsonl}", "-s", "NEWSBOT_DB_BATCH_SIZE=5", "-s", "AUTOTHROTTLE_ENABLED=0",
            "-s", "DOWNLOAD_DELAY=0", "-s", "NEWSBOT_LATEST_SINCE=", "-s", "TELNETCONSOLE_ENABLED=0"]
    scrapy = str(Path(sys.executable).with_name("scrapy"))
    log = (tmp_path / "killed.log").open("w")
    process = subprocess.Popen([scrapy, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    started, stored = time.monotonic(), 0
    try:
        while time.monotonic() - started < 90 and process.poll() is None:
            stored = _rows(db)
            if stored >= len(truth) // 3:
                break
            time.sleep(0.05)
        assert process.poll() is None, f"the crawl ended before it could be killed ({stored} rows)"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
        log.close()
    assert process.returncode == -signal.SIGKILL
    before = _rows(db)
    assert 0 < before < len(truth), f"killed with {before} of {len(truth)} rows stored"

    resumed = subprocess.run([scrapy, *args], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "'finish_reason': 'finished'" in resumed.stderr
    assert_log_is_clean(resumed.stderr)
    assert_stored_exactly(db, truth)
    # The resumed run fetched what was missing, not everything again.
    scraped = re.search(r"'item_scraped_count': (\d+)", resumed.stderr)
    assert scraped and int(scraped[1]) <= len(truth) - before
    # The JSON Lines journal holds each article once: lines of a batch the kill caught before its
    # commit were cut, and those articles written again with the batch that stored them.
    lines = [json.loads(line) for line in jsonl.read_text("utf-8").splitlines()]
    assert sorted(r["article_id"] for r in lines) == sorted(t["article_id"] for t in truth)
