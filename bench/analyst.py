"""The analyst's commands at full size (issue 32): `scrapy stats`, `scrapy report` and exports of the whole
store (Parquet, JSON Lines) on a realistic store, each against a bare `SELECT count(*) FROM articles` over the
same file in paired rounds, with the store's size, how fast it was written, and each command's peak RSS.

    python -m bench.analyst [--size 100000] [--rounds 5] [--cache DIR] [--out FILE]
    python -m bench.run --only analyst [--analyst-size 1000000] [--analyst-rounds 5] [--analyst-cache DIR]

The store is bench.exports.build_store's, built once per size in a process of its own and kept in the cache
directory (default /tmp/newsbot-bench-exports), with its build log beside it (store-N.build.log): the
builder's rate after every 20,000 articles gives the write rate per slice as the store grew. The builder's
rate includes making up the articles, so Store.write alone is faster.

A store of an older schema is migrated, its summaries built, by the first command that opens it: that
first `scrapy stats` is timed apart ("first open", the schema version read before and after it, its
progress lines kept), never in a round. On a current store it is a warm-up.

Each round runs every command as a pair: the baseline (a fresh Python process counting the articles
with sqlite3, the floor of any command on that file) and the command (a fresh `scrapy` process,
`PYTHONPATH` this tree), the order alternating by round. Quoted per command: its wall time and the
baseline's, the ratio command/baseline of each pair, peak RSS (VmHWM) and, for exports, articles/s,
each as the median with min and max. Wall times are read in steps of 10 ms (the baseline's in 1 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any

from bench.common import CHILD_PREEXEC, ROOT, SCRAPY, Measured, log, run_measured, tail
from bench.exports import CACHE, spread

COMMANDS = ("stats", "report", "parquet", "jsonl")
LABELS = {"stats": "`scrapy stats`", "report": "`scrapy report`",
          "parquet": "`scrapy export --format parquet`, everything",
          "jsonl": "`scrapy export` JSON Lines, everything"}
# Issue 32's targets: a store up to a size is held to that size's; a larger one to the largest size's.
WALL_TARGETS = {100_000: {"stats": 1.0, "report": 3.0}, 1_000_000: {"stats": 3.0, "report": 10.0}}
PARQUET_TARGET = 20_000  # articles/s, at any size
BASELINE = ("import sqlite3, sys; from pathlib import Path; "
            "conn = sqlite3.connect(Path(sys.argv[1]).absolute().as_uri() + '?mode=ro', uri=True); "
            "print(conn.execute('SELECT count(*) FROM articles').fetchone()[0])")
BUILD = ("import sys; from pathlib import Path; from bench.exports import build_store; "
         "build_store(int(sys.argv[1]), Path(sys.argv[2]))")
# The steps in which wall times are read: the baseline takes tens of milliseconds.
COMMAND_POLL, BASELINE_POLL = 0.01, 0.001
_BUILT = re.compile(r"built (\d+) of (\d+) articles \((\d+)/s\)")
# The commands import newsbot from this tree: Scrapy only appends the project directory to sys.path.
_ENV = {"PYTHONPATH": str(ROOT)}


def target_size(articles: int) -> int:
    """The store size of issue 32 whose targets a store of `articles` is held to."""
    return min((size for size in WALL_TARGETS if articles <= size), default=max(WALL_TARGETS))


def store(size: int, cache: Path) -> tuple[Path, Path]:
    """The store of `size` articles and its build log, built first if the cache has no such store."""
    db, build_log = cache / f"store-{size}.sqlite", cache / f"store-{size}.build.log"
    if not db.exists():
        cache.mkdir(parents=True, exist_ok=True)
        log(f"analyst: building {db} (progress in {build_log})")
        with build_log.open("w", encoding="utf-8") as err:
            built = subprocess.run([sys.executable, "-c", BUILD, str(size), str(cache)], cwd=ROOT, stderr=err,
                                   env={**os.environ, **_ENV}, preexec_fn=CHILD_PREEXEC)
        if built.returncode:
            raise RuntimeError(f"building {db} failed:\n{tail(build_log.read_text(encoding='utf-8'))}")
    return db, build_log


def write_rates(text: str, size: int) -> dict[str, Any] | None:
    """The builder's rate overall and per slice (at most ten, of 20,000 articles or more), from its log
    lines (the rate so far after every 20,000 articles); None when the log has none for this size."""
    # The time at each line, as count / rate so far: the log's clock only has whole seconds.
    points = [(int(count), int(count) / int(rate)) for count, total, rate in _BUILT.findall(text)
              if int(total) == size and int(rate)]
    if not points:
        return None
    width = max(20_000, size // 10)
    marks = [(0, 0.0), *((count, at) for count, at in points if count % width == 0 or count == size)]
    slices = [{"from": a, "to": b, "articles_per_second": round((b - a) / (tb - ta))}
              for (a, ta), (b, tb) in zip(marks, marks[1:]) if tb > ta]
    return {"articles": points[-1][0], "seconds": round(points[-1][1], 1),
            "articles_per_second": round(points[-1][0] / points[-1][1]), "slice_articles": width, "slices": slices}


def schema_version(db: Path) -> int:
    with closing(sqlite3.connect(db.absolute().as_uri() + "?mode=ro", uri=True)) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def command_line(name: str, db: Path, outputs: Path) -> list[str]:
    if name == "stats":
        return [SCRAPY, "stats", "--db", str(db)]
    if name == "report":
        return [SCRAPY, "report", "--db", str(db), "-o", str(outputs / "report.html")]
    return [SCRAPY, "export", "--db", str(db), "--format", name, "-o", str(outputs / f"export.{name}")]


def measure(command: list[str], outputs: Path, poll: float = COMMAND_POLL) -> tuple[Measured, int]:
    """One run of a command that must succeed, and the bytes it wrote to `outputs` (removed after)."""
    run = run_measured(command, env=_ENV, poll=poll)
    if run.returncode:
        raise RuntimeError(f"{' '.join(command)} exited {run.returncode}:\n{tail(run.stderr)}")
    written = 0
    for output in outputs.iterdir():
        written += output.stat().st_size
        output.unlink()
    return run, written


def run(size: int, workdir: Path, rounds: int = 5, cache: Path = CACHE) -> dict[str, Any]:
    """The store of `size` articles (built if need be), its first open, then `rounds` paired rounds."""
    db, build_log = store(size, cache)
    outputs = workdir / "outputs"
    outputs.mkdir(parents=True, exist_ok=True)
    baseline = [sys.executable, "-c", BASELINE, str(db)]
    count = int(measure(baseline, outputs, BASELINE_POLL)[0].stdout)
    before = schema_version(db)
    first, _ = measure(command_line("stats", db, outputs), outputs)
    first_open = {"schema_before": before, "schema_after": schema_version(db),
                  "wall_seconds": round(first.wall_seconds, 2), "peak_rss_mb": round(first.peak_rss_kb / 1024, 1),
                  "stderr": tail(first.stderr, 20).splitlines()}
    log(f"analyst: {count:,} articles; first open (schema {before} -> {first_open['schema_after']}) "
        f"{first.wall_seconds:.2f} s")
    pairs: dict[str, list[dict[str, Any]]] = {name: [] for name in COMMANDS}
    for round_ in range(rounds):
        for name in COMMANDS:
            arms = {"baseline": baseline, "command": command_line(name, db, outputs)}
            pair: dict[str, Any] = {}
            for arm in arms if round_ % 2 == 0 else reversed(arms):  # neither arm always goes first
                measured, written = measure(arms[arm], outputs, BASELINE_POLL if arm == "baseline" else COMMAND_POLL)
                pair[arm] = {"wall_seconds": measured.wall_seconds, "peak_rss_mb": measured.peak_rss_kb / 1024,
                             "cpu_seconds": measured.cpu_user + measured.cpu_system, "bytes": written}
            pairs[name].append(pair)
            log(f"analyst round {round_ + 1} {name}: {pair['command']['wall_seconds']:.2f} s "
                f"(baseline {pair['baseline']['wall_seconds']:.3f} s), {pair['command']['peak_rss_mb']:.0f} MB")
    limits = WALL_TARGETS[target_size(count)]
    commands: dict[str, Any] = {}
    for name, measured in pairs.items():
        walls = [p["command"]["wall_seconds"] for p in measured]
        figures = {"wall_seconds": spread(walls),
                   "baseline_seconds": spread([p["baseline"]["wall_seconds"] for p in measured]),
                   "ratio": spread([p["command"]["wall_seconds"] / p["baseline"]["wall_seconds"] for p in measured]),
                   "cpu_seconds": spread([p["command"]["cpu_seconds"] for p in measured]),
                   "peak_rss_mb": spread([p["command"]["peak_rss_mb"] for p in measured]),
                   "output_mb": round(measured[-1]["command"]["bytes"] / 2**20, 1)}
        if name in limits:
            figures["target"] = f"≤ {limits[name]:g} s"
            figures["passed"] = figures["wall_seconds"]["median"] <= limits[name]
        else:
            figures["articles_per_second"] = spread([count / wall for wall in walls])
        if name == "parquet":
            figures["target"] = f"≥ {PARQUET_TARGET:,} articles/s"
            figures["passed"] = figures["articles_per_second"]["median"] >= PARQUET_TARGET
        commands[name] = figures
    return {"size": size, "articles": count, "rounds": rounds, "store": str(db),
            "store_mb": round(db.stat().st_size / 2**20, 1), "schema_version": schema_version(db),
            "targets_for": target_size(count),
            "writing": write_rates(build_log.read_text(encoding="utf-8"), size) if build_log.exists() else None,
            "first_open": first_open, "commands": commands,
            "passed": all(c["passed"] for c in commands.values() if "passed" in c)}


def _spread(figures: dict[str, float], digits: int = 2) -> str:
    return f"{figures['median']:,.{digits}f} ({figures['min']:,.{digits}f}–{figures['max']:,.{digits}f})"


def writing(result: dict[str, Any]) -> str:
    """'1,333 articles/s over 75 s; per 20,000: 1,574, …, 1,100/s' (or why it is not known)."""
    w = result["writing"]
    if not w:
        return "not known: the store was built without its build log beside it"
    return (f"{w['articles_per_second']:,} articles/s over {w['seconds']:,.0f} s; per {w['slice_articles']:,}: "
            + ", ".join(f"{s['articles_per_second']:,}" for s in w["slices"]) + "/s")


def table(result: dict[str, Any]) -> str:
    """Every command's figures as a markdown table (medians with min and max)."""
    opened = result["first_open"]
    lines = [f"Store: {result['articles']:,} articles, {result['store_mb']:,.0f} MB, schema "
             f"{result['schema_version']}; written at {writing(result)}. First open (`scrapy stats`, schema "
             f"{opened['schema_before']} → {opened['schema_after']}): {opened['wall_seconds']:.2f} s, "
             f"{opened['peak_rss_mb']:,.0f} MB. Paired rounds: {result['rounds']}; targets for "
             f"≤ {result['targets_for']:,} articles.", "",
             "| command | wall s | CPU s | baseline s | command / baseline | articles/s | peak RSS MB | target "
             "| result |", "|---|---|---|---|---|---|---|---|---|"]
    for name, c in result["commands"].items():
        rate = _spread(c["articles_per_second"], 0) if "articles_per_second" in c else "–"
        verdict = "–" if "passed" not in c else "met" if c["passed"] else "**not met**"
        lines.append(f"| {LABELS[name]} | {_spread(c['wall_seconds'])} | {_spread(c['cpu_seconds'])} | "
                     f"{_spread(c['baseline_seconds'], 3)} | {_spread(c['ratio'], 1)} | {rate} | "
                     f"{_spread(c['peak_rss_mb'], 0)} | "
                     f"{c.get('target', 'measured')} | {verdict} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.analyst", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="articles in the store (default 100,000)")
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds (default 5)")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"where the stores are kept (default {CACHE})")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here too")
    args = parser.parse_args()
    if args.size < 1 or args.rounds < 1:
        parser.error("--size and --rounds must be at least 1")
    with tempfile.TemporaryDirectory(prefix="newsbot-analyst-") as tmp:
        result = run(args.size, Path(tmp), args.rounds, args.cache)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(table(result))


if __name__ == "__main__":
    main()
