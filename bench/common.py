"""What the benchmarks share: the replica, measured subprocesses, newsbot's own `scrapy crawl` command line."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsbot.children import PREEXEC_DIE_WITH_PARENT

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SCRAPY = str(Path(sys.executable).with_name("scrapy"))
CLK_TCK = os.sysconf("SC_CLK_TCK")

# A killed bench.run (Ctrl-C twice, SIGKILL) must not leave a 100,000-story crawl running on.
CHILD_PREEXEC = PREEXEC_DIE_WITH_PARENT


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def project_settings():
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsbot.settings")
    from scrapy.utils.project import get_project_settings

    return get_project_settings()


def start_replica(stories: int, hidden: int = 0, faults: list | None = None, **options: Any):
    """A replica subprocess; options: tests.replica.client.start_replica's (category_pages=...)."""
    from tests.replica.client import start_replica as start

    return start(stories=stories, hidden=hidden, faults=faults, timeout=300, **options)


def cpu_seconds(pid: int) -> float:
    """user + system CPU seconds a live process has used so far (0 if gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


@dataclass
class Measured:
    """One subprocess run: exit status, wall time, its own CPU time and peak RSS, and its output."""

    command: list[str]
    returncode: int
    wall_seconds: float
    cpu_user: float
    cpu_system: float
    peak_rss_kb: int
    rss_samples: list[tuple[float, int]] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    replica_cpu: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {"returncode": self.returncode, "wall_seconds": round(self.wall_seconds, 2),
                "cpu_seconds": round(self.cpu_user + self.cpu_system, 2), "peak_rss_mb": round(self.peak_rss_kb / 1024, 1),
                "replica_cpu_seconds": round(self.replica_cpu, 2)}


def run_measured(command: list[str], *, replica_pid: int | None = None, timeout: float = 7200,
                 poll: float = 0.25, env: dict | None = None) -> Measured:
    """Run a command, polling its /proc VmRSS and VmHWM (peak RSS); wait4() gives its exact CPU time."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        replica_before = cpu_seconds(replica_pid) if replica_pid else 0.0
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err, text=True,
                                   env={**os.environ, **(env or {})}, preexec_fn=CHILD_PREEXEC)
        samples: list[tuple[float, int]] = []
        peak = 0
        rusage = None
        status = 0
        while True:
            pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            hwm = _status_kb(process.pid, "VmHWM")
            rss = _status_kb(process.pid, "VmRSS")
            peak = max(peak, hwm)
            if rss:
                samples.append((round(time.monotonic() - started, 2), rss))
            if time.monotonic() - started > timeout:
                process.kill()
            time.sleep(poll)
        wall = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        replica_cpu = cpu_seconds(replica_pid) - replica_before if replica_pid else 0.0
        out.seek(0)
        err.seek(0)
        # Not rusage.ru_maxrss: Linux carries the parent's high-water mark over fork/vfork + exec,
        # so a child of a big process "peaks" at the parent's size. VmHWM belongs to the new image.
        return Measured(command, process.returncode, wall, rusage.ru_utime, rusage.ru_stime,
                        peak, samples[:: max(1, len(samples) // 200)], out.read(), err.read(), replica_cpu)


def extensions_with_statsfile() -> str:
    """The project's EXTENSIONS plus the benchmark's stats writer, as JSON for -s EXTENSIONS=."""
    extensions = dict(project_settings().getdict("EXTENSIONS"))
    extensions["bench.statsfile.StatsFile"] = 900
    return json.dumps(extensions)


def newsbot_crawl(spider: str, base_url: str, db: Path, stats_file: Path, *, args: dict[str, str] | None = None,
                  settings: dict[str, Any] | None = None) -> list[str]:
    """`scrapy crawl SPIDER` exactly as a user runs it, pointed at the replica, throttling off.

    Everything else (pipelines, middlewares, extensions, concurrency, retries) comes from
    newsbot/settings.py; the benchmark only adds its stats writer.
    """
    command = [SCRAPY, "crawl", spider]
    for key, value in (args or {}).items():
        command += ["-a", f"{key}={value}"]
    overrides = {
        "NEWSBOT_BASE_URL": base_url, "NEWSBOT_DB": str(db), "NEWSBOT_LATEST_SINCE": "",
        "AUTOTHROTTLE_ENABLED": "0", "DOWNLOAD_DELAY": "0", "TELNETCONSOLE_ENABLED": "0",
        "EXTENSIONS": extensions_with_statsfile(), "BENCH_STATS_FILE": str(stats_file),
        **(settings or {}),
    }
    for key, value in overrides.items():
        command += ["-s", f"{key}={value}"]
    return command


def load_stats(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8")) if Path(path).exists() else {}


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def ratio(value: float, baseline: float) -> float | None:
    return round(value / baseline, 3) if baseline else None
