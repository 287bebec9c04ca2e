"""Start the replica as a subprocess and talk to it over plain HTTP (what the test fixtures use)."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsbot.children import PREEXEC_DIE_WITH_PARENT

ROOT = Path(__file__).resolve().parents[2]
# Loopback only: never let an http_proxy from the environment see these requests.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_RAW_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


@dataclass
class Fetched:
    status: int
    headers: Any  # email.message.Message
    body: bytes

    @property
    def text(self) -> str:
        """The page as a browser shows it: its labels may lie (tests/replica/renderings.py), the
        replica's bytes are UTF-8 or, now and then, windows-1251."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return self.body.decode("cp1251")


def fetch(url: str, headers: dict[str, str] | None = None, timeout: float = 60,
          follow_redirects: bool = True) -> Fetched:
    """GET a URL; HTTP errors are returned, not raised."""
    opener = _OPENER if follow_redirects else _RAW_OPENER
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=timeout) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.headers, error.read())


class RunningReplica:
    """A replica subprocess and its control endpoints."""

    def __init__(self, process: subprocess.Popen, base_url: str, log_path: Path, startup_seconds: float) -> None:
        self.process = process
        self.base_url = base_url
        self.log_path = log_path
        self.startup_seconds = startup_seconds

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int:
        return self.process.pid

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, **kwargs: Any) -> Fetched:
        return fetch(self.url(path), **kwargs)

    def _json(self, path: str) -> Any:
        response = self.get(path)
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status} {response.body[:200]!r}")
        return json.loads(response.body)

    def ground_truth(self) -> list[dict]:
        response = self.get("/_replica/ground-truth", timeout=600)
        return [json.loads(line) for line in response.text.splitlines() if line]

    def hits(self, reset: bool = False) -> dict:
        return self._json("/_replica/hits" + ("?reset=1" if reset else ""))

    def publish(self, count: int) -> dict:
        return self._json(f"/_replica/publish?count={count}")

    def edit(self, story: int) -> dict:
        return self._json(f"/_replica/edit?story={story}")

    def rename(self, story: int) -> dict:
        """A slug edit of every edition of the story: {"story": i, "paths": {lang: new path}}."""
        return self._json(f"/_replica/rename?story={story}")

    def publish_late(self) -> dict:
        return self._json("/_replica/publish-late")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout:
            self.process.stdout.close()
        self.log_path.unlink(missing_ok=True)

    def log(self) -> str:
        """What the replica wrote on stderr (tracebacks, if any)."""
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""




def start_replica(stories: int = 60, faults: list | str | None = None, hidden: int = 0, js_feed: bool = False,
                  seed: int = 1, extra_args: tuple[str, ...] = (), timeout: float = 30,
                  other_spelling: str | None = None, renamed_old: str | None = None, late: int = 0,
                  sitemaps: bool = True, numbered_shards: bool = False, category_pages: str | None = None,
                  category_past_end: str | None = None, category_pagination: str | None = None) -> RunningReplica:
    """Run `python -m tests.replica --port 0 ...` and wait for its REPLICA line."""
    args = [sys.executable, "-m", "tests.replica", "--port", "0", "--quiet", "--stories", str(stories),
            "--seed", str(seed), "--hidden", str(hidden), "--late", str(late), *extra_args]
    if other_spelling is not None:
        args += ["--other-spelling", other_spelling]
    if renamed_old is not None:
        args += ["--renamed-old", renamed_old]
    if faults is not None:
        args += ["--faults", faults if isinstance(faults, str) else json.dumps(faults)]
    if js_feed:
        args.append("--js-feed")
    if not sitemaps:
        args.append("--no-sitemaps")
    if numbered_shards:
        args.append("--numbered-shards")
    if category_pages is not None:
        args += ["--category-pages", category_pages]
    if category_past_end is not None:
        args += ["--category-past-end", category_past_end]
    if category_pagination is not None:
        args += ["--category-pagination", category_pagination]
    log = tempfile.NamedTemporaryFile(prefix="replica-", suffix=".log", delete=False)
    started = time.monotonic()
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True,
                               preexec_fn=PREEXEC_DIE_WITH_PARENT)
    log.close()
    line = ""
    while time.monotonic() - started < timeout and process.poll() is None:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            line = process.stdout.readline()
            if line.startswith("REPLICA ") or not line:
                break
    if not line.startswith("REPLICA "):
        process.kill()
        process.wait(10)
        raise RuntimeError(f"replica did not start within {timeout} s: {Path(log.name).read_text('utf-8')[-3000:]}")
    return RunningReplica(process, line.split()[1], Path(log.name), time.monotonic() - started)
