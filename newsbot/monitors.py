"""Crawl health's fill-rate checks, as spidermon monitors.

One stat monitor per watched field (`translations`, `tags`, `images`, `known_category`, the keys
of NEWSBOT_FILL_FLOORS) asserts `newsbot/fill_rate/<field>` >= the field's threshold:

- half (NEWSBOT_FILL_HISTORY_RATIO) of the median over the store's last NEWSBOT_FILL_HISTORY_RUNS
  (10) complete runs of the same spider that saw at least NEWSBOT_DEGRADED_MIN_PAGES article pages,
  once there are NEWSBOT_FILL_HISTORY_MIN_RUNS (3) such runs with that stat;
- else the field's floor in NEWSBOT_FILL_FLOORS (a low absolute share: what share of a real
  site's stories have tags or other editions is not known, and a false alarm on every crawl is
  as bad as none).

newsbot.extensions.FillRateMonitor runs FillRateSuite itself, from its spider_idle handler (spidermon's own extension
runs suites at spider_closed, when the close reason is already fixed), with spidermon's plain
MonitorRunner: its failed action logs one ERROR line per failing field, and FillRateMonitor closes
the crawl as `extraction_degraded` when a monitor failed.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from spidermon import Action, MonitorRunner, MonitorSuite
from spidermon import settings as spidermon_settings
from spidermon.contrib.scrapy.monitors.base import BaseStatMonitor
from spidermon.results.monitor import MonitorResult

from newsbot import stats as keys

logger = logging.getLogger("newsbot.extensions")  # the crawl-health log, whoever writes the line

_FAIL = spidermon_settings.MONITOR.STATUS.FAILURE  # a failed assertion; ERROR is a monitor that raised


@dataclass(frozen=True)
class Baseline:
    """What one field's fill rate is judged against."""

    field: str
    threshold: float
    median: float | None = None   # of the qualifying runs' fill rates, when there were enough
    runs: int = 0                 # qualifying runs in the store that recorded this field's fill rate
    needed: int = 0               # ... needed for the median to count
    ratio: float = 0.5
    min_pages: int = 20           # article pages a run must have seen to count

    def explain(self) -> str:
        if self.median is not None:
            return (f"the last {self.runs} complete runs' median is {self.median:.0%} "
                    f"(alarm below {self.ratio:.0%} of it, {self.threshold:.1%})")
        return (f"below the floor of {self.threshold:.0%} (NEWSBOT_FILL_FLOORS; {self.runs} complete "
                f"run(s) of {self.min_pages}+ article pages in the store's history, {self.needed} needed for a median)")


def baselines(floors: Mapping[str, float], history: Iterable[Mapping[str, Any]], *, min_runs: int,
              ratio: float, min_pages: int = 20) -> dict[str, Baseline]:
    """Per watched field (the keys of `floors`): half the median of its fill rate over `history`
    (stats of earlier complete runs) when at least `min_runs` of them recorded it, else its floor."""
    history = list(history)
    result = {}
    for field, floor in floors.items():
        rates = [float(run[keys.fill_rate(field)]) for run in history if run.get(keys.fill_rate(field)) is not None]
        if len(rates) >= max(1, min_runs):
            median = statistics.median(rates)
            result[field] = Baseline(field, median * ratio, median, len(rates), min_runs, ratio, min_pages)
        else:
            result[field] = Baseline(field, float(floor), None, len(rates), min_runs, ratio, min_pages)
    return result


class FillRateMonitor(BaseStatMonitor):
    """The share of article pages whose item has the field is not far below the usual."""

    field = ""  # set per watched field by FillRateSuite.for_fields
    assert_type = ">="
    fail_if_stat_missing = False  # no article page at all: nothing to judge

    @property
    def stat_name(self) -> str:  # BaseStatMonitor reads it as an attribute
        return keys.fill_rate(self.field)

    def get_threshold(self) -> float:
        return self.data.baselines[self.field].threshold


class LogFillRateFailures(Action):
    """One ERROR line per failing field: the field, its fill rate, the pages and the baseline."""

    def run_action(self) -> None:
        pages = self.data.stats.get(keys.PAGES_JUDGED, 0)
        for failed in self.result.monitors_failed_results:
            monitor = failed.item
            if not isinstance(monitor, FillRateMonitor) or failed.status != _FAIL:
                continue
            baseline: Baseline = self.data.baselines[monitor.field]
            value = float(self.data.stats.get(monitor.stat_name, 0.0))
            logger.error("Crawl is broken (extraction_degraded): %s filled on %.0f%% of %d article pages "
                         "(%d); %s", monitor.field, value * 100, pages, round(value * pages), baseline.explain())


class FillRateSuite(MonitorSuite):
    """Fill rates of the optional fields against the store's history or the floors."""

    monitors_failed_actions = [LogFillRateFailures]

    @classmethod
    def for_fields(cls, fields: Iterable[str]) -> FillRateSuite:
        return cls(monitors=[(field, type(f"FillRate_{field}", (FillRateMonitor,), {"field": field}))
                             for field in fields])


@dataclass
class FillRateVerdict:
    failed: list[str]     # fields below their threshold
    errors: list[str]     # monitors or actions that raised (a bug, not a verdict on the crawl)


def judge(crawler, stats: Mapping[str, Any], field_baselines: Mapping[str, Baseline]) -> FillRateVerdict:
    """Run FillRateSuite over `stats` with spidermon's plain runner (it logs nothing by itself;
    SpiderMonitorRunner would log every monitor and each failure's traceback)."""
    suite = FillRateSuite.for_fields(field_baselines)
    result: MonitorResult = MonitorRunner().run(suite, stats=dict(stats), crawler=crawler,
                                                spider=crawler.spider, baselines=dict(field_baselines))
    failed, errors = [], []
    for item in result.monitors_failed_results:
        if item.status == _FAIL:
            failed.append(item.item.field)
        else:
            errors.append(f"monitor {item.item.name}: {_last_line(item.error)}")
    for item in result.monitors_failed_action_results:
        if item.status == spidermon_settings.ACTION.STATUS.ERROR:
            errors.append(f"action {item.item.name}: {_last_line(item.error)}")
    return FillRateVerdict(failed, errors)


def _last_line(text: Any) -> str:
    lines = [line for line in str(text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "?"
