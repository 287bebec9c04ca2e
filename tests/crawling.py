"""Run real newsbot crawls against the replica, in process (pytest-twisted) or as `scrapy crawl`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerRunner
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from newsbot.items import GROUND_TRUTH_FIELDS

ROOT = Path(__file__).resolve().parent.parent


def crawl_settings(base_url: str, db: Path | str, **overrides: Any) -> Settings:
    """The project's settings, pointed at the replica and made quick (no politeness delays on loopback)."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsbot.settings")
    settings = get_project_settings()
    settings.setdict({
        "NEWSBOT_BASE_URL": base_url,
        "NEWSBOT_DB": str(db),
        # The replica's stories are from January 2026: no default window.
        "NEWSBOT_LATEST_SINCE": "",
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "NEWSBOT_RETRY_BACKOFF": 0.05,
        "NEWSBOT_RETRY_BACKOFF_MAX": 2.0,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        **overrides,
    }, priority="cmdline")
    return settings


@dataclass
class CrawlResult:
    items: list[dict]
    stats: dict[str, Any]
    dropped: list[dict] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return self.stats.get("finish_reason", "")

    def stat(self, key: str) -> int:
        return self.stats.get(key, 0)

    @property
    def errors(self) -> int:
        return self.stats.get("log_count/ERROR", 0)


async def crawl(spider: str | type, settings: Settings, **spider_args: Any) -> CrawlResult:
    """One in-process crawl; use from tests decorated with @pytest_twisted.ensureDeferred."""
    runner = CrawlerRunner(settings)
    crawler = runner.create_crawler(spider)
    result = CrawlResult([], {})

    def item_scraped(item, response, spider):
        result.items.append(dict(item))

    def item_dropped(item, response, exception, spider):
        result.dropped.append(dict(item))

    crawler.signals.connect(item_scraped, signals.item_scraped)
    crawler.signals.connect(item_dropped, signals.item_dropped)
    await runner.crawl(crawler, **spider_args)
    result.stats = dict(crawler.stats.get_stats())
    return result


def scrapy_cli(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """`scrapy ...` as a user runs it, from the project root."""
    return subprocess.run([str(Path(sys.executable).with_name("scrapy")), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def logged(stderr: str, level: str) -> list[str]:
    """The messages a Scrapy log (a crawl's stderr) has at `level` ("ERROR", "WARNING"), in order."""
    marker = f"] {level}: "
    return [line.split(marker, 1)[1] for line in stderr.splitlines() if marker in line]


def comparable(record: dict) -> dict:
    return {k: record.get(k) for k in GROUND_TRUTH_FIELDS}


def assert_matches_ground_truth(items: list[dict], truth: list[dict]) -> None:
    """Every expected article exactly once, every field exactly as the replica's source says."""
    by_url = {}
    for item in items:
        assert item["url"] not in by_url, f"duplicate item {item['url']}"
        by_url[item["url"]] = item
    expected = {t["url"]: t for t in truth}
    assert sorted(by_url) == sorted(expected), (
        f"missing {sorted(set(expected) - set(by_url))[:5]}, unexpected {sorted(set(by_url) - set(expected))[:5]}")
    mismatches = [(url, k, expected[url][k], by_url[url].get(k)) for url in expected for k in GROUND_TRUTH_FIELDS
                  if by_url[url].get(k) != expected[url][k]]
    assert not mismatches, json.dumps(mismatches[:5], ensure_ascii=False, indent=1)
