"""Datasette at full size: `scrapy browse` on a built store, and every page an analyst reaches from its
index opened in headless Chromium, each with its load time and whether Datasette gave up on a query.

    python -m bench.datasette [--size 100000] [--db PATH] [--sorts] [--setting NAME VALUE ...] [--out FILE]

The store: bench.exports.build_store's (built once per size and kept), or --db. The pages: the instance and
database pages; every table and view the database page lists, with its default facets and sort; the first
value of each of their facets (a facet click) and their next page; a full-text search for a word of the newest
article's title; that article's row page and its story's editions; every canned query, with a sample value for
each parameter; with --sorts, each sort the column headings offer too (on a large store a sort by a column without
an index runs out of time, and Datasette's limit is the guard). A page fails when it does not answer 200, when
Datasette interrupted a query ("SQL query took too long"), left a facet out ("These facets timed out") or a
table's row count out (its count query ran out of time). --setting NAME VALUE: a Datasette setting passed to
`scrapy browse --setting`. Exits 1 if any page fails.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import log
from bench.exports import CACHE, build_store
from tests.test_analysis import browsing

# More than the tests' small stores take to start: a large store's first open may migrate it.
START_SECONDS = 120
PAGE_TIMEOUT_MS = 120_000


def _json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=PAGE_TIMEOUT_MS / 1000) as response:
        return json.load(response)


def start_pages(base: str, database: str) -> list[tuple[str, str]]:
    """(kind, URL) of the pages an analyst opens from the index, with sample values taken from the newest
    article (through Datasette's JSON, as a visitor would find them)."""
    db_url = f"{base}/{urllib.parse.quote(database)}"
    listing = _json(f"{db_url}.json")
    newest = _json(f"{db_url}/articles.json?_shape=array&_size=1&_nofacet=1&_nocount=1")[0]
    word = max(re.findall(r"\w+", newest["title"]), key=len)
    samples = {"day": newest["published_at"][:10]}
    pages = [("index", f"{base}/"), ("database", db_url)]
    pages += [("table", f"{db_url}/{urllib.parse.quote(table['name'])}") for table in listing["tables"]
              if not table["hidden"]]
    pages += [("view", f"{db_url}/{urllib.parse.quote(view['name'])}") for view in listing["views"]]
    pages += [("search", f"{db_url}/articles?" + urllib.parse.urlencode({"_search": word})),
              ("row", f"{db_url}/articles/{urllib.parse.quote(newest['article_id'], safe='')}"),
              ("story", f"{db_url}/articles?" + urllib.parse.urlencode({"story_id": newest["story_id"]}))]
    for query in listing["queries"]:
        names = sorted(set(re.findall(r"(?<!:):(\w+)", query["sql"])))
        missing = [name for name in names if name not in samples]
        if missing:
            raise SystemExit(f"canned query {query['name']}: no sample value for :{', :'.join(missing)}")
        url = f"{db_url}/{urllib.parse.quote(query['name'])}"
        pages.append(("query", url + ("?" + urllib.parse.urlencode({n: samples[n] for n in names}) if names else "")))
        if names:  # and with the form left empty, as the page first shows it
            pages.append(("query", url + "?" + urllib.parse.urlencode({n: "" for n in names})))
    return pages


def visit(page: Any, kind: str, url: str) -> dict[str, Any]:
    """Open `url` and say how it went: seconds to load, HTTP status, what Datasette gave up on."""
    started = time.monotonic()
    response = page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
    seconds = time.monotonic() - started
    problems = []
    timed_out = page.evaluate("document.querySelector('p.facets-timed-out')?.innerText ?? ''")
    if timed_out:  # "These facets timed out: language, category_slug"
        problems.append("facets timed out: " + timed_out.partition(":")[2].strip())
    if "SQL query took too long" in page.inner_text("body"):
        problems.append("SQL query took too long")
    if response.status != 200:
        problems.append(f"HTTP {response.status}: {page.inner_text('body').strip().splitlines()[0][:200]}")
    elif kind in ("table", "view", "facet", "next", "sort", "search", "story") and " row" not in page.title():
        problems.append("row count timed out")
    return {"kind": kind, "url": url, "seconds": round(seconds, 3), "problems": problems, "passed": not problems}


def further_pages(page: Any, kind: str, sorts: bool) -> list[tuple[str, str]]:
    """From a table or view page: the first value of each facet, the next page, and (sorts) each column's sort
    (the column headings' links)."""
    if kind not in ("table", "view"):
        return []
    facets = page.locator(".facet-info").evaluate_all(
        "nodes => nodes.map(n => n.querySelector('ul li a')?.href).filter(Boolean)")
    following = page.locator("a", has_text="Next page").evaluate_all("links => links.map(a => a.href)")
    headings = page.locator("table.rows-and-columns th a").evaluate_all("links => links.map(a => a.href)")
    return ([("facet", url) for url in facets] + [("next", url) for url in following[:1]]
            + [("sort", url) for url in headings if sorts and "_sort" in url])


def run(db: Path, settings: list[tuple[str, str]], sorts: bool = False) -> list[dict[str, Any]]:
    """Every page of `scrapy browse --db db`, opened in headless Chromium: one result each (visit's)."""
    from playwright.sync_api import sync_playwright

    from newsbot.settings import PLAYWRIGHT_LAUNCH_OPTIONS

    results = []
    with browsing(db, tuple(settings), START_SECONDS) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
        try:
            page = browser.new_page()
            queue = start_pages(base, db.stem)
            while queue:
                kind, url = queue.pop(0)
                results.append(visit(page, kind, url))
                log(f"{results[-1]['seconds']:6.2f} s {'pass' if results[-1]['passed'] else 'FAIL'} {kind} "
                    f"{url[len(base):]} {'; '.join(results[-1]['problems'])}")
                queue += further_pages(page, kind, sorts)
        finally:
            browser.close()
        for result in results:
            result["url"] = result["url"][len(base):]
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| page | kind | seconds | result |", "|---|---|---|---|"]
    for r in results:
        verdict = "pass" if r["passed"] else "FAIL: " + "; ".join(r["problems"]).replace("|", "\\|")
        lines.append(f"| `{urllib.parse.unquote(r['url'])}` | {r['kind']} | {r['seconds']:.2f} | {verdict} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="articles in the built store (default 100000)")
    parser.add_argument("--db", type=Path, help="serve this store instead of the built one")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the built stores are kept")
    parser.add_argument("--sorts", action="store_true", help="also each sort the column headings offer")
    parser.add_argument("--setting", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a Datasette setting for scrapy browse (repeatable)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here too")
    args = parser.parse_args()
    db = args.db or build_store(args.size, args.cache)
    if not db.is_file():
        parser.error(f"--db {db}: no such file")
    results = run(db, [tuple(setting) for setting in args.setting], args.sorts)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(results))
    failed = [r for r in results if not r["passed"]]
    print(f"\n{len(results) - len(failed)} of {len(results)} pages pass", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
