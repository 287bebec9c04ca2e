"""Crawl health's checks (newsbot.monitors.CrawlHealthSuite) and the progress line, on hand-made stats:
each monitor fails on numbers past its limit, with its reason and the line the crawl logs, and passes
on usual ones."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy.settings import Settings

from newsbot import settings as project_settings
from newsbot import stats as keys
from newsbot.config import Config
from newsbot.monitors import Baseline, CrawlHealthSuite, LeakLimit, judge
from newsbot.repeats import RepeatCounter

CONFIG = Config.from_settings(Settings({name: getattr(project_settings, name) for name in dir(project_settings)
                                        if name.isupper()}))
LATEST = SimpleNamespace(name="latest")


def run(stats: dict, spider=LATEST, fill: dict[str, Baseline] | None = None, leaks: dict | None = None):
    counters = {kind: counter for kind, (counter, _) in (leaks or {}).items()}
    limits = {kind: limit for kind, (_, limit) in (leaks or {}).items()}
    suite = CrawlHealthSuite.build(fill or {}, limits)
    failed, errors = judge(suite, stats=stats, config=CONFIG, crawler=None, spider=spider, baselines=fill or {},
                           leaks=counters, leak_limits=limits)
    assert errors == []
    return [(monitor.reason, message) for monitor, message in failed]


def healthy(**overrides) -> dict:
    return {keys.ARTICLE_PAGES: 100, keys.DEGRADED_PAGES: 0, keys.LISTING_PAGES: 5, **overrides}


def test_a_healthy_crawl_passes_every_check():
    counter = RepeatCounter(50)
    for story in range(100):
        counter.add(f"s{story}", [f"paragraph {story}", "Shared by a few"] if story < 3 else [f"paragraph {story}"])
    fill = {"tags": Baseline(0.05)}
    assert run(healthy(**{keys.fill_rate("tags"): 0.4}), fill=fill,
               leaks={"paragraph": (counter, LeakLimit(0.3, 10, "NEWSBOT_LEAK_SHARE"))}) == []


@pytest.mark.parametrize("degraded, failing", [(20, False), (21, True)])
def test_required_fields_fail_past_the_threshold(degraded, failing):
    assert CONFIG.degraded_threshold == 0.2
    failed = run(healthy(**{keys.DEGRADED_PAGES: degraded}))
    assert failed == ([("extraction_degraded", f"{degraded} of 100 article pages lack a required field")]
                      if failing else [])


def test_too_few_pages_are_not_judged():
    pages = CONFIG.degraded_min_pages - 1
    assert run(healthy(**{keys.ARTICLE_PAGES: pages, keys.DEGRADED_PAGES: pages})) == []


def test_no_listing_is_no_listings_except_for_the_article_spider():
    assert run(healthy(**{keys.LISTING_PAGES: 0})) == [("no_listings", "no listing page gave any article card")]
    assert run(healthy(**{keys.LISTING_PAGES: 0}), spider=SimpleNamespace(name="article")) == []


def test_a_field_below_its_baseline_fails_naming_it():
    fill = {"tags": Baseline(0.05), "images": Baseline(0.05)}
    failed = run(healthy(**{keys.fill_rate("tags"): 0.04, keys.fill_rate("images"): 0.05}), fill=fill)
    assert [reason for reason, _ in failed] == ["extraction_degraded"]
    assert failed[0][1].startswith("tags filled on 4% of 100 article pages (4); below the floor of 5%")


def test_a_paragraph_in_too_many_stories_is_a_leak_with_one_line_per_offender():
    counter = RepeatCounter(500)  # enough to count exactly
    for story in range(100):
        counter.add(f"https://report.az/en/s{story}/", [f"own {story}", "Follow us", "Read more"]
                    if story < 40 else [f"own {story}"])
    failed = run(healthy(), leaks={"paragraph": (counter, LeakLimit(0.3, 10, "NEWSBOT_LEAK_SHARE"))})
    assert [reason for reason, _ in failed] == ["extraction_degraded"]
    lines = failed[0][1].splitlines()
    assert len(lines) == 2 and all("in 40 of 100 stories (40%), more than 30% (NEWSBOT_LEAK_SHARE)" in line
                                   for line in lines)
    # Below its share, or in fewer stories than its minimum: no leak.
    assert run(healthy(), leaks={"paragraph": (counter, LeakLimit(0.4, 10, "NEWSBOT_LEAK_SHARE"))}) == []
    assert run(healthy(), leaks={"paragraph": (counter, LeakLimit(0.3, 41, "NEWSBOT_LEAK_SHARE"))}) == []


def test_the_progress_line_gives_totals_rates_and_the_time_left_of_a_bounded_crawl():
    from newsbot.extensions import progress_line

    stats = {"response_received_count": 240, "scheduler/enqueued": 300, "scheduler/dequeued": 265,
             keys.STORED_NEW: 180, keys.STORED_UPDATED: 2, keys.STORED_UNCHANGED: 40, "log_count/ERROR": 1,
             "item_scraped_count": 222}
    assert progress_line(stats, 60) == ("240 pages (35 queued), 180 new, 2 updated, 40 unchanged articles, 1 error; "
                                        "4.0 pages/s, 180 new/min")
    # Bounded: the nearer limit at the rate so far (60 more pages at 4/s; 2,000 more items is further).
    assert progress_line(stats, 60, page_limit=300, item_limit=2222).endswith("; about 15 s left")
    assert progress_line(stats, 60, page_limit=2640).endswith("; about 10 min left")
    assert progress_line({}, 0) == "0 pages (0 queued), 0 new, 0 updated, 0 unchanged articles, 0 errors; " \
                                   "0.0 pages/s, 0 new/min"
