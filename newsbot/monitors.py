"""Crawl health as one spidermon suite, run by newsbot.extensions.CrawlHealth when the spider goes idle:
spidermon's extension runs suites at spider_closed, when the close reason is fixed already. Each check,
its close reason and the setting that turns it off: docs/crawling.md, Crawl health."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from spidermon import Monitor, MonitorRunner, MonitorSuite
from spidermon import settings as spidermon_settings

from newsbot import stats as keys
from newsbot.config import Config
from newsbot.repeats import Repeat, RepeatCounter

_FAIL = spidermon_settings.MONITOR.STATUS.FAILURE  # a failed assertion; ERROR is a monitor that raised


@dataclass(frozen=True)
class Baseline:
    """What one field's fill rate is judged against."""

    threshold: float
    median: float | None = None   # of the qualifying runs' fill rates, when there were enough
    runs: int = 0                 # qualifying runs in the store that recorded this field's fill rate

    def explain(self, config: Config) -> str:
        if self.median is not None:
            return (f"the last {self.runs} complete runs' median is {self.median:.0%} "
                    f"(alarm below {config.fill_history_ratio:.0%} of it, {self.threshold:.1%})")
        return (f"below the floor of {self.threshold:.0%} (NEWSBOT_FILL_FLOORS; {self.runs} complete "
                f"run(s) of {config.degraded_min_pages}+ article pages in the store's history, "
                f"{config.fill_history_min_runs} needed for a median)")


def baselines(history: Iterable[Mapping[str, Any]], config: Config) -> dict[str, Baseline]:
    """Per watched field (the keys of NEWSBOT_FILL_FLOORS): NEWSBOT_FILL_HISTORY_RATIO of the median of
    its fill rate over `history` (stats of earlier complete runs) when at least
    NEWSBOT_FILL_HISTORY_MIN_RUNS of them recorded it, else its floor."""
    history = list(history)
    result = {}
    for field, floor in config.fill_floors.items():
        rates = [float(run[keys.fill_rate(field)]) for run in history if run.get(keys.fill_rate(field)) is not None]
        if len(rates) >= max(1, config.fill_history_min_runs):
            median = statistics.median(rates)
            result[field] = Baseline(median * config.fill_history_ratio, median, len(rates))
        else:
            result[field] = Baseline(float(floor), None, len(rates))
    return result


class HealthMonitor(Monitor):
    """A check of the crawl's health; a failure means the crawl is broken for `reason`."""

    reason = "extraction_degraded"

    def judged_pages(self) -> int:
        """Article pages seen, or 0 below NEWSBOT_DEGRADED_MIN_PAGES: too few to judge a share by."""
        pages = self.data.stats.get(keys.ARTICLE_PAGES, 0)
        return pages if pages >= self.data.config.degraded_min_pages else 0


class RequiredFields(HealthMonitor):
    def test_few_pages_lack_a_required_field(self) -> None:
        pages, degraded = self.judged_pages(), self.data.stats.get(keys.DEGRADED_PAGES, 0)
        if pages and degraded / pages > self.data.config.degraded_threshold:
            self.fail(f"{degraded} of {pages} article pages lack a required field")


class Listings(HealthMonitor):
    reason = "no_listings"

    def test_a_listing_gave_cards(self) -> None:
        if self.data.spider.name != "article" and not self.data.stats.get(keys.LISTING_PAGES, 0):
            self.fail("no listing page gave any article card")


class FillRate(HealthMonitor):
    field = ""  # one subclass per watched field (CrawlHealthSuite.build)

    def test_the_field_is_filled_as_usual(self) -> None:
        pages = self.judged_pages()
        baseline: Baseline = self.data.baselines[self.field]
        value = float(self.data.stats.get(keys.fill_rate(self.field), 0.0))
        if pages and value < baseline.threshold:
            self.fail(f"{self.field} filled on {value:.0%} of {pages} article pages ({round(value * pages)}); "
                      f"{baseline.explain(self.data.config)}")


@dataclass(frozen=True)
class LeakLimit:
    share: float         # of the crawl's stories, beyond which a text is a leak
    min_stories: int     # ... and in at least this many of them
    setting: str         # the setting of the share, named in the line

    def offenders(self, counter: RepeatCounter) -> list[Repeat]:
        return counter.more_than(self.share, self.min_stories)


class Leak(HealthMonitor):
    kind = ""  # "paragraph" or "image", one subclass each (CrawlHealthSuite.build)
    SAMPLES = 3

    def test_nothing_is_in_too_many_stories(self) -> None:
        counter: RepeatCounter = self.data.leaks[self.kind]
        limit: LeakLimit = self.data.leak_limits[self.kind]
        offenders = limit.offenders(counter) if self.judged_pages() else []
        # One line per offender; a monitor fails once, so the lines join, each its own line.
        if offenders:
            self.fail("\n".join(
                f"the same {self.kind} in {count(repeat, counter)}, more than {limit.share:.0%} ({limit.setting}): "
                f"{repr(repeat.text) if self.kind == 'paragraph' else repeat.text}; e.g. {', '.join(repeat.samples)}"
                for repeat in offenders))


def count(repeat: Repeat, counter: RepeatCounter) -> str:
    """"61 of 240 stories (25%)"; a range when the counts are estimates."""
    number = f"{repeat.stories}" if not repeat.error else f"{repeat.stories}-{repeat.at_most}"
    return f"{number} of {counter.stories} stories ({repeat.stories / max(1, counter.stories):.0%})"


class CrawlHealthSuite(MonitorSuite):
    """The checks a crawl's settings turn on."""

    @classmethod
    def build(cls, fill_fields: Iterable[str] = (), leak_kinds: Iterable[str] = (),
              only: type[HealthMonitor] | None = None) -> CrawlHealthSuite:
        monitors: list[tuple[str, type[HealthMonitor]]] = [("required fields", RequiredFields), ("listings", Listings)]
        monitors += [(f"fill rate of {field}", type(f"FillRate_{field}", (FillRate,), {"field": field}))
                     for field in fill_fields]
        monitors += [(f"{kind} leaks", type(f"Leak_{kind}", (Leak,), {"kind": kind})) for kind in leak_kinds]
        return cls(monitors=[(name, monitor) for name, monitor in monitors
                             if only is None or issubclass(monitor, only)])


def judge(suite: CrawlHealthSuite, **data: Any) -> tuple[list[tuple[HealthMonitor, str]], list[str]]:
    """(each failing monitor and its message, in suite order; each monitor that raised: a bug in a check,
    not a verdict on the crawl), run with spidermon's plain runner (it logs nothing by itself;
    SpiderMonitorRunner would log every monitor and each failure's traceback)."""
    failed, errors = [], []
    for item in MonitorRunner().run(suite, **data).monitors_failed_results:
        if item.status == _FAIL:  # spidermon keeps a failure's message as its reason
            failed.append((item.item, item.reason))
        else:  # the last line of the traceback spidermon keeps: the exception and its message
            errors.append(f"monitor {item.item.name}: {item.error.strip().splitlines()[-1].strip()}")
    return failed, errors
