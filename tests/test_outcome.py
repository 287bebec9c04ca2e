"""How a crawl ends (issue 28): every article page the crawl meant to store and did not is counted
as lost with its reason; losses past NEWSBOT_ERROR_THRESHOLD close the crawl broken with exit 1 and
one ERROR line per reason; any loss is named at close; a crawl killed by a second Ctrl-C exits 1.
Each drill is a real `scrapy crawl` against the replica."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pytest_twisted

from newsbot.spiders.latest import LatestSpider
from tests.crawling import ROOT, crawl, crawl_settings, logged
from tests.test_fault_drills import EN_ARTICLE, english_paths, only, pick
from tests.test_health import cli_crawl, runs, stats_from_log

OFF_SITE = "http://elsewhere.invalid/en/energy/moved-story/"


def test_most_article_pages_cut_short_close_too_many_errors_naming_truncated(replica, tmp_path):
    # Drill 1: 90% of the article pages cut short on every fetch.
    site = replica(stories=40, faults=[{"match": EN_ARTICLE, "rate": 0.9, "mode": "truncate"}])
    db = tmp_path / "news.sqlite"
    run = cli_crawl(site, db, "-s", "RETRY_TIMES=1")
    assert run.returncode == 1, run.stderr[-3000:]
    stats = stats_from_log(run.stderr)
    assert stats["finish_reason"] == "too_many_errors"
    assert stats["newsbot/lost"] == stats["newsbot/lost/truncated"] > 0
    errors = logged(run.stderr, "ERROR")
    assert any(e.startswith("Crawl is broken (too_many_errors): ") and "NEWSBOT_ERROR_THRESHOLD" in e
               for e in errors), errors
    # One line per reason, with sample URLs.
    assert len([e for e in errors if e.startswith("Lost ") and " as truncated, e.g. " in e]) == 1, errors
    assert runs(db)[-1][0] == "too_many_errors"


def test_article_links_redirected_to_another_host_are_lost_as_off_site(replica, tmp_path):
    # Drill 2: every article link answers 301 to another host, which Scrapy filters without a word.
    site = replica(stories=20, faults=[{"match": EN_ARTICLE, "mode": "redirect", "location": OFF_SITE}])
    run = cli_crawl(site, tmp_path / "news.sqlite")
    assert run.returncode == 1, run.stderr[-3000:]
    stats = stats_from_log(run.stderr)
    assert stats["finish_reason"] == "too_many_errors"
    assert stats["newsbot/lost/off_site"] == stats["newsbot/lost"] > 0
    assert any(" as off_site, e.g. " in e for e in logged(run.stderr, "ERROR")), run.stderr[-3000:]
    warned = [w for w in logged(run.stderr, "WARNING") if w.startswith("Article page lost (off site): ")]
    assert len(warned) == stats["newsbot/lost/off_site"] and OFF_SITE in warned[0]


def test_redirect_loops_past_the_threshold_close_too_many_errors(replica, tmp_path):
    site = replica(stories=20, faults=[{"match": EN_ARTICLE, "mode": "redirect_loop"}])
    run = cli_crawl(site, tmp_path / "news.sqlite")
    assert run.returncode == 1, run.stderr[-3000:]
    stats = stats_from_log(run.stderr)
    assert stats["finish_reason"] == "too_many_errors"
    assert stats["newsbot/lost/redirect_loop"] == stats["newsbot/lost"] > 0
    assert any(" as redirect_loop, e.g. " in e for e in logged(run.stderr, "ERROR")), run.stderr[-3000:]


def test_a_few_lost_pages_finish_but_are_named_in_one_line_at_close(replica, tmp_path):
    off_site, looping, cut, empty = pick(english_paths(30), 1, 1, 1, 1)
    site = replica(stories=30, faults=[{"match": only(off_site), "mode": "redirect", "location": OFF_SITE},
                                       {"match": only(looping), "mode": "redirect_loop"},
                                       {"match": only(cut), "mode": "truncate"},
                                       {"match": only(empty), "mode": "empty"}])
    run = cli_crawl(site, tmp_path / "news.sqlite", "-s", "RETRY_TIMES=1")
    assert run.returncode == 0, run.stderr[-3000:]
    stats = stats_from_log(run.stderr)
    assert stats["finish_reason"] == "finished"
    assert {k: v for k, v in stats.items() if k.startswith("newsbot/lost")} == {
        "newsbot/lost": 4, "newsbot/lost/off_site": 1, "newsbot/lost/redirect_loop": 1, "newsbot/lost/truncated": 1,
        "newsbot/lost/empty": 1}
    summary = [w for w in logged(run.stderr, "WARNING") if w.startswith("Lost 4 article page(s): ")]
    assert len(summary) == 1 and all(r in summary[0] for r in ("1 off_site", "1 redirect_loop", "1 truncated",
                                                                "1 empty")), logged(run.stderr, "WARNING")


def test_items_that_fail_validation_in_a_real_crawl_are_lost_as_invalid(replica, tmp_path):
    # A photo whose address has a space in its host: extraction keeps it, validation drops the item.
    site = replica(stories=30, faults=[{"match": only(pick(english_paths(30), 2)[0]), "mode": "photo"}])
    run = cli_crawl(site, tmp_path / "news.sqlite")
    assert run.returncode == 0, run.stderr[-3000:]
    stats = stats_from_log(run.stderr)
    assert stats["newsbot/dropped/invalid_images"] == stats["newsbot/lost/invalid"] == stats["newsbot/lost"] == 2
    assert "Lost 2 article page(s): 2 invalid" in logged(run.stderr, "WARNING"), logged(run.stderr, "WARNING")
    assert runs(tmp_path / "news.sqlite")[-1][1]["newsbot/lost/invalid"] == 2
    # Most pages invalid: past NEWSBOT_ERROR_THRESHOLD.
    site = replica(stories=20, faults=[{"match": EN_ARTICLE, "rate": 0.8, "mode": "photo"}])
    run = cli_crawl(site, tmp_path / "most.sqlite")
    assert run.returncode == 1, run.stderr[-3000:]
    stats = stats_from_log(run.stderr)
    assert stats["finish_reason"] == "too_many_errors"
    assert stats["newsbot/lost/invalid"] == stats["newsbot/lost"] > 0
    assert any(e.startswith("Lost ") and " as invalid, e.g. " in e for e in logged(run.stderr, "ERROR")), \
        run.stderr[-3000:]


@pytest.mark.parametrize("signals", [1, 2])
def test_a_crawl_stopped_by_ctrl_c_exits_1(replica, tmp_path, signals):
    # Drill 3: slowed article pages, so the signals land mid-crawl, a second one before the first's
    # graceful stop could end it. One Ctrl-C closes as `shutdown`: whole, but its work is not done.
    # A graceful stop waits for the pages in flight: shorter delays let it end in time.
    site = replica(stories=30, faults=[{"match": EN_ARTICLE, "delay": 30 if signals == 2 else 4}])
    args = ["crawl", "latest", "-a", "lang=en", "-s", f"NEWSBOT_BASE_URL={site.base_url}",
            "-s", f"NEWSBOT_DB={tmp_path / 'news.sqlite'}", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0",
            "-s", "NEWSBOT_LATEST_SINCE=", "-s", "TELNETCONSOLE_ENABLED=0"]
    log = tmp_path / "crawl.log"
    with log.open("w") as stderr:
        process = subprocess.Popen([str(Path(sys.executable).with_name("scrapy")), *args], cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            started = time.monotonic()
            while site.hits()["total"] < 5 and time.monotonic() - started < 60:
                time.sleep(0.1)
            assert process.poll() is None, log.read_text()[-3000:]
            process.send_signal(signal.SIGINT)
            while "shutting down gracefully" not in log.read_text() and time.monotonic() - started < 60:
                time.sleep(0.1)
            if signals == 2:
                process.send_signal(signal.SIGINT)
            process.wait(60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(30)
    text = log.read_text()
    assert ("forcing unclean shutdown" in text) == (signals == 2), text[-3000:]
    assert process.returncode == 1, text[-3000:]
    if signals == 1:
        assert stats_from_log(text)["finish_reason"] == "shutdown"


class LatestWithABug(LatestSpider):
    """The latest spider with a bug in its article parsing, on the energy pages only."""

    def parse_article(self, response):
        if "/energy/" in response.url:
            raise ValueError("a bug in parsing")
        yield from super().parse_article(response)


@pytest_twisted.ensureDeferred
async def test_an_article_page_whose_parsing_raises_is_lost_as_extraction_error(replica, tmp_path, caplog):
    site = replica(stories=40)
    result = await crawl(LatestWithABug, crawl_settings(site.base_url, tmp_path / "news.sqlite",
                                                        NEWSBOT_ERROR_THRESHOLD=1), lang="en")
    raised = result.stat("spider_exceptions/ValueError")
    assert raised > 0 and result.items and result.reason == "finished"
    assert result.stat("newsbot/lost/extraction_error") == result.stat("newsbot/lost") == raised
    assert f"Lost {raised} article page(s): {raised} extraction_error" in caplog.text


def test_a_crawl_ends_with_one_line_of_what_it_stored_before_the_stats(replica, tmp_path):
    site = replica(stories=12)
    db = tmp_path / "news.sqlite"
    for run_number in (1, 2):
        run = cli_crawl(site, db)
        stats = stats_from_log(run.stderr)
        lines = [line for line in logged(run.stderr, "INFO") if " articles -> " in line]
        assert len(lines) == 1, lines
        new, updated, unchanged = (stats.get(f"newsbot/store/{name}", 0) for name in ("inserted", "updated",
                                                                                       "unchanged"))
        assert lines[0].startswith(f"{new} new, {updated} updated, {unchanged} unchanged articles -> {db} (finished, ")
        assert (new > 0) == (run_number == 1)  # the second finds nothing new
        assert run.stderr.index(lines[0]) < run.stderr.index("Dumping Scrapy stats")


def test_a_running_crawl_says_where_it_is_every_interval_and_not_when_off(replica, tmp_path):
    site = replica(stories=12, faults=[{"match": EN_ARTICLE, "delay": 1}])
    on = cli_crawl(site, tmp_path / "on.sqlite", "-s", "NEWSBOT_PROGRESS_INTERVAL=0.5")
    lines = [line for line in logged(on.stderr, "INFO") if line.startswith("Progress: ")]
    assert len(lines) >= 2 and all(re.fullmatch(r"Progress: \d+ pages \(\d+ queued\), \d+ new, \d+ updated, "
                                                r"\d+ unchanged articles, \d+ errors?; [\d.]+ pages/s, \d+ new/min",
                                                line) for line in lines), lines
    off = cli_crawl(site, tmp_path / "off.sqlite", "-s", "NEWSBOT_PROGRESS_INTERVAL=0")
    assert not [line for line in logged(off.stderr, "INFO") if line.startswith(("Progress: ", "Crawled "))]
