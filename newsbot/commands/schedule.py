"""`scrapy schedule`: start a newsbot job on Scrapyd unless one of that spider is queued or running, so
that cron and the systemd timer never pile slow crawls up (docs/scrapyd.md, 3, has the exit statuses).
Only urllib talks to Scrapyd, so the command needs nothing beyond Scrapy."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.conf import arglist_to_dict, get_config
from w3lib.http import basic_auth_header

from newsbot.commands.common import NewsbotCommand, is_loopback, usage_error
from newsbot.commands.crawl import check_spider_arguments
from newsbot.outcome import BROKEN, SHUTDOWN
from newsbot.store import is_postgres_url, redact_url

DEFAULT_SPIDER = "latest"
# Parameters of Scrapyd's schedule.json: a spider argument of one of these names would be taken for them.
RESERVED_ARGS = frozenset({"project", "spider", "setting", "jobid", "priority"})
_FINISH_REASON = re.compile(r"'finish_reason': '([^']*)'")
# The variables Scrapyd itself reads its credentials from: one environment file serves the daemon and this command.
USERNAME_ENV, PASSWORD_ENV = "SCRAPYD_USERNAME", "SCRAPYD_PASSWORD"


class ScrapydError(Exception):
    """Scrapyd answered with an error, not like Scrapyd, or not at all."""


class Scrapyd:
    """The few Scrapyd JSON API calls newsbot needs, over urllib."""

    def __init__(self, url: str, project: str, username: str = "", password: str = "", timeout: float = 10.0):
        if not re.match(r"^https?://", url or ""):
            usage_error("schedule", f"Scrapyd URL must start with http:// or https://; got {url!r}")
        self.url = url.rstrip("/") + "/"
        self.project = project
        self.timeout = timeout
        self.username = username
        self.headers = ({"Authorization": basic_auth_header(username, password, encoding="utf-8")}
                        if username else {})
        handlers = [urllib.request.ProxyHandler({})] if is_loopback(urllib.parse.urlsplit(self.url).hostname) else []
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, path: str, data: list[tuple[str, str]] | None = None) -> bytes:
        """The body Scrapyd answers `path` with (POSTed `data`, if any); ScrapydError if it does not."""
        url = urllib.parse.urljoin(self.url, path.lstrip("/"))
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, headers=self.headers)
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace").strip()
            if exc.code == 401 and self.username:
                raise ScrapydError(f"Scrapyd at {self.url} refused the credentials of user {self.username!r} "
                                   "(HTTP 401)") from exc
            if exc.code == 401:
                raise ScrapydError(f"Scrapyd at {self.url} wants credentials (HTTP 401): give them in the URL "
                                   "(http://USER:PASSWORD@host:6800), as username and password of the scrapy.cfg "
                                   f"deploy target, or in {USERNAME_ENV} and {PASSWORD_ENV}") from exc
            raise ScrapydError(f"Scrapyd at {self.url} answered HTTP {exc.code} for {path}: {detail}") from exc
        except OSError as exc:  # URLError, a timeout, a refused or reset connection
            reason = getattr(exc, "reason", exc)
            raise ScrapydError(f"Cannot reach Scrapyd at {self.url} ({reason}). Is it running, and is "
                                     "the URL right (--url, -t TARGET, or [deploy] url in scrapy.cfg)?") from exc

    def call(self, endpoint: str, data: list[tuple[str, str]] | None = None, **query: str) -> dict[str, Any]:
        path = endpoint + ("?" + urllib.parse.urlencode(query) if query else "")
        raw = self.request(path, data)
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise ScrapydError(f"{self.url}{endpoint} did not answer like Scrapyd: {raw[:200]!r}") from exc
        if answer.get("status") != "ok":
            message = str(answer.get("message", answer)).strip()
            if "not found" in message and f"'{self.project}'" in message:
                message += " (deploy it first: scrapyd-deploy, see docs/scrapyd.md)"
            raise ScrapydError(f"Scrapyd at {self.url} refused {endpoint}: {message}")
        return answer


def credentials(url: str, target: dict[str, str]) -> tuple[str, str, str]:
    """(url without its user part, username, password): those of the URL, else the deploy target's, else
    the ones Scrapyd itself reads from its environment (deploy/). The URL comes back bare so that no
    message shows the password."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is not None:
        bare = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        return bare, urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")
    if target.get("username"):
        return url, target["username"], target.get("password", "")
    return url, os.environ.get(USERNAME_ENV, ""), os.environ.get(PASSWORD_ENV, "")


def deploy_target(name: str | None) -> dict[str, str]:
    """scrapy.cfg's [deploy] section, overlaid with [deploy:NAME], as scrapyd-deploy reads them
    (environment variables in values expanded)."""
    config = get_config()
    target = dict(config.items("deploy", raw=True)) if config.has_section("deploy") else {}
    if name:
        section = f"deploy:{name}"
        if not config.has_section(section):
            known = [s[len("deploy:"):] for s in config.sections() if s.startswith("deploy:")]
            usage_error("schedule", f"No [{section}] target in scrapy.cfg (targets: {', '.join(known) or 'none'})")
        target.update(config.items(section, raw=True))
    return {key: os.path.expandvars(value) for key, value in target.items()}


class Command(NewsbotCommand, ScrapyCommand):
    db_help = None  # the job's store is a setting of the job (-s NEWSBOT_DB=...)
    usage = "[options] [SPIDER]"
    summary = "Schedule a spider on Scrapyd (default: latest), unless one is already pending or running"
    description = ("Schedule SPIDER (default: latest) on Scrapyd through its schedule.json. -a NAME=VALUE become "
                   "spider arguments and -s NAME=VALUE the job's settings (Scrapyd's setting=), such as "
                   "-s NEWSBOT_DB=postgresql://USER@HOST/DATABASE for a store several nodes write, the password "
                   "left to each node's ~/.pgpass or PGPASSWORD (Scrapyd logs a job's settings). Nothing is "
                   "scheduled while a job of the same spider is pending or running on that Scrapyd, unless "
                   "--allow-concurrent. The Scrapyd URL comes from --url, or from scrapy.cfg: [deploy] url, or "
                   "[deploy:TARGET] with -t TARGET. Scrapyd's basic auth is sent from the URL's user part "
                   "(http://USER:PASSWORD@host:6800), else the target's username and password, else "
                   f"${USERNAME_ENV} and ${PASSWORD_ENV}. Exits 1 when Scrapyd cannot be reached or refuses.")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        for action in parser._actions:
            if action.dest == "set":
                action.help = ("a setting for the job, sent as Scrapyd's setting=NAME=VALUE (may be repeated), e.g. "
                               "NEWSBOT_DB=postgresql://newsbot@db.internal/newsbot: the store several nodes share")
        parser.add_argument("-a", dest="spargs", action="append", default=[], metavar="NAME=VALUE",
                            help="spider argument for the job (may be repeated)")
        parser.add_argument("--url", help="Scrapyd URL (default: scrapy.cfg [deploy] url)")
        parser.add_argument("-t", "--target", help="a [deploy:TARGET] section of scrapy.cfg to take the URL, "
                                                   "project and credentials from")
        parser.add_argument("-p", "--project", help="Scrapyd project (default: the target's, else BOT_NAME)")
        parser.add_argument("--version", dest="egg_version", metavar="VERSION",
                            help="deployed egg version to run (default: Scrapyd's latest)")
        parser.add_argument("--jobid", help="job id (default: Scrapyd makes one)")
        parser.add_argument("--priority", type=float, help="queue priority (Scrapyd's default 0; higher first)")
        parser.add_argument("--allow-concurrent", action="store_true",
                            help="schedule even if a job of this spider is pending or running "
                                 "(e.g. several partitions of a backfill on one node)")
        parser.add_argument("--wait", action="store_true",
                            help="wait until the job ends; exit 1 if its close reason says the crawl was broken "
                                 f"({', '.join(sorted(BROKEN))}) or cannot be read from its log")
        parser.add_argument("--wait-timeout", type=float, default=6 * 3600, metavar="SECONDS",
                            help="give up waiting after this long (exit 1; the job goes on); default 6 h")
        parser.add_argument("--poll", type=float, default=2.0, metavar="SECONDS",
                            help="with --wait: seconds between status checks (default 2)")
        parser.add_argument("--http-timeout", type=float, default=15.0, metavar="SECONDS",
                            help="timeout of each request to Scrapyd (default 15)")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        try:
            opts.spargs = arglist_to_dict(opts.spargs)
            opts.job_settings = arglist_to_dict(opts.set)
        except ValueError:
            usage_error("schedule", "Invalid -a or -s value, use NAME=VALUE")
        reserved = sorted(name for name in opts.spargs if name in RESERVED_ARGS or name.startswith("_"))
        if reserved:
            usage_error("schedule", f"Spider argument name(s) {', '.join(reserved)} are Scrapyd's own parameters")
        job = opts.job_settings  # the job's -s, not this project's settings
        db = job.get("NEWSBOT_DB", "")
        if is_postgres_url(db) and redact_url(db) != db:
            print("scrapy schedule: warning: the password in NEWSBOT_DB will show in Scrapyd's log and the node's "
                  "process list; give it to the node in ~/.pgpass or PGPASSWORD instead (docs/scrapyd.md, 7)",
                  file=sys.stderr)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) > 1:
            usage_error("schedule", "Give at most one spider")
        spider = args[0] if args else DEFAULT_SPIDER
        self.check_locally(spider, opts)
        target = deploy_target(opts.target)
        url = opts.url or target.get("url")
        if not url:
            usage_error("schedule", "No Scrapyd URL: give --url or -t TARGET, or set url in scrapy.cfg's [deploy]")
        project = opts.project or target.get("project") or self.settings.get("BOT_NAME")
        url, username, password = credentials(url, target)
        scrapyd = Scrapyd(url, project, username=username, password=password, timeout=opts.http_timeout)
        try:
            self.schedule(scrapyd, spider, opts)
        except ScrapydError as exc:
            print(f"scrapy schedule: {exc}", file=sys.stderr)
            self.exitcode = 1

    def check_locally(self, spider: str, opts: argparse.Namespace) -> None:
        """A bad -a argument (or -s setting) is said here in one line, before a job is sent to fail on the
        node. A spider this checkout lacks is left to Scrapyd, whose deployed egg may differ."""
        # self.settings holds the job's -s settings already (ScrapyCommand.process_options).
        try:
            spidercls = get_spider_loader(self.settings).load(spider)
        except KeyError:
            return
        # The job id Scrapyd will add, which file templates may name (%(_job)s).
        check_spider_arguments("schedule", self.settings, spidercls, {**opts.spargs, "_job": opts.jobid or "job"})

    def schedule(self, scrapyd: Scrapyd, spider: str, opts: argparse.Namespace) -> None:
        """Schedule the job, unless one of `spider` is active, and with --wait wait for its end;
        ScrapydError for every way that fails."""
        if not opts.allow_concurrent:
            jobs = scrapyd.call("listjobs.json", project=scrapyd.project)
            active = [(state, job) for state in ("running", "pending") for job in jobs.get(state, [])
                      if job.get("spider") == spider]
            if active:
                state, job = active[0]
                since = f" since {job['start_time']}" if job.get("start_time") else ""
                print(f"Not scheduled: {scrapyd.project}/{spider} job {job.get('id')} is {state}{since} on "
                      f"{scrapyd.url} (--allow-concurrent to start another)")
                return
        data = [("project", scrapyd.project), ("spider", spider)]
        data += [("setting", f"{name}={value}") for name, value in opts.job_settings.items()]
        data += list(opts.spargs.items())
        data += [(name, str(value)) for name, value in (("_version", opts.egg_version), ("jobid", opts.jobid),
                                                         ("priority", opts.priority)) if value not in (None, "")]
        jobid = scrapyd.call("schedule.json", data=data)["jobid"]
        print(f"Scheduled {scrapyd.project}/{spider} as job {jobid} on {scrapyd.url}")
        sys.stdout.flush()
        if opts.wait:
            self.wait(scrapyd, spider, jobid, opts)

    def wait(self, scrapyd: Scrapyd, spider: str, jobid: str, opts: argparse.Namespace) -> None:
        deadline = time.monotonic() + opts.wait_timeout
        status = {"job": jobid, "project": scrapyd.project}
        while (state := scrapyd.call("status.json", **status).get("currstate")) != "finished":
            if state is None:
                raise ScrapydError(f"job {jobid} is no longer known to {scrapyd.url} (cancelled, or Scrapyd "
                                   "restarted with in-memory job storage)")
            if time.monotonic() >= deadline:
                raise ScrapydError(f"job {jobid} still {state} after {opts.wait_timeout:g} s; not waiting any "
                                   "longer (the job goes on)")
            time.sleep(max(0.1, opts.poll))
        finished = scrapyd.call("listjobs.json", project=scrapyd.project).get("finished", [])
        log_url = next((job for job in finished if job.get("id") == jobid), {}).get("log_url")
        if not log_url:
            raise ScrapydError(f"job {jobid} finished, but Scrapyd keeps no log for it (logs_dir unset?): its "
                               "close reason is unknown")
        found = _FINISH_REASON.findall(scrapyd.request(log_url).decode("utf-8", "replace"))
        reason = found[-1] if found else None  # the last stats dump's, if the log has several
        where = urllib.parse.urljoin(scrapyd.url, log_url.lstrip("/"))
        if reason is None:
            raise ScrapydError(f"job {jobid} ({spider}) failed: no finish reason was logged, so the crawl was "
                               f"killed or crashed; log: {where}")
        if reason in BROKEN:
            raise ScrapydError(f"job {jobid} ({spider}) was broken: finish_reason {reason}; log: {where}")
        if reason == SHUTDOWN:
            raise ScrapydError(f"job {jobid} ({spider}) was stopped before it ended (finish_reason shutdown: "
                               f"cancelled?); log: {where}")
        print(f"Job {jobid} finished: finish_reason {reason}; log: {where}")
