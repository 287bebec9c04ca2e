"""newsbot's benchmarks in one command: `.venv/bin/python -m bench.run [--quick] [--only NAMES]`.

Runs crawl throughput, extraction, incremental, memory, storage, archive, backfill and navigation against local
replicas, and the analyst's commands on a realistic store of 100,000 articles (bench/analyst.py), writes
bench/results/latest.json (and a dated copy per run) and prints the results as a markdown table: every figure
next to a baseline measured in the same run.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from bench import analyst, archive, backfill, extraction, incremental, levers, memory, navigation, storage, throughput
from bench.common import RESULTS, ROOT, log
from bench.exports import CACHE

SIZES = {
    "quick": {"throughput": (250, 5), "extraction": (120, 150, 5), "incremental": 200,
              "memory": (2000, 6000), "storage": 5000, "archive": (100, 5), "backfill": (300, 5),
              "navigation": 250, "analyst": 10_000},
    "full": {"throughput": (2000, 5), "extraction": (300, 300, 7), "incremental": 300,
             "memory": (10000, 30000), "storage": 20000, "archive": (300, 5), "backfill": (600, 5),
             "navigation": 2000, "analyst": 100_000},
}
ALL = ("throughput", "extraction", "incremental", "memory", "storage", "archive", "backfill", "navigation",
       "levers", "analyst")


def machine() -> dict[str, Any]:
    import scrapy

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                                    text=True).stdout.strip())
    except OSError:
        commit, dirty = "", False
    return {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg(), "python": platform.python_version(),
            "scrapy": scrapy.__version__, "platform": platform.platform(), "commit": commit + ("+dirty" if dirty else "")}


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def page_weight(sizes: dict[str, Any] | None) -> str:
    """", article pages 98 KB median (p10 95, p90 102)": what the ratio was measured on."""
    if not sizes or not sizes.get("count"):
        return ""
    kb = {k: sizes[k] / 1024 for k in ("median", "p10", "p90")}
    return f", article pages {kb['median']:.0f} KB median (p10 {kb['p10']:.0f}, p90 {kb['p90']:.0f})"


def verdict(result: dict[str, Any]) -> str:
    return "met" if result.get("passed") else "**not met**"


def table(results: dict[str, Any]) -> str:
    rows = [("benchmark", "newsbot", "baseline (same run)", "ratio", "target", "result")]
    t = results.get("throughput")
    if t and "error" not in t:
        rows.append((
            f"crawl throughput: `category` backfill, {t['stories']:,} stories, {t['urls']:,} pages, "
            f"concurrency {t['concurrency']}/{t['per_domain']} per domain, {t['rounds']} paired rounds"
            + page_weight(t.get("article_page_bytes")),
            f"{fmt(t['newsbot_pages_per_second'])} pages/s ({fmt(t['newsbot_cpu_ms_per_page'])} ms CPU/page; "
            f"{fmt(t.get('requests_per_article'), 3)} requests per stored article)",
            f"bare Scrapy spider, same URLs: {fmt(t['bare_pages_per_second'])} pages/s "
            f"({fmt(t['bare_cpu_ms_per_page'])} ms CPU/page)",
            f"{fmt(t['ratio'], 2)} (pairs {fmt(t.get('ratio_min'), 2)}–{fmt(t.get('ratio_max'), 2)})"
            + (f"; CPU time: {fmt(t['cpu_ratio'], 2)}" if t.get("cpu_ratio") else ""),
            "≥ 0.85", verdict(t)))
        if t.get("parse_ratio"):
            rows.append((
                "the ceiling on these pages: bare spider that also builds each page's lxml tree "
                "(`bench/bare.py --parse`), same rounds",
                f"{fmt(t['parse_pages_per_second'])} pages/s ({fmt(t['parse_cpu_ms_per_page'])} ms CPU/page)",
                f"bare: {fmt(t['bare_pages_per_second'])} pages/s",
                f"{fmt(t['parse_ratio'], 2)} (pairs {fmt(t.get('parse_ratio_min'), 2)}–{fmt(t.get('parse_ratio_max'), 2)})"
                + (f"; CPU time: {fmt(t['parse_cpu_ratio'], 2)}" if t.get("parse_cpu_ratio") else ""),
                "(bound)", "measured"))
    e = results.get("extraction")
    if e and "error" not in e:
        rows.append((
            f"extraction cost: {e['pages']} saved article pages ({fmt(e['mean_page_kb'])} KB avg), CPU per page"
            + page_weight(e.get("article_page_bytes")),
            f"`extract_article` {fmt(e['newsbot_ms_per_page'], 2)} ms ({fmt(e['newsbot_pages_per_second'])} pages/s)",
            f"trafilatura {e['trafilatura_version']} `bare_extraction` {fmt(e['trafilatura_ms_per_page'], 2)} ms "
            f"({fmt(e['trafilatura_pages_per_second'])} pages/s)",
            f"{fmt(e['speedup'], 1)}× faster (median of {e['pairs']} pairs, "
            f"{fmt(e['speedup_min'], 1)}–{fmt(e['speedup_max'], 1)}); ftfy {fmt(e['ftfy_ms_per_page'], 3)} ms/page "
            f"({pct(e['ftfy_share_of_extraction'])} of it)"
            + (f"; the parse alone {fmt(e['parse_ms_per_page'], 2)} ms ({pct(e['parse_share_of_extraction'])} of it), "
               f"so at most {fmt(e['parse_bound_speedup'], 1)}× ({fmt(e['parse_bound_speedup_min'], 1)}–"
               f"{fmt(e['parse_bound_speedup_max'], 1)}) for any reader of its tree" if e.get("parse_ms_per_page") else ""),
            "≥ 25× faster", "met" if e["speedup"] >= 25 else "**not met**"))
        all_exact = e["newsbot_all_fields_exact"] == 1.0
        rows.append((
            "extraction accuracy vs ground truth (exact match share)",
            f"title {pct(e['newsbot_title_exact'])}, body {pct(e['newsbot_body_exact'])}, "
            f"all {len(e['newsbot_field_exact'])} fields {pct(e['newsbot_all_fields_exact'])}",
            f"trafilatura title {pct(e['trafilatura_title_exact'])}, main text {pct(e['trafilatura_text_exact'])} "
            f"(text contains body {pct(e['trafilatura_text_contains_body'])}, token F1 {fmt(e['trafilatura_text_token_f1'], 3)})",
            "–", "every newsbot field exact", "met" if all_exact else "**not met**"))
    i = results.get("incremental")
    if i and "error" not in i:
        rows.append((
            f"incremental: 2nd `latest` run, nothing new ({i['stories']} stories, 3 editions)",
            f"{i['nothing_new_requests']} requests = {fmt(i['nothing_new_per_edition'], 2)} per edition",
            f"first run: {i['first_run_requests']:,} requests",
            f"{fmt(i['nothing_new_ratio_to_first'], 3)}", "≤ 2 per edition",
            "met" if i["nothing_new_per_edition"] <= 2 else "**not met**"))
        rows.append((
            f"incremental: run after {i['new_stories']} new stories ({i['new_article_pages']} new article pages)",
            f"{i['after_new_requests']} requests, {i['after_new_items']} items "
            f"({fmt(i['after_new_overhead_per_edition'], 2)} per edition beyond the new pages)",
            f"first run: {i['first_run_requests']:,} requests",
            f"{fmt(i['after_new_ratio_to_first'], 3)}", "every new article, little else",
            "met" if i["after_new_items"] == i["new_article_pages"] else "**not met**"))
    m = results.get("memory")
    if m and "error" not in m:
        small, large = m["small"], m["large"]
        rows.append((
            f"memory: peak RSS of a `category` backfill, {large['stories']:,} vs {small['stories']:,} stories "
            f"({large['pages']:,} vs {small['pages']:,} pages)",
            f"{fmt(large['peak_rss_mb'])} MB ({fmt(large['pages_per_second'])} pages/s)",
            f"{fmt(small['peak_rss_mb'])} MB ({fmt(small['pages_per_second'])} pages/s)",
            f"{fmt(m['ratio'], 3)}", "≤ 1.2", verdict(m)))
    s = results.get("storage")
    if s and "error" not in s:
        rows.append((
            f"storage: {s['items']:,} articles through ITEM_PIPELINES into SQLite, FTS5 on, "
            f"{s.get('rounds', 1)} paired rounds",
            f"{fmt(s['pipeline_articles_per_second'], 0)} articles/s"
            + (f" (rounds {fmt(s['pipeline_min'], 0)}–{fmt(s['pipeline_max'], 0)})" if s.get("pipeline_min") else ""),
            f"plain `executemany` into a bare table: {fmt(s['baseline_rows_per_second'], 0)} rows/s"
            + (f"; the store's FTS5 index alone: {fmt(s['fts_only_per_second'], 0)}/s "
               f"({fmt(s['fts_share'] * 100, 0)}% of newsbot's time)" if s.get("fts_only_per_second") else "")
            + (f"; the writer alone: {fmt(w['us_per_article'])} µs/article, {fmt(w['sql_us_per_article'])} of it SQL"
               if (w := s.get("writer_profile")) else ""),
            f"{fmt(s['ratio'], 3)}", "≥ 10,000 articles/s", verdict(s)))
    a = results.get("archive")
    if a and "error" not in a:
        rows.append((
            f"archive: `latest` over {a['stories']:,} stories ({a['articles']:,} articles) with NEWSBOT_ARCHIVE "
            f"on vs off, {a['rounds']} paired rounds",
            f"{fmt(a['wall_seconds_on']['median'], 2)} s wall; {fmt(a['record_bytes_median'])} bytes per article "
            f"(page {fmt(a['page_bytes_median'])} bytes)",
            f"archive off: {fmt(a['wall_seconds_off']['median'], 2)} s wall",
            f"{fmt(a['wall_ratio_on_off']['median'], 3)} ({fmt(a['wall_ratio_on_off']['min'], 3)}–"
            f"{fmt(a['wall_ratio_on_off']['max'], 3)})", "measured", verdict(a)))
    b = results.get("backfill")
    if b and "error" not in b:
        for w in b["windows"]:
            sitemap, category = w["summary"]["sitemap"], w["summary"]["category"]
            rows.append((
                f"backfill, {w['label']} window {w['window'][0]}..{w['window'][1]} ({w['window_articles']:,} "
                f"articles, {b['stories']:,} stories): `sitemap` vs `category`, fresh store each, median of "
                f"{b['pairs']} pairs",
                f"{fmt(sitemap['requests_per_article']['median'], 3)} requests per stored article "
                f"({fmt(sitemap['requests_per_article']['min'], 3)}–"
                f"{fmt(sitemap['requests_per_article']['max'], 3)}), "
                f"{fmt(sitemap['wall_seconds']['median'], 2)} s",
                f"`category`: {fmt(category['requests_per_article']['median'], 3)} requests per stored article, "
                f"{fmt(category['wall_seconds']['median'], 2)} s",
                f"{fmt(sitemap['requests_per_article']['median'] / category['requests_per_article']['median'], 3)}",
                "≤ 1.05 requests per article", "met" if w["passed"] else "**not met**"))
    lv = results.get("levers")
    if lv and "error" not in lv:
        names = {"parse": "one parse per page: Scrapy's `response.selector` → `newsbot.html.document`",
                 "clean": "paragraphs cleaned per paragraph → in one pass (`clean_texts`)",
                 "truncated": "`looks_truncated`: whole body lowered → its tail",
                 "json": "stdlib `json.dumps` → orjson, on what newsbot encodes per article (not adopted)"}
        for key, label in names.items():
            r = lv.get(key) or {}
            if "speedup" in r:
                rows.append((f"lever: {label} ({lv['pages']} pages, {lv['rounds']} paired rounds)",
                             f"{fmt(r['after_ms_per_page'], 3)} ms/page", f"before: {fmt(r['before_ms_per_page'], 3)} ms/page",
                             f"{fmt(r['speedup'], 2)}× ({fmt(r['speedup_min'], 2)}–{fmt(r['speedup_max'], 2)})",
                             "measured", ""))
    n = results.get("navigation")
    if n and "error" not in n:
        by_spider = {r["spider"]: r for r in n["runs"] if r["spider"] != "category"}
        others = ", ".join(f"`{s}` {fmt(r['requests_per_article'], 4)}" for s, r in by_spider.items())
        for r in n["runs"]:
            rows.append((
                f"navigation: full `{r['spider']}` crawl, {n['stories']:,} stories ({r['articles']:,} articles), "
                f"fresh store" + (f", category pages {r['layout']}" if r["spider"] == "category" else ""),
                f"{fmt(r['requests_per_article'], 4)} requests per stored article ({r['requests']:,} requests, "
                f"{r['listing_requests']:,} listing/sitemap)",
                others if r["spider"] == "category" else f"the feed's bound: {fmt(n['latest_bound'], 4)}"
                if r["spider"] == "latest" else "–",
                "–", r["target"], "met" if r["passed"] else "**not met**"))
    an = results.get("analyst")
    if an and "error" not in an:
        opened = an["first_open"]
        rows.append((f"analyst: a store of {an['articles']:,} articles written through `Store.write` "
                     f"(bench/exports.py), {fmt(an['store_mb'], 0)} MB", analyst.writing(an),
                     "–", "–", "measured", ""))
        rows.append((f"analyst: first open, `scrapy stats` (schema {opened['schema_before']} → "
                     f"{opened['schema_after']}: summaries built on open when older)",
                     f"{fmt(opened['wall_seconds'], 2)} s, {fmt(opened['peak_rss_mb'], 0)} MB",
                     "–", "–", "measured", ""))
        for key, c in an["commands"].items():
            rate = c.get("articles_per_second")
            rows.append((
                f"analyst: {analyst.LABELS[key]} on {an['articles']:,} articles, {an['rounds']} paired rounds",
                f"{fmt(c['wall_seconds']['median'], 2)} s ({fmt(c['wall_seconds']['min'], 2)}–"
                f"{fmt(c['wall_seconds']['max'], 2)})" + (f", {fmt(rate['median'], 0)} articles/s" if rate else "")
                + f", peak {fmt(c['peak_rss_mb']['median'], 0)} MB",
                f"bare `SELECT count(*)` over the same file: {fmt(c['baseline_seconds']['median'], 3)} s",
                f"{fmt(c['ratio']['median'], 1)} ({fmt(c['ratio']['min'], 1)}–{fmt(c['ratio']['max'], 1)})",
                c.get("target", "measured"), verdict(c) if "passed" in c else ""))
    for name in ALL:
        if name in results and "error" in results[name]:
            rows.append((name, "failed: " + results[name]["error"].splitlines()[-1][:150], "", "", "", "**error**"))
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (memory: 2,000 vs 6,000 stories)")
    parser.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--trace-memory", action="store_true",
                        help="run the memory crawls with tracemalloc (slow; to find what grows)")
    parser.add_argument("--memory-sizes", metavar="SMALL,LARGE",
                        help="stories of the two memory crawls instead of the mode's (full: 10000,30000), "
                             "e.g. 10000,100000")
    parser.add_argument("--analyst-size", type=int, metavar="N",
                        help="articles in the analyst benchmark's store instead of the mode's (full: 100000), "
                             "e.g. 1000000")
    parser.add_argument("--analyst-rounds", type=int, default=5, metavar="N",
                        help="the analyst benchmark's paired rounds (default 5)")
    parser.add_argument("--analyst-cache", default=str(CACHE), metavar="DIR",
                        help=f"where the analyst benchmark keeps its stores (default {CACHE})")
    parser.add_argument("--out", default=str(RESULTS / "latest.json"),
                        help="the results' JSON file (a directory: results.json in it)")
    parser.add_argument("--table", metavar="RESULTS_JSON", help="only print the table of an earlier run's results")
    args = parser.parse_args(argv)
    if args.table:
        earlier = json.loads(Path(args.table).read_text(encoding="utf-8"))
        throughput_result = earlier.get("throughput") or {}
        if "bare_cpu_ms_per_page" in throughput_result and "cpu_ratio" not in throughput_result:
            throughput_result["cpu_ratio"] = round(throughput_result["bare_cpu_ms_per_page"]
                                                   / throughput_result["newsbot_cpu_ms_per_page"], 3)
        print(table(earlier))
        return 0
    chosen = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(chosen) - set(ALL)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    mode = "quick" if args.quick else "full"
    sizes = dict(SIZES[mode])
    if args.memory_sizes:
        try:
            small, large = (int(n) for n in args.memory_sizes.split(","))
        except ValueError:
            parser.error(f"--memory-sizes: two whole numbers, SMALL,LARGE; got {args.memory_sizes!r}")
        if not 0 < small < large:
            parser.error(f"--memory-sizes: SMALL must be below LARGE (and above 0); got {args.memory_sizes!r}")
        sizes["memory"] = (small, large)
    if args.analyst_size is not None:
        sizes["analyst"] = args.analyst_size
    if sizes["analyst"] < 1 or args.analyst_rounds < 1:
        parser.error("--analyst-size and --analyst-rounds must be at least 1")
    # Checked before the benchmarks, which can take an hour: their results must have somewhere to go.
    out = Path(args.out) / "results.json" if Path(args.out).is_dir() else Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        parser.error(f"--out: cannot write {out}: {exc.strerror or exc}")
    results: dict[str, Any] = {"mode": mode, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine()}
    runners: dict[str, Callable[[Path], dict[str, Any]]] = {
        "throughput": lambda d: throughput.run(*sizes["throughput"], workdir=d),
        "extraction": lambda d: extraction.run(*sizes["extraction"]),
        "incremental": lambda d: incremental.run(sizes["incremental"], d),
        "memory": lambda d: memory.run(*sizes["memory"], d, trace=args.trace_memory),
        "storage": lambda d: storage.run(sizes["storage"], d, rounds=5),
        "archive": lambda d: archive.run(sizes["archive"][0], d, rounds=sizes["archive"][1]),
        "backfill": lambda d: backfill.run(*sizes["backfill"], workdir=d),
        "levers": lambda d: levers.run(120, 150 if mode == "quick" else 300, 7),
        "navigation": lambda d: navigation.run(sizes["navigation"], d),
        "analyst": lambda d: analyst.run(sizes["analyst"], d, args.analyst_rounds, Path(args.analyst_cache)),
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        for name in ALL:
            if name not in chosen:
                continue
            workdir = Path(tmp) / name
            workdir.mkdir()
            began = time.monotonic()
            try:
                results[name] = runners[name](workdir)
            except Exception:  # one broken benchmark must not hide the others
                results[name] = {"error": traceback.format_exc()}
                log(f"{name} failed:\n{results[name]['error']}")
            results[name]["bench_seconds"] = round(time.monotonic() - began, 1)
            out.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    results["total_seconds"] = round(time.monotonic() - started, 1)
    results["table"] = table(results)
    text = json.dumps(results, indent=1, ensure_ascii=False, default=str)
    out.write_text(text, encoding="utf-8")
    # latest.json is overwritten by every run (a --only subset too): keep each run's own copy beside it.
    (out.parent / f"{mode}-{time.strftime('%Y%m%d-%H%M%S')}-{'-'.join(chosen)}.json").write_text(text, encoding="utf-8")
    print(f"newsbot benchmarks ({mode}, {results['machine']['cpus']} CPUs, commit {results['machine']['commit']}, "
          f"{results['total_seconds']:.0f} s; details in {os.path.relpath(out, ROOT)})\n")
    print(results["table"])
    if "backfill" in results and "error" not in results["backfill"]:
        print("\nBackfill, per spider (median, min–max):\n")
        print(backfill.table(results["backfill"]))
    if "navigation" in results and "error" not in results["navigation"]:
        print("\nNavigation, full crawls (requests per stored article, robots.txt included):\n")
        print(navigation.table(results["navigation"]))
    if "analyst" in results and "error" not in results["analyst"]:
        print("\nAnalyst commands (median, min–max):\n")
        print(analyst.table(results["analyst"]))
    return 1 if any("error" in results.get(n, {}) for n in chosen) else 0


if __name__ == "__main__":
    sys.exit(main())
