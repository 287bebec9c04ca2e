"""bench.run's command line refuses what would lose an hour of benchmarks before it starts them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_an_unwritable_out_is_refused_in_one_line_before_any_benchmark_runs(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = subprocess.run([sys.executable, "-m", "bench.run", "--only", "memory", "--out", str(blocker / "r.json")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "starting" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("python -m bench.run: error: --out: cannot write ")
