"""A real PostgreSQL server for the tests: Debian's binaries, a cluster made by `initdb` in a
temporary directory, listening on 127.0.0.1 and a free port, stopped at the end.

PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to
`nobody`, whose processes get the directory chowned to them. Password authentication (scram) is
on, so the tests can give a wrong password and see what a user would.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.scrapyd_helpers import free_port

USER = "newsbot"
PASSWORD = "newsbot-test"


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory, or None when the package is missing."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


@dataclass
class PostgresServer:
    """One running cluster; `url(database)` is what NEWSBOT_DB takes."""

    directory: Path
    port: int
    bin: Path
    owner: str | None
    databases: list[str] = field(default_factory=list)

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bin / args[0]), *args[1:]], user=self.owner, check=check,
                              capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PGPASSWORD": PASSWORD})

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-l", str(self.directory / "server.log"),
                  "-w", "-t", "60", "-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", mode, "-w", "stop", check=False)

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)
        self.databases.append(name)
        return self.url(name)

    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start_postgres() -> PostgresServer:
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed: run bin/setup (it installs Debian's postgresql)")
    directory = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
    owner = None
    if os.geteuid() == 0:
        owner = "nobody"
        entry = pwd.getpwnam(owner)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    directory.chmod(0o700)
    server = PostgresServer(directory, free_port(), bin_dir, owner)
    (directory / "pwfile").write_text(PASSWORD + "\n")
    if owner:
        os.chown(directory / "pwfile", entry.pw_uid, entry.pw_gid)
    server._run("initdb", "-D", str(directory / "data"), "-U", USER, "--pwfile", str(directory / "pwfile"),
                "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8", timeout=120)
    # The tests' clusters are thrown away: durability buys nothing and costs fsyncs on a shared disk.
    with open(directory / "data" / "postgresql.conf", "a") as conf:
        conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
    server.start()
    deadline = time.monotonic() + 30
    while server._run("pg_isready", "-h", "127.0.0.1", "-p", str(server.port), check=False).returncode:
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL did not start: {server.log()[-2000:]}")
        time.sleep(0.2)
    return server


def remove(server: PostgresServer) -> None:
    server.stop("immediate")
    shutil.rmtree(server.directory, ignore_errors=True)
