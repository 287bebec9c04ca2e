"""Real Scrapyd daemons on loopback for the tests: start, deploy the project's egg, follow jobs.

Everything here talks to Scrapyd over HTTP with the standard library, on
purpose independently of newsbot.commands.schedule (which the tests check).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PROJECT = "newsbot"
# Loopback only: never let an http_proxy from the environment see these requests.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# What the project needs to build its egg (a copy, so the working tree gets no build/ or *.egg-info/):
# everything but these top-level entries, and no build leftovers or bytecode anywhere.
_TOP_LEVEL_NOT_COPIED = {".git", ".venv", "build", "dist", "data", "tests", "bench", "crawls", ".pytest_cache",
                         ".hypothesis", ".scrapy"}
_NOWHERE_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "*.egg")


def _not_copied(directory: str, names: list[str]) -> set[str]:
    ignored = set(_NOWHERE_COPIED(directory, names))
    if Path(directory).resolve() == ROOT:
        ignored |= _TOP_LEVEL_NOT_COPIED & set(names)
    return ignored

SCRAPYD_CONF = """\
[scrapyd]
eggs_dir = {home}/eggs
logs_dir = {home}/logs
items_dir = {home}/items
dbs_dir = {home}/dbs
jobs_to_keep = 50
finished_to_keep = 100
bind_address = 127.0.0.1
http_port = {port}
max_proc = {max_proc}
poll_interval = 0.5
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell: nothing that would point a job at the working tree."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SCRAPY_", "SCRAPYD_", "PYTEST_")) and k not in ("PYTHONPATH",)}
    env.update(extra)
    return env


class ScrapydFailed(AssertionError):
    pass


@dataclass
class ScrapydNode:
    """One Scrapyd daemon with its own directory (its cwd: relative job paths resolve there)."""

    name: str
    home: Path
    port: int = 0
    process: subprocess.Popen | None = None
    deployed_version: str = ""
    jobs_started: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    # --- lifecycle ---------------------------------------------------------
    def start(self, max_proc: int = 2, timeout: float = 30, extra_conf: str = "",
              env: dict[str, str] | None = None) -> "ScrapydNode":
        self.home.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):  # the free port may be taken between free_port() and the bind
            self.port = free_port()
            (self.home / "scrapyd.conf").write_text(SCRAPYD_CONF.format(home=self.home, port=self.port,
                                                                        max_proc=max_proc) + extra_conf, "utf-8")
            output = open(self.home / "scrapyd.out", "ab")
            self.process = subprocess.Popen([str(BIN / "scrapyd")], cwd=self.home, stdout=output,
                                            stderr=subprocess.STDOUT, env=clean_env(**(env or {})),
                                            start_new_session=True)
            output.close()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if self.get("daemonstatus.json", timeout=2).get("status") == "ok":
                        return self
                except urllib.error.HTTPError as exc:
                    if exc.code == 401:  # up, and asking for the credentials it was configured with
                        return self
                except (OSError, ValueError):
                    pass
                time.sleep(0.2)
            log = self.output()
            self.stop()
            if "Address already in use" not in log:
                break
        raise ScrapydFailed(f"Scrapyd {self.name} did not start within {timeout} s:\n{self.output()[-3000:]}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            # Its own session: the signal also reaches crawl processes Scrapyd started and still runs.
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    process.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        # Crawl processes outliving the daemon (it was killed) would keep writing into the tests' files.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait(10)

    def output(self) -> str:
        path = self.home / "scrapyd.out"
        return path.read_text("utf-8", "replace") if path.exists() else ""

    # --- HTTP API ----------------------------------------------------------
    def get(self, endpoint: str, timeout: float = 10, **query: Any) -> dict:
        url = self.url + endpoint + ("?" + urllib.parse.urlencode(query) if query else "")
        with _OPENER.open(url, timeout=timeout) as response:
            return json.loads(response.read())

    def post(self, endpoint: str, data: list[tuple[str, str]], timeout: float = 30) -> dict:
        body = urllib.parse.urlencode(data).encode()
        with _OPENER.open(urllib.request.Request(self.url + endpoint, data=body), timeout=timeout) as response:
            return json.loads(response.read())

    def schedule(self, spider: str, settings: dict[str, str] | None = None, **args: str) -> str:
        data = [("project", PROJECT), ("spider", spider)]
        data += [("setting", f"{k}={v}") for k, v in (settings or {}).items()]
        data += list(args.items())
        answer = self.post("schedule.json", data)
        assert answer.get("status") == "ok", answer
        self.jobs_started.append(answer["jobid"])
        return answer["jobid"]

    def jobs(self) -> dict:
        answer = self.get("listjobs.json", project=PROJECT)
        assert answer.get("status") == "ok", answer
        return answer

    def state(self, jobid: str) -> str | None:
        jobs = self.jobs()
        for state in ("pending", "running", "finished"):
            if any(job["id"] == jobid for job in jobs[state]):
                return state
        return None

    def active(self, spider: str) -> list[dict]:
        jobs = self.jobs()
        return [job for state in ("pending", "running") for job in jobs[state] if job["spider"] == spider]

    def wait_for_state(self, jobid: str, states: tuple[str, ...], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            state = self.state(jobid)
            if state in states:
                return state
            if time.monotonic() > deadline:
                raise ScrapydFailed(f"job {jobid} on {self.name} still {state} after {timeout} s\n"
                                    + self.job_log_tail(jobid))
            time.sleep(0.25)

    def wait_finished(self, jobid: str, timeout: float = 120) -> "FinishedJob":
        try:
            self.wait_for_state(jobid, ("finished",), timeout)
        except ScrapydFailed:
            self.post("cancel.json", [("project", PROJECT), ("job", jobid)])
            raise
        job = next(j for j in self.jobs()["finished"] if j["id"] == jobid)
        return FinishedJob(self, job)

    # --- files of jobs -----------------------------------------------------
    def log_path(self, spider: str, jobid: str) -> Path:
        return self.home / "logs" / PROJECT / spider / f"{jobid}.log"

    def items_path(self, spider: str, jobid: str) -> Path:
        return self.home / "items" / PROJECT / spider / f"{jobid}.jl"

    def job_log_tail(self, jobid: str, chars: int = 3000) -> str:
        logs = list((self.home / "logs").glob(f"*/*/{jobid}.log"))
        return logs[0].read_text("utf-8", "replace")[-chars:] if logs else f"(no log for {jobid})"

    # --- deploying ---------------------------------------------------------
    def deploy(self, project_copy: Path, version: str, config_home: Path, egg: Path | None = None) -> dict:
        """`scrapyd-deploy TARGET -v VERSION` (with `--egg EGG`: upload that egg instead of building one);
        TARGET is [deploy:<name>] of the scrapy.cfg in config_home (XDG_CONFIG_HOME), see deploy_targets()."""
        args = [str(BIN / "scrapyd-deploy"), self.name, "-v", version]
        if egg is not None:
            args += ["--egg", str(egg)]
        result = subprocess.run(args, cwd=project_copy, capture_output=True, text=True, timeout=120,
                                env=clean_env(XDG_CONFIG_HOME=str(config_home)))
        if result.returncode != 0:
            raise ScrapydFailed(f"scrapyd-deploy {self.name} failed ({result.returncode}):\n"
                                f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        answer = json.loads(result.stdout.strip().splitlines()[-1])
        assert answer.get("status") == "ok", answer
        self.deployed_version = version
        return answer

    def egg_path(self) -> Path:
        return self.home / "eggs" / PROJECT / f"{self.deployed_version}.egg"


@dataclass
class FinishedJob:
    node: ScrapydNode
    job: dict

    @property
    def id(self) -> str:
        return self.job["id"]

    @property
    def spider(self) -> str:
        return self.job["spider"]

    @property
    def log(self) -> str:
        path = self.node.log_path(self.spider, self.id)
        return path.read_text("utf-8", "replace") if path.exists() else ""

    @property
    def finish_reason(self) -> str | None:
        found = re.findall(r"'finish_reason': '([^']*)'", self.log)
        return found[-1] if found else None

    def error_lines(self) -> list[str]:
        return [line for line in self.log.splitlines() if "] ERROR:" in line or "] CRITICAL:" in line]

    def items(self) -> list[dict]:
        path = self.node.items_path(self.spider, self.id)
        return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]

    def describe(self) -> str:
        return f"job {self.id} ({self.spider}) on {self.node.name}; log tail:\n{self.log[-4000:]}"


def deploy_targets(config_home: Path, *nodes: ScrapydNode) -> Path:
    """A user-level scrapy.cfg (XDG_CONFIG_HOME) with a [deploy:NAME] target per node, as an operator
    would keep next to the project's [deploy]: read by scrapyd-deploy and by `scrapy schedule -t NAME`."""
    config_home.mkdir(parents=True, exist_ok=True)
    (config_home / "scrapy.cfg").write_text(
        "".join(f"[deploy:{n.name}]\nurl = {n.url}\nproject = {PROJECT}\n\n" for n in nodes), "utf-8")
    return config_home


def copy_project(destination: Path) -> Path:
    """The project as a deploy sees it: its sources and build files, without the working tree's clutter."""
    shutil.copytree(ROOT, destination, ignore=_not_copied)
    return destination


def cli(*args: str, cwd: Path = ROOT, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """A console script of the venv (scrapy, scrapyd-deploy, ...) as a user runs it."""
    program, *rest = args
    return subprocess.run([str(BIN / program), *rest], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=clean_env(**(env or {})))
