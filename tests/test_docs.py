"""The figures in the README and docs that can drift from the code they describe."""

from __future__ import annotations

import re
import shlex
import sqlite3

import pytest
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from tests.crawling import ROOT, scrapy_cli


def test_the_scrapyd_page_names_every_spider_the_egg_holds():
    spiders = sorted(SpiderLoader.from_settings(get_project_settings()).list())
    said = re.search(r"the number of spiders found, (\d+) \(([^)]*)\)", (ROOT / "docs" / "scrapyd.md").read_text())
    assert said, "docs/scrapyd.md no longer says which spiders Scrapyd finds"
    assert int(said[1]) == len(spiders) and sorted(re.findall(r"`(\w+)`", said[2])) == spiders


def test_the_readme_stays_a_guide_of_at_most_15_kb():
    # Depth goes to docs/ and figures to bench/RESULTS.md; the README is what a newcomer reads first.
    assert (ROOT / "README.md").stat().st_size <= 15_000


def _section(text: str, heading: str) -> str:
    found = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert found, f"README.md has no '## {heading}' section"
    return found[1]


def test_the_readmes_code_map_names_every_package_and_module_of_newsbot():
    named = set(re.findall(r"`([^`]+)`", _section((ROOT / "README.md").read_text(), "Code map")))
    package = ROOT / "newsbot"
    parts = {f"{path.name}/" for path in package.iterdir() if (path / "__init__.py").is_file()}
    parts |= {path.name for path in package.glob("*.py") if path.name != "__init__.py"}
    assert parts and sorted(parts - named) == []


def _anchors(markdown: str) -> set[str]:
    # GitHub's heading ids: lower case, punctuation dropped, spaces as hyphens, repeats numbered.
    anchors: set[str] = set()
    for heading in re.findall(r"^#+ (.+)$", _prose(markdown), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchor, n = slug, 0
        while anchor in anchors:
            n += 1
            anchor = f"{slug}-{n}"
        anchors.add(anchor)
    return anchors


def _prose(markdown: str) -> str:
    return re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)


@pytest.mark.parametrize("page", ["README.md", *sorted(p.name for p in (ROOT / "docs").glob("*.md"))])
def test_every_relative_link_points_at_a_file_and_heading_that_exist(page):
    source = ROOT / page if page == "README.md" else ROOT / "docs" / page
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _prose(source.read_text())):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (source.parent / path).resolve() if path else source
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked.read_text()):
            broken.append(target)
    assert broken == []


def test_the_readme_states_no_test_count():
    # A count of tests or a suite's timing goes stale with the next test; CI's log has the real one.
    assert not re.search(r"\d+ tests\b", (ROOT / "README.md").read_text())


def test_the_schema_page_states_the_current_version_and_every_migration():
    from newsbot.store import SCHEMA_VERSION
    from newsbot.store.schema import _SCRIPTS

    text = (ROOT / "docs" / "schema.md").read_text()
    said = re.search(r"the current one is\s+\*\*(\d+)\*\*", text)
    assert said and int(said[1]) == SCHEMA_VERSION
    for version, script in _SCRIPTS.items():
        assert f"`newsbot/data/{script}`" in text
        assert version == 1 or f"Version {version} (`{script}`" in text
    assert f"To make version {SCHEMA_VERSION + 1}: add `newsbot/data/migrate_v{SCHEMA_VERSION}_v{SCHEMA_VERSION + 1}.sql`" \
        in text


@pytest.mark.parametrize("spider", ["category", "sitemap"])
def test_the_readmes_backfill_examples_store_articles_from_the_replica(shared_replica, tmp_path, spider):
    # The replica's news is from January 2026: an example whose window is not stores nothing there.
    readme = (ROOT / "README.md").read_text()
    [example] = re.findall(rf"^\.venv/bin/scrapy (crawl {spider} .*)$", readme, flags=re.M)
    db = tmp_path / "backfill.sqlite"
    run = scrapy_cli(*shlex.split(example), "-s", f"NEWSBOT_BASE_URL={shared_replica.base_url}",
                     "-s", f"NEWSBOT_DB={db}", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0")
    assert run.returncode == 0, run.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*), count(DISTINCT language) FROM articles").fetchone()
    assert stored[0] > 0 and stored[1] == 3, stored
