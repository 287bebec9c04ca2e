"""The figures in the README and docs that can drift from the code they describe."""

from __future__ import annotations

import re

from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from tests.crawling import ROOT


def test_the_scrapyd_page_names_every_spider_the_egg_holds():
    spiders = sorted(SpiderLoader.from_settings(get_project_settings()).list())
    said = re.search(r"the number of spiders found, (\d+) \(([^)]*)\)", (ROOT / "docs" / "scrapyd.md").read_text())
    assert said, "docs/scrapyd.md no longer says which spiders Scrapyd finds"
    assert int(said[1]) == len(spiders) and sorted(re.findall(r"`(\w+)`", said[2])) == spiders


def test_the_readme_states_no_test_count():
    # A count of tests or a suite's timing goes stale with the next test; CI's log has the real one.
    assert not re.search(r"\d+ tests\b", (ROOT / "README.md").read_text())
