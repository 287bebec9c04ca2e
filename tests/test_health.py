"""Crawl health on the replica: per-field fill rates in every crawl's stats, and the
extraction_degraded close reason (threshold, failing selectors and sample URLs in the log,
`scrapy crawl` exiting non-zero)."""

from __future__ import annotations

import datetime
import re

import pytest
import pytest_twisted

from newsbot.items import ArticleItem
from tests.crawling import crawl, crawl_settings, scrapy_cli
from tests.replica.faults import selected
from tests.test_fault_drills import EN_ARTICLE, english, english_paths, only, path_of, pick, urls

BODY_SELECTOR = "div.news-detail__desc p"
DATE_SELECTOR = "ul.news__date > li"


def stats_from_log(stderr: str) -> dict:
    """The stats dict Scrapy dumps at the end of `scrapy crawl` (pprint of a dict with datetimes)."""
    start = stderr.index("Dumping Scrapy stats:\n") + len("Dumping Scrapy stats:\n")
    end = stderr.index("}\n", start) + 1
    return eval(stderr[start:end], {"__builtins__": {}, "datetime": datetime})  # noqa: S307 (our own log)


def filled(value) -> bool:
    return value not in (None, "", [], {})


@pytest_twisted.ensureDeferred
async def test_every_crawl_reports_the_fill_rate_of_every_field(replica, tmp_path, warnings_caplog):
    no_body, no_date = pick(english_paths(60), 2, 3)
    site = replica(stories=60, faults=[{"match": only(no_body), "mode": "no_body"},
                                       {"match": only(no_date), "mode": "no_date"}])
    truth = english(site)
    result = await crawl("category", crawl_settings(site.base_url, tmp_path / "news.sqlite"), lang="en")
    assert result.reason == "finished"
    pages = len(truth)
    assert result.stat("newsbot/article_pages") == pages
    # Share of article pages (dropped ones included) whose item has the field.
    kept = [t for t in truth if path_of(t["url"]) not in no_body]
    for field in ArticleItem.fields:
        if field in ("crawled_at", "content_hash"):
            expected = len(kept)
        elif field in ("published_at", "published_at_utc"):
            expected = sum(filled(t[field]) for t in kept if path_of(t["url"]) not in no_date)
        else:
            expected = sum(filled(t[field]) for t in kept)
        assert result.stats[f"newsbot/fill_rate/{field}"] == round(expected / pages, 4), field
    assert result.stats["newsbot/fill_rate/body"] < 1.0 and result.stats["newsbot/fill_rate/images"] < 1.0
    # Below the threshold: the failing selectors are still named, with their pages, as warnings
    # (a healthy crawl has no log_count/ERROR), and counted in the stats.
    named = {r.getMessage(): r.levelname for r in warnings_caplog.records if r.getMessage().startswith("Selector ")}
    for selector, misses in ((BODY_SELECTOR, 2), (DATE_SELECTOR, 3)):
        line = [m for m in named if m.startswith(f"Selector {selector!r} found nothing on {misses} of {pages} ")]
        assert len(line) == 1 and named[line[0]] == "WARNING", named
        assert result.stats[f"newsbot/selector_missed/{selector}"] == misses
    assert "log_count/ERROR" not in result.stats


def test_degraded_threshold_just_below_passes_and_just_above_fails_with_exit_1(replica, tmp_path):
    rate = 0.15
    site = replica(stories=60, faults=[{"match": EN_ARTICLE, "rate": rate, "mode": "no_body"}])
    truth = english(site)
    broken = [t["url"] for t in truth if selected(path_of(t["url"]), rate)]
    pages = len(truth)
    assert 3 <= len(broken) < pages / 3
    share = len(broken) / pages

    def run(threshold: float, name: str):
        # Judged once every article page is in, so the share is exactly len(broken) / pages.
        return scrapy_cli("crawl", "latest", "-a", "lang=en", "-s", f"NEWSBOT_BASE_URL={site.base_url}",
                          "-s", f"NEWSBOT_DB={tmp_path / name}", "-s", "AUTOTHROTTLE_ENABLED=0",
                          "-s", "DOWNLOAD_DELAY=0", "-s", "NEWSBOT_LATEST_SINCE=", "-s", "TELNETCONSOLE_ENABLED=0",
                          "-s", f"NEWSBOT_DEGRADED_THRESHOLD={threshold}", "-s", f"NEWSBOT_DEGRADED_MIN_PAGES={pages}")

    below = run(share + 0.5 / pages, "below.sqlite")
    assert below.returncode == 0, below.stderr[-3000:]
    stats = stats_from_log(below.stderr)
    assert stats["finish_reason"] == "finished"
    assert stats["newsbot/dropped/missing_body"] == len(broken)
    assert stats["newsbot/fill_rate/body"] == round(1 - share, 4)

    above = run(share - 0.5 / pages, "above.sqlite")
    assert above.returncode == 1, above.stderr[-3000:]
    stats = stats_from_log(above.stderr)
    assert stats["finish_reason"] == "extraction_degraded"
    assert stats["newsbot/fill_rate/body"] == round(1 - share, 4)
    assert f"Crawl is broken (extraction_degraded): {len(broken)} of {pages} article pages lack a required field" \
        in above.stderr
    logged = re.search(rf"\[newsbot\.extensions\] ERROR: Selector '{re.escape(BODY_SELECTOR)}' found nothing on "
                       rf"(\d+) of {pages} article page\(s\), e\.g\. (.*)", above.stderr)
    assert logged and int(logged[1]) == len(broken)
    assert stats[f"newsbot/selector_missed/{BODY_SELECTOR}"] == len(broken)
    # Below the threshold the same finding is a warning, and the crawl logs no error at all.
    assert re.search(rf"\[newsbot\.extensions\] WARNING: Selector '{re.escape(BODY_SELECTOR)}' found nothing on "
                     rf"{len(broken)} of {pages} ", below.stderr)
    assert "log_count/ERROR" not in stats_from_log(below.stderr)
    samples = logged[2].split(", ")
    assert samples and set(samples) <= set(broken)
    assert "Traceback" not in above.stderr and "Traceback" not in below.stderr


@pytest_twisted.ensureDeferred
async def test_extraction_degraded_closes_mid_crawl_and_names_the_failing_selector(replica, tmp_path,
                                                                                   warnings_caplog):
    # Half the pages lose their date: items are kept, but published_at is a required field.
    site = replica(stories=80, faults=[{"match": EN_ARTICLE, "rate": 0.5, "mode": "no_date"}])
    truth = english(site)
    undated = set(urls(site, [path_of(t["url"]) for t in truth if selected(path_of(t["url"]), 0.5)]))
    result = await crawl("latest", crawl_settings(site.base_url, tmp_path / "news.sqlite"), lang="en")

    assert result.reason == "extraction_degraded"
    # Judged from NEWSBOT_DEGRADED_MIN_PAGES (20) on: it stopped well before the end of the feed.
    assert 20 <= result.stat("newsbot/article_pages") < len(truth)
    assert 0 < result.stats["newsbot/fill_rate/published_at"] < 0.8
    assert result.stats["newsbot/fill_rate/title"] == 1.0
    messages = [r.getMessage() for r in warnings_caplog.records]
    assert any(m.startswith("Crawl is broken (extraction_degraded)") for m in messages), messages
    selector_lines = [m for m in messages if m.startswith(f"Selector {DATE_SELECTOR!r} found nothing")]
    assert len(selector_lines) == 1
    named = selector_lines[0].split(", e.g. ", 1)[1].split(", ")
    assert named and set(named) <= undated
    assert not any(m.startswith(f"Selector {BODY_SELECTOR!r}") for m in messages)
