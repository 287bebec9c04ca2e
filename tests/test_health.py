"""Crawl health on the replica: per-field fill rates in every crawl's stats, and the
extraction_degraded close reason (threshold, failing selectors and sample URLs in the log,
`scrapy crawl` exiting non-zero), for required fields during the crawl and for the optional ones
(translations, tags, images, known categories) against the store's history or the floors once its
work is done; page furniture leaking into many stories (newsbot.repeats' counter, then crawls);
unknown categories said once per crawl."""

from __future__ import annotations

import datetime
import json
import logging
import re
import sqlite3
from collections import Counter

import pytest_twisted
from hypothesis import given, strategies as st

from newsbot import site as site_markup
from newsbot.site.categories import is_known_key
from newsbot.items import ArticleItem
from newsbot.repeats import RepeatCounter
from tests.crawling import crawl, crawl_settings, logged, scrapy_cli
from tests.replica.faults import LEAKED_IMAGE, LEAKED_PARAGRAPH, selected
from tests.test_fault_drills import EN_ARTICLE, english, english_paths, only, path_of, pick, urls

# How crawl health names a part that found nothing: every markup generation's selector for it.
BODY_SELECTOR = site_markup.selectors("body")
DATE_SELECTOR = site_markup.selectors("date")


def stats_from_log(stderr: str) -> dict:
    """The stats dict Scrapy dumps at the end of `scrapy crawl` (pprint of a dict with datetimes)."""
    start = stderr.index("Dumping Scrapy stats:\n") + len("Dumping Scrapy stats:\n")
    end = stderr.index("}\n", start) + 1
    return eval(stderr[start:end], {"__builtins__": {}, "datetime": datetime})  # noqa: S307 (our own log)


def filled(value) -> bool:
    return value not in (None, "", [], {})


def runs(db) -> list[tuple[str, dict]]:
    """(finish_reason, stats) of every crawl run recorded in the store, oldest first."""
    with sqlite3.connect(db) as conn:
        return [(reason, json.loads(stats or "{}")) for reason, stats in
                conn.execute("SELECT finish_reason, stats FROM crawl_runs ORDER BY run_id")]


def cli_crawl(site, db, *args: str):
    return scrapy_cli("crawl", "latest", "-a", "lang=en", "-s", f"NEWSBOT_BASE_URL={site.base_url}",
                      "-s", f"NEWSBOT_DB={db}", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0",
                      "-s", "NEWSBOT_LATEST_SINCE=", "-s", "TELNETCONSOLE_ENABLED=0", *args)


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
    # Not an item field: pages that gave an item in one of the known categories (the replica has some
    # newsbot's table does not know, tests/replica/categories.py).
    known = [t for t in kept if is_known_key(t["category_slug"])]
    assert 0 < len(known) < len(kept)
    assert result.stats["newsbot/fill_rate/known_category"] == round(len(known) / pages, 4)
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


# --- Optional fields: judged when the crawl's work is done ---------------------------------

def test_pages_that_lose_their_edition_links_close_extraction_degraded_with_exit_1(replica, tmp_path):
    site = replica(stories=60, faults=[{"match": EN_ARTICLE, "mode": "no_translations"}])
    truth = english(site)
    pages = len(truth)
    assert pages >= 20 and sum(filled(t["translations"]) for t in truth) / pages > 0.5  # what was lost
    db = tmp_path / "news.sqlite"
    run = cli_crawl(site, db)
    assert run.returncode == 1, run.stderr[-3000:]
    stats = stats_from_log(run.stderr)
    assert stats["finish_reason"] == "extraction_degraded"
    # Every article page was parsed: the crawl was judged once its work was done.
    assert stats["newsbot/article_pages"] == pages and stats["newsbot/fill_rate/translations"] == 0.0
    # One ERROR line, for the one field that failed, with the numbers; no traceback, no report.
    errors = [line for line in run.stderr.splitlines() if "] ERROR: " in line]
    assert len(errors) == 1 and stats["log_count/ERROR"] == 1, errors
    assert errors[0].endswith(
        f"[newsbot.extensions] ERROR: Crawl is broken (extraction_degraded): translations filled on 0% of "
        f"{pages} article pages (0); below the floor of 5% (NEWSBOT_FILL_FLOORS; 0 complete run(s) of 20+ "
        "article pages in the store's history, 3 needed for a median)"), errors
    assert "Traceback" not in run.stderr and "[Spidermon]" not in run.stderr
    # Recorded, but not as a complete run: it is no history for the next crawl.
    assert [reason for reason, _ in runs(db)] == ["extraction_degraded"]
    assert runs(db)[0][1]["newsbot/fill_rate/translations"] == 0.0


@pytest_twisted.ensureDeferred
async def test_fill_rates_are_judged_against_the_stores_history_else_the_floors(replica, tmp_path,
                                                                                  warnings_caplog):
    rate = 0.7
    normal, faulty = replica(stories=60), replica(stories=60, faults=[
        {"match": EN_ARTICLE, "rate": rate, "mode": "no_translations"}])
    truth = english(faulty)
    pages = len(truth)
    usual = sum(filled(t["translations"]) for t in truth) / pages
    left = sum(filled(t["translations"]) for t in truth if not selected(path_of(t["url"]), rate)) / pages
    # The thresholds from the replica's ground truth: the faulty crawl is below half the usual share,
    # well above the 5% floor, so a threshold wrong in either direction fails one of the two crawls.
    assert 0.05 < left < usual / 2, (left, usual)

    history = tmp_path / "history.sqlite"
    for _ in range(3):
        result = await crawl("category", crawl_settings(normal.base_url, history), lang="en", refresh="1")
        assert result.reason == "finished" and result.stat("newsbot/article_pages") >= 20
        assert result.stats["newsbot/fill_rate/translations"] == round(usual, 4)
    assert [reason for reason, _ in runs(history)] == ["finished"] * 3
    assert all(stats["newsbot/fill_rate/translations"] == round(usual, 4) for _, stats in runs(history))
    warnings_caplog.clear()

    # refresh: the store knows these pages (keyed by path, whatever the host), and the judgement
    # needs them fetched again.
    with_history = await crawl("category", crawl_settings(faulty.base_url, history), lang="en", refresh="1")
    assert with_history.reason == "extraction_degraded"
    assert with_history.stats["newsbot/fill_rate/translations"] == round(left, 4)
    assert with_history.stat("newsbot/article_pages") == pages  # judged once every page was in
    errors = [r.getMessage() for r in warnings_caplog.records if r.levelname == "ERROR"]
    assert errors == [
        f"Crawl is broken (extraction_degraded): translations filled on {left:.0%} of {pages} article pages "
        f"({round(left * pages)}); the last 3 complete runs' median is {usual:.0%} "
        f"(alarm below 50% of it, {usual / 2:.1%})"], errors
    assert [reason for reason, _ in runs(history)] == ["finished"] * 3 + ["extraction_degraded"]
    warnings_caplog.clear()

    fresh = await crawl("category", crawl_settings(faulty.base_url, tmp_path / "fresh.sqlite"), lang="en")
    assert fresh.reason == "finished", [r.getMessage() for r in warnings_caplog.records]
    assert fresh.stats["newsbot/fill_rate/translations"] == round(left, 4)
    assert "log_count/ERROR" not in fresh.stats


@pytest_twisted.ensureDeferred
async def test_a_crawl_of_fewer_article_pages_than_the_minimum_is_not_judged(replica, tmp_path, warnings_caplog):
    site = replica(stories=15, faults=[{"match": EN_ARTICLE, "mode": "no_translations"},
                                      {"match": EN_ARTICLE, "mode": "no_tags"}])
    pages = len(english(site))
    assert 0 < pages < 20
    result = await crawl("latest", crawl_settings(site.base_url, tmp_path / "news.sqlite"), lang="en")
    assert result.reason == "finished"
    assert result.stat("newsbot/article_pages") == pages
    assert result.stats["newsbot/fill_rate/translations"] == 0.0
    assert "log_count/ERROR" not in result.stats


@pytest_twisted.ensureDeferred
async def test_a_crawl_closed_for_another_reason_is_not_judged_and_its_run_keeps_the_fill_rates(
        replica, tmp_path, warnings_caplog):
    site = replica(stories=60, faults=[{"match": EN_ARTICLE, "mode": "no_images"}])
    db = tmp_path / "news.sqlite"
    result = await crawl("latest", crawl_settings(site.base_url, db, CLOSESPIDER_ITEMCOUNT=25), lang="en")
    assert result.reason == "closespider_itemcount"
    assert result.stat("newsbot/article_pages") >= 20 and result.stats["newsbot/fill_rate/images"] == 0.0
    assert "log_count/ERROR" not in result.stats
    # The stats of the recorded run were taken after CrawlHealth set the fill rates at close
    # (no spider_idle on this path): the same figures as the crawl's own.
    [(reason, stats)] = runs(db)
    assert reason == "closespider_itemcount"
    for key in ("newsbot/article_pages", "newsbot/fill_rate/images", "newsbot/fill_rate/translations",
                "newsbot/fill_rate/known_category"):
        assert stats[key] == result.stats[key], key


@pytest_twisted.ensureDeferred
async def test_each_check_is_off_when_its_setting_says_so(replica, tmp_path):
    # Rules are tried in order: 85% of English articles fail, the rest lost their edition links.
    site = replica(stories=60, faults=[{"match": EN_ARTICLE, "rate": 0.85, "status": 503},
                                       {"match": EN_ARTICLE, "mode": "no_translations"}])

    async def run(name: str, **overrides):
        settings = crawl_settings(site.base_url, tmp_path / f"{name}.sqlite", RETRY_TIMES=0, **overrides)
        return await crawl("category", settings, lang="en")

    # All on: most English pages fail, and the first check to judge says so.
    assert (await run("on")).reason == "too_many_errors"
    # The error-rate monitor off by its setting: the pages that did come lost their edition links.
    off = await run("errors_off", NEWSBOT_ERROR_THRESHOLD=1.0, NEWSBOT_DEGRADED_MIN_PAGES=5)
    assert off.reason == "extraction_degraded" and off.stats["newsbot/fill_rate/translations"] == 0.0
    # ... and the fill-rate checks off too, by an empty NEWSBOT_FILL_FLOORS.
    quiet = await run("floors_empty", NEWSBOT_ERROR_THRESHOLD=1.0, NEWSBOT_DEGRADED_MIN_PAGES=5, NEWSBOT_FILL_FLOORS={})
    assert quiet.reason == "finished"


# --- Leaks: the same paragraph or photo in many stories ---------------------------------------

def exact_stories(stories: list[tuple[str, list[str]]]) -> Counter:
    """In how many stories each text is: what RepeatCounter estimates."""
    return Counter(text for _, texts in stories for text in set(texts))


def test_the_repeat_counter_is_exact_while_its_counters_suffice():
    counter = RepeatCounter(counters=10, samples=2, keep_chars=12)
    stories = [(f"u{n}", ["Follow us on Telegram for news", f"own {n}", "Follow us on Telegram for news"])
               for n in range(5)]
    for url, texts in stories:
        counter.add(url, texts)
    assert counter.stories == 5 and counter.error == 0
    top = counter.top()
    # Once per story however often the story repeats it; shortened; the first stories as samples.
    assert (top.text, top.stories, top.error, top.samples) == ("Follow us o…", 5, 0, ("u0", "u1"))
    assert {r.stories for r in counter.repeats()} == {5, 1}
    assert [r.text for r in counter.more_than(0.5, 5)] == ["Follow us o…"]
    assert counter.more_than(0.5, 6) == [] and counter.more_than(1.0, 1) == []


def test_the_repeat_counter_sizes_itself_from_the_share_it_must_find():
    assert RepeatCounter.for_share(0.05, texts_per_story=20).counters == 4000
    assert RepeatCounter.for_share(0.3, texts_per_story=4, precision=0.5).counters == 27


def test_the_repeat_counter_finds_a_leak_among_many_unique_paragraphs_with_few_counters():
    counter = RepeatCounter.for_share(0.1, texts_per_story=10)  # 1,000 counters for 20,000 texts
    for n in range(2000):
        counter.add(f"u{n}", [f"paragraph {n}.{k}" for k in range(9)] + (["leak"] if n % 4 == 0 else []))
    assert counter.error > 0 and len(counter.kept) <= counter.counters
    [leak] = counter.more_than(0.1, 5)
    assert leak.text == "leak" and leak.stories <= 500 <= leak.at_most
    assert leak.error <= counter.added / (counter.counters + 1) <= 0.1 * 0.1 * 2000 * 1.01


texts = st.sampled_from([f"t{n}" for n in range(12)])


@given(stories=st.lists(st.lists(texts, max_size=6), min_size=1, max_size=80),
       counters=st.integers(min_value=1, max_value=8), share=st.sampled_from([0.05, 0.1, 0.25, 0.5]),
       at_least=st.integers(min_value=1, max_value=6))
def test_the_repeat_counter_bounds_every_count_and_misses_no_frequent_text(stories, counters, share, at_least):
    counter = RepeatCounter(counters=counters)
    named = [(f"u{n}", story) for n, story in enumerate(stories)]
    for url, story in named:
        counter.add(url, story)
    exact = exact_stories(named)
    held = {r.text: r for r in counter.repeats()}
    assert len(held) <= counters and counter.stories == len(stories)
    assert counter.added == sum(exact.values())
    assert counter.error <= counter.added / (counters + 1)
    for text, count in exact.items():
        if text in held:
            assert held[text].stories <= count <= held[text].at_most
            assert set(held[text].samples) <= {url for url, story in named if text in story}
        else:
            assert count <= counter.error
    # A text in more stories than the counts' error is always held, so it is named when frequent.
    found = {r.text for r in counter.more_than(share, at_least)}
    assert {t for t, count in exact.items()
            if count > max(share * len(stories), counter.error) and count >= at_least} <= found


def leak_cli(site, db, *settings: str):
    return cli_crawl(site, db, *[part for setting in settings for part in ("-s", setting)])


def test_a_paragraph_leaking_into_every_story_closes_extraction_degraded_with_exit_1(replica, tmp_path):
    site = replica(stories=60, faults=[{"match": EN_ARTICLE, "mode": "leak_paragraph"}])
    pages = len(english(site))
    run = cli_crawl(site, tmp_path / "news.sqlite")
    assert run.returncode == 1, run.stderr[-3000:]
    stats = stats_from_log(run.stderr)
    assert stats["finish_reason"] == "extraction_degraded"
    # Judged once every page was in, against all of them.
    assert stats["newsbot/article_pages"] == pages and stats["item_scraped_count"] == pages
    assert stats["newsbot/leak/paragraph"] == 1 and stats["newsbot/leak/image"] == 0
    assert stats["newsbot/leak/top_share/paragraph"] == 1.0
    [error] = logged(run.stderr, "ERROR")
    shown = LEAKED_PARAGRAPH[:79].rstrip() + "…"
    assert error.startswith(f"Crawl is broken (extraction_degraded): the same paragraph in {pages} of {pages} "
                            f"stories (100%), more than 30% (NEWSBOT_LEAK_SHARE): {shown!r}; e.g. "), error
    samples = error.split("; e.g. ", 1)[1].split(", ")
    assert len(samples) == 3 and set(samples) <= {t["url"] for t in english(site)}
    assert "Traceback" not in run.stderr


def test_one_image_as_every_storys_photo_closes_extraction_degraded_with_exit_1(replica, tmp_path):
    site = replica(stories=60, faults=[{"match": EN_ARTICLE, "mode": "leak_image"}])
    pages = len(english(site))
    run = cli_crawl(site, tmp_path / "news.sqlite")
    assert run.returncode == 1, run.stderr[-3000:]
    stats = stats_from_log(run.stderr)
    assert stats["finish_reason"] == "extraction_degraded" and stats["newsbot/article_pages"] == pages
    assert stats["newsbot/leak/image"] == 1 and stats["newsbot/leak/paragraph"] == 0
    [error] = logged(run.stderr, "ERROR")
    assert error.startswith(f"Crawl is broken (extraction_degraded): the same image in {pages} of {pages} stories "
                            f"(100%), more than 5% (NEWSBOT_LEAK_IMAGE_SHARE): {site.base_url}{LEAKED_IMAGE}; e.g. "), error
    assert "Traceback" not in run.stderr


@pytest_twisted.ensureDeferred
async def test_a_leak_is_judged_by_its_share_of_the_whole_crawl_against_the_settings(replica, tmp_path,
                                                                                      warnings_caplog):
    rate = 0.2
    site = replica(stories=60, faults=[{"match": EN_ARTICLE, "rate": rate, "mode": "leak_paragraph"}])
    truth = english(site)
    leaked = [t["url"] for t in truth if selected(path_of(t["url"]), rate)]
    pages = len(truth)
    assert 5 <= len(leaked) < pages * 0.3
    share = len(leaked) / pages

    async def run(name: str, **settings):
        return await crawl("latest", crawl_settings(site.base_url, tmp_path / f"{name}.sqlite", **settings),
                           lang="en")

    # The defaults: below the share, however early the leaked pages came.
    default = await run("default")
    assert default.reason == "finished" and default.stats["newsbot/leak/paragraph"] == 0
    assert default.stats["newsbot/leak/top_share/paragraph"] == round(share, 4)
    # Just below its share: a leak; with one story more than it has as the minimum: none.
    below = await run("below", NEWSBOT_LEAK_SHARE=share - 0.5 / pages, NEWSBOT_LEAK_MIN_STORIES=len(leaked))
    assert below.reason == "extraction_degraded" and below.stats["newsbot/leak/paragraph"] == 1
    errors = [r.getMessage() for r in warnings_caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and f"the same paragraph in {len(leaked)} of {pages} stories" in errors[0], errors
    assert set(errors[0].split("; e.g. ", 1)[1].split(", ")) <= set(leaked)
    fewer = await run("fewer", NEWSBOT_LEAK_SHARE=share - 0.5 / pages, NEWSBOT_LEAK_MIN_STORIES=len(leaked) + 1)
    assert fewer.reason == "finished" and fewer.stats["newsbot/leak/paragraph"] == 0
    # Off: no judgement, no stats.
    off = await run("off", NEWSBOT_LEAK_SHARE=1)
    assert off.reason == "finished" and "newsbot/leak/paragraph" not in off.stats


@pytest_twisted.ensureDeferred
async def test_a_clean_crawl_finishes_with_no_leak(replica, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    site = replica(stories=60)
    truth = site.ground_truth()
    result = await crawl("category", crawl_settings(site.base_url, tmp_path / "news.sqlite"))
    assert result.reason == "finished" and result.stat("newsbot/article_pages") == len(truth)
    assert result.stats["newsbot/leak/paragraph"] == 0 and result.stats["newsbot/leak/image"] == 0
    assert 0 < result.stats["newsbot/leak/top_share/paragraph"] < 0.3
    messages = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith(f"No leak in {len(truth)} stories: the most repeated paragraph is in ") for m in messages) == 1
    assert "log_count/ERROR" not in result.stats


@pytest_twisted.ensureDeferred
async def test_unknown_categories_are_one_line_at_close_with_their_slugs_and_counts(replica, tmp_path,
                                                                                   warnings_caplog):
    site = replica(stories=60)
    truth = site.ground_truth()
    result = await crawl("category", crawl_settings(site.base_url, tmp_path / "news.sqlite"))
    assert result.reason == "finished"
    # One line for the crawl, slugs most frequent first, no line per article; the stat stays.
    unknown = Counter(t["category_slug"] for t in truth if not is_known_key(t["category_slug"]))
    assert unknown and result.stats["newsbot/warnings/unknown_category"] == sum(unknown.values())
    [line] = [r for r in warnings_caplog.records if "nknown category" in r.getMessage()]
    assert line.levelname == "WARNING"
    head, listed = line.getMessage().split(": ", 1)
    assert head == f"Unknown category on {sum(unknown.values())} of {len(truth)} article pages"
    named = [re.fullmatch(r"(.+) \((\d+)\)", part).groups() for part in listed.split(", ")]
    assert {slug: int(count) for slug, count in named} == dict(unknown)
    assert [int(count) for _, count in named] == sorted(unknown.values(), reverse=True)
