"""bench.run's command line refuses what would lose an hour of benchmarks before it starts them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_an_unwritable_out_is_refused_in_one_line_before_any_benchmark_runs(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = subprocess.run([sys.executable, "-m", "bench.run", "--only", "memory", "--out", str(blocker / "r.json")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "starting" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("python -m bench.run: error: --out: cannot write ")


_PARENT = """
import sys
from bench.common import run_measured
run_measured([sys.executable, "-c", "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(120)",
              sys.argv[1]])
"""


def test_a_killed_bench_takes_its_measured_crawl_with_it(tmp_path):
    import os
    import signal
    import time

    pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, str(pid_file)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while not (pid_file.exists() and pid_file.read_text()):
            assert time.monotonic() < deadline and parent.poll() is None, "the measured child never started"
            time.sleep(0.05)
        child = int(pid_file.read_text())
        parent.send_signal(signal.SIGKILL)  # what no handler in bench.run can see
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _alive(child):
            assert time.monotonic() < deadline, "the measured child outlived the bench that started it"
            time.sleep(0.05)
    finally:
        parent.kill()
        if pid_file.exists() and pid_file.read_text() and _alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by init) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_versus_head_against_head_shows_both_versions_equal_and_removes_its_worktree(tmp_path):
    import json

    out = tmp_path / "versus.json"
    result = subprocess.run([sys.executable, "-m", "bench.versus", "--ref", "HEAD", "--stories", "12", "--rounds", "1",
                             "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data["pairs"]) == 1 and data["pairs"][0]["ratio"] > 0
    assert data["ratio_median"] == data["ratio_min"] == data["ratio_max"] == data["pairs"][0]["ratio"]
    assert data["pages"] > 0 and set(data["ms_per_page"]) == {"head", "ref"}
    # Each worker imported its own tree's newsbot: the repo root's, and the worktree's.
    assert data["newsbot_file"]["head"] == str(ROOT / "newsbot" / "__init__.py")
    worktree = Path(data["newsbot_file"]["ref"]).parent.parent
    assert worktree != ROOT and not worktree.exists()
    assert str(worktree) not in subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True).stdout
    # The same code on both sides: every field's accuracy equal, nothing flagged.
    from newsbot.items import GROUND_TRUTH_FIELDS

    assert set(data["field_exact"]) == set(GROUND_TRUTH_FIELDS)
    assert all(v["head"] == v["ref"] and not v["regression"] for v in data["field_exact"].values())
    assert data["regressions"] == [] and data["api"]["head"] == data["api"]["ref"]
    assert "head/ref: median" in result.stdout


def test_storage_on_postgresql_runs_its_arms_on_a_durable_server_and_every_arm_stores_every_article(tmp_path):
    import json

    out = tmp_path / "storage.json"
    result = subprocess.run([sys.executable, "-m", "bench.storage", "--backend", "postgresql", "--items", "300",
                             "--rounds", "1", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    # What production runs with, not the tests' throw-away settings.
    assert {data["server"][name] for name in ("fsync", "synchronous_commit", "full_page_writes")} == {"on"}
    assert data["complete"] and data["runs"]["pipelines"][0]["search_finds_last"]
    assert [run["rows"] for arm in ("pipelines", "copy", "copy_nosearch") for run in data["runs"][arm]] == [300] * 3
    assert data["ratio"] > 0 and data["writer_profile"]["server_cpu_us_per_article"] > 0
    assert "INSERT INTO articles" in data["writer_profile"]["sql_us_per_article_by_statement"]


def test_storage_refuses_a_round_count_below_one_in_one_line():
    result = subprocess.run([sys.executable, "-m", "bench.storage", "--rounds", "0"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("--items and --rounds must be at least 1")


def test_analyst_builds_a_store_then_times_every_command_against_the_count_baseline_and_writes_the_figures(tmp_path):
    import json

    from bench.analyst import COMMANDS, LABELS
    from newsbot.store.schema import SCHEMA_VERSION

    out = tmp_path / "results" / "latest.json"
    result = subprocess.run([sys.executable, "-m", "bench.run", "--only", "analyst", "--analyst-size", "300",
                             "--analyst-rounds", "1", "--analyst-cache", str(tmp_path / "cache"), "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))["analyst"]
    assert (data["articles"], data["rounds"]) == (300, 1)
    assert Path(data["store"]) == tmp_path / "cache" / "store-300.sqlite"
    # The builder's log, kept beside the store, gives the write rate.
    assert data["writing"]["articles"] == 300 and data["writing"]["articles_per_second"] > 0
    assert [(s["from"], s["to"]) for s in data["writing"]["slices"]] == [(0, 300)]
    assert data["first_open"]["schema_before"] == data["first_open"]["schema_after"] == SCHEMA_VERSION
    assert set(data["commands"]) == set(COMMANDS)
    for name, figures in data["commands"].items():
        wall, baseline = figures["wall_seconds"], figures["baseline_seconds"]
        assert wall["min"] == wall["median"] == wall["max"] > 0, name  # one round: one pair
        # The figures are kept to the millisecond: a baseline of 30 ms is 1.7 % off.
        assert figures["ratio"]["median"] == pytest.approx(wall["median"] / baseline["median"], rel=0.1)
        assert figures["peak_rss_mb"]["median"] > 0
    for name in ("parquet", "jsonl"):
        figures = data["commands"][name]
        assert figures["output_mb"] > 0
        assert abs(figures["articles_per_second"]["median"] * figures["wall_seconds"]["median"] - 300) < 3
    assert {name for name, figures in data["commands"].items() if "passed" in figures} == {"stats", "report", "parquet"}
    assert data["passed"] == all(data["commands"][name]["passed"] for name in ("stats", "report", "parquet"))
    assert all(LABELS[name] in result.stdout for name in COMMANDS)
    # The run's own dated copy goes beside --out, not into the repository's bench/results.
    assert len(list(out.parent.glob("full-*-analyst.json"))) == 1


def test_analyst_write_rates_are_read_per_slice_from_the_builders_log():
    from bench.analyst import write_rates

    text = ("[bench 01:00:10] built 20000 of 100000 articles (2000/s)\n"
            "[bench 01:00:40] built 40000 of 100000 articles (1000/s)\n"
            "[bench 01:00:41] built 20000 of 50000 articles (9999/s)\n")
    rates = write_rates(text, 100_000)
    assert (rates["articles"], rates["seconds"], rates["articles_per_second"]) == (40_000, 40.0, 1000)
    assert [s["articles_per_second"] for s in rates["slices"]] == [2000, 667]
    assert write_rates(text, 300) is None


def test_analyst_refuses_a_round_count_below_one_in_one_line():
    result = subprocess.run([sys.executable, "-m", "bench.run", "--only", "analyst", "--analyst-rounds", "0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("--analyst-size and --analyst-rounds must be at least 1")
