"""bench.docs_memory runs every pandas and DuckDB block of docs/analysis.md and fails on one over its limit."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bench.docs_memory import python_blocks

ROOT = Path(__file__).resolve().parent.parent


def docs_memory(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.docs_memory", "--size", "300", "--cache", str(tmp_path),
                           *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_every_block_is_measured_and_one_over_the_limit_fails_the_run(tmp_path):
    labels = [label for label, _ in python_blocks()]
    assert any("pandas" in label for label in labels) and any("DuckDB" in label for label in labels)
    within = docs_memory(tmp_path)
    assert within.returncode == 0, within.stderr[-3000:]
    measured = re.findall(r"^ +([\d,]+) MB +([\d.]+) s  (.+)$", within.stdout, flags=re.M)
    assert [label for *_, label in measured] == labels, within.stdout
    # Any Python that imports pandas or DuckDB holds tens of megabytes: a figure near 0 was never measured.
    assert all(int(mb.replace(",", "")) > 30 and float(seconds) > 0 for mb, seconds, _ in measured), within.stdout
    # The store and its export are kept: the second run builds nothing and only measures.
    assert (tmp_path / "docs-300" / "data" / "articles.parquet").exists()
    over = docs_memory(tmp_path, "--limit-mb", "30")
    assert over.returncode == 1
    assert over.stderr.strip().splitlines()[-1] == f"over 30 MB or failed: {', '.join(labels)}", over.stderr
