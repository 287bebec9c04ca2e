"""newsbot under real Scrapyd daemons on loopback: deploy, schedule, outputs, failures, shards and merge,
and a backfill that three nodes write into one PostgreSQL store.

Three Scrapyd processes (node-a and node-c with one process slot, node-b with
two), each in its own directory with its own scrapyd.conf, get the project
through `scrapyd-deploy` (one egg, built once from a copy of the project). Jobs
crawl the offline replica; everything is bounded by timeouts, and the daemons
and their crawl processes are stopped at the end of the session.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import zipfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from newsbot.site import selectors
from newsbot.store import ITEM_FIELDS, Store
from tests.crawling import ROOT, assert_matches_ground_truth
from tests.postgres import PASSWORD as PG_PASSWORD
from tests.scrapyd_helpers import (PROJECT, ScrapydNode, cli, clean_env, copy_project, deploy_targets,
                                   free_port)

pytestmark = pytest.mark.slow

# What every job here gets besides its own settings: no politeness delays on loopback, and
# no default `latest` window (the replica's stories are from January 2026).
QUICK = {"NEWSBOT_LATEST_SINCE": "", "AUTOTHROTTLE_ENABLED": "0", "DOWNLOAD_DELAY": "0"}
JOB_TIMEOUT = 120


@dataclass
class Nodes:
    a: ScrapydNode
    b: ScrapydNode
    c: ScrapydNode
    config_home: Path  # XDG_CONFIG_HOME holding scrapy.cfg with [deploy:node-a], [deploy:node-b], [deploy:node-c]
    egg: Path


@pytest.fixture(scope="session")
def nodes(tmp_path_factory) -> Nodes:
    base = tmp_path_factory.mktemp("scrapyd")
    project = copy_project(base / "project")
    a, b, c = (ScrapydNode(f"node-{x}", base / f"node-{x}") for x in "abc")
    try:
        # The database password as docs/scrapyd.md puts it, in the daemon's environment (its crawls
        # inherit it): the NEWSBOT_DB a job is scheduled with then carries none for Scrapyd to log.
        for node, slots in ((a, 1), (b, 2), (c, 1)):
            node.start(max_proc=slots, env={"PGPASSWORD": PG_PASSWORD})
        config_home = deploy_targets(base / "xdg", a, b, c)
        # As an operator deploys: scrapyd-deploy builds the egg (setup.py bdist_egg) and uploads it...
        assert a.deploy(project, "r1", config_home)["spiders"] == 4
        # ...and the very egg node-a stores goes to the other nodes.
        for node in (b, c):
            assert node.deploy(project, "r1", config_home, egg=a.egg_path())["spiders"] == 4
        yield Nodes(a, b, c, config_home, a.egg_path())
    finally:
        for node in (a, b, c):
            node.stop()


def schedule_cli(*args: str, nodes: Nodes | None = None) -> subprocess.CompletedProcess:
    env = {"XDG_CONFIG_HOME": str(nodes.config_home)} if nodes else None
    return cli("scrapy", "schedule", *args, env=env, timeout=60)


def job_settings(**settings: str) -> list[str]:
    return [arg for name, value in {**QUICK, **settings}.items() for arg in ("-s", f"{name}={value}")]


def jobid_of(result: subprocess.CompletedProcess) -> str:
    found = re.search(r"Scheduled newsbot/\w+ as job (\w+) on ", result.stdout)
    assert found, result.stdout + result.stderr
    return found[1]


def scheduled_job(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return jobid_of(result)


def stored_articles(path: Path) -> list[dict]:
    with Store(path, readonly=True) as store:
        return list(store.iter_articles())


def test_the_deployed_egg_carries_its_data_and_runs_zipped(nodes, tmp_path):
    with zipfile.ZipFile(nodes.egg) as egg:
        names = set(egg.namelist())
        entry_points = egg.read("EGG-INFO/entry_points.txt").decode()
    assert {"newsbot/data/categories.json", "newsbot/data/schema_v1.sql", "newsbot/data/migrate_v1_v2.sql",
            "newsbot/data/migrate_v2_v3.sql", "newsbot/data/pg_schema_v1.sql", "newsbot/data/pg_migrate_v1_v2.sql",
            "newsbot/settings.py", "newsbot/spiders/latest.py",
            *(f"newsbot/store/{module}.py" for module in (
                "__init__", "articles", "connection", "facade", "merge", "queries", "schema", "sqlite",
                "postgres"))} <= names
    assert re.search(r"\[scrapy\]\s*settings = newsbot\.settings", entry_points)
    assert not any(name.startswith("tests/") for name in names)

    # Activated as Scrapyd's runner does, from a directory with no project in sight: newsbot is imported
    # from inside the zipped egg and reads its package data there (importlib.resources on a zip).
    probe = (
        "import sys; from importlib import resources; from scrapyd.runner import activate_egg\n"
        "activate_egg(sys.argv[1])\n"
        "import newsbot, newsbot.site.categories as c, newsbot.store as s\n"
        "assert newsbot.__file__.startswith(sys.argv[1]), newsbot.__file__\n"
        "assert type(resources.files('newsbot')).__module__.startswith('zipfile'), resources.files('newsbot')\n"
        "assert len(c.all_categories()) > 10\n"
        "with s.Store('probe.sqlite') as store: assert store.schema_version == s.SCHEMA_VERSION\n"
        "print('OK', newsbot.__file__)\n")
    result = subprocess.run([sys.executable, "-c", probe, str(nodes.egg)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, env=clean_env())
    assert result.returncode == 0 and result.stdout.startswith("OK"), result.stderr[-3000:]
    for node in (nodes.a, nodes.b, nodes.c):
        spiders = node.get("listspiders.json", project=PROJECT)["spiders"]
        assert sorted(spiders) == ["article", "category", "latest", "sitemap"]


def test_latest_job_stores_the_ground_truth_and_is_never_started_twice(nodes, replica, tmp_path):
    node = nodes.a  # one process slot: a second job waits in the queue
    site = replica(stories=60, faults=[{"match": "/infinity/", "delay": 2}])  # a slow walk down the feed
    stall = replica(stories=10, faults=[{"match": ".", "delay": 60}])  # answers nothing for a minute
    truth = site.ground_truth()
    db = tmp_path / "node.sqlite"

    # Someone else's job holds the only slot, so the `latest` scheduled next stays pending.
    blocker = node.schedule("category", settings={**QUICK, "NEWSBOT_BASE_URL": stall.base_url,
                                                  "NEWSBOT_DB": str(tmp_path / "blocker.sqlite")})
    node.wait_for_state(blocker, ("running",), 30)
    first = scheduled_job(schedule_cli("latest", "--url", node.url, *job_settings(
        NEWSBOT_BASE_URL=site.base_url, NEWSBOT_DB=str(db), NEWSBOT_JSONL=str(tmp_path / "%(name)s-%(_job)s.jsonl"))))
    assert node.state(first) == "pending"

    again = schedule_cli("latest", "--url", node.url, *job_settings(NEWSBOT_BASE_URL=site.base_url))
    assert again.returncode == 0, again.stderr
    assert f"Not scheduled: newsbot/latest job {first} is pending" in again.stdout
    assert [job["id"] for job in node.active("latest")] == [first]

    # Cancel the blocker (a second cancel forces Scrapy's shutdown); `latest` starts.
    for _ in range(2):
        node.post("cancel.json", [("project", PROJECT), ("job", blocker)])
    node.wait_for_state(first, ("running", "finished"), 30)
    assert node.state(first) == "running"
    again = schedule_cli("latest", "--url", node.url, *job_settings(NEWSBOT_BASE_URL=site.base_url))
    assert again.returncode == 0, again.stderr
    assert f"Not scheduled: newsbot/latest job {first} is running" in again.stdout
    assert node.state(first) == "running", "the job ended before the refusal was checked: make the feed slower"
    assert [job["id"] for job in node.active("latest")] == [first]

    job = node.wait_finished(first, JOB_TIMEOUT)
    assert job.finish_reason == "finished", job.describe()
    assert job.error_lines() == [], job.describe()
    assert "log_count/ERROR" not in job.log
    # The per-job settings reached the crawl: the store and the JSON Lines file it was given...
    assert_matches_ground_truth(stored_articles(db), truth)
    assert len((tmp_path / f"latest-{first}.jsonl").read_text("utf-8").splitlines()) == len(truth)
    # ...and Scrapyd's own items feed (items_dir) still has every item.
    assert_matches_ground_truth(job.items(), truth)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone() == (len(truth),) * 2
        # The store's record of the run names the Scrapyd job.
        assert conn.execute("SELECT job_id, finish_reason FROM crawl_runs").fetchall() == [(first, "finished")]

    # Only one latest ran: the refused schedules left nothing behind.
    jobs = node.jobs()
    assert not jobs["pending"] and not jobs["running"]
    assert [j["id"] for j in jobs["finished"] if j["spider"] == "latest"] == [first]


def test_a_broken_job_says_so_in_its_scrapyd_log_and_exit_status(nodes, replica, tmp_path):
    node = nodes.b
    site = replica(stories=30, faults=[{"match": ".", "mode": "no_body"}])  # every article page lost its body
    result = schedule_cli("latest", "--url", node.url, "--wait", "--poll", "0.3", "--wait-timeout", str(JOB_TIMEOUT),
                          "-a", "lang=en", *job_settings(NEWSBOT_BASE_URL=site.base_url,
                                                         NEWSBOT_DB=str(tmp_path / "broken.sqlite"),
                                                         NEWSBOT_DEGRADED_MIN_PAGES="5"))
    assert result.returncode == 1, result.stdout + result.stderr
    jobid = jobid_of(result)
    assert f"job {jobid} (latest) was broken: finish_reason extraction_degraded" in result.stderr
    job = node.wait_finished(jobid, 10)
    assert job.finish_reason == "extraction_degraded", job.describe()
    assert "Crawl is broken (extraction_degraded)" in job.log
    assert f"Selector {selectors('body')!r} found nothing" in job.log
    # The crawl process exited 1 (newsbot's crawl command), and Scrapyd's own log shows it.
    assert re.search(rf"Process died: exitstatus=1 project='newsbot' spider='latest' job='{jobid}'", node.output())


def test_a_blocked_job_is_reported_blocked_by_schedule_wait(nodes, replica, tmp_path):
    node = nodes.b
    site = replica(stories=30, faults=[{"block_after": 10}])  # a WAF: 403 from the 11th request on
    result = schedule_cli("latest", "--url", node.url, "--wait", "--poll", "0.3", "--wait-timeout", str(JOB_TIMEOUT),
                          "-a", "lang=en", *job_settings(NEWSBOT_BASE_URL=site.base_url,
                                                         NEWSBOT_DB=str(tmp_path / "blocked.sqlite")))
    assert result.returncode == 1, result.stdout + result.stderr
    jobid = jobid_of(result)
    assert f"job {jobid} (latest) was broken: finish_reason blocked" in result.stderr
    job = node.wait_finished(jobid, 10)
    assert job.finish_reason == "blocked" and "Crawl is broken (blocked): HTTP 403 on " in job.log


@pytest.mark.parametrize("stop, delay, line", [
    ("kill", 30, "failed: no finish reason was logged, so the crawl was killed or crashed; log: "),
    # Scrapyd's cancel is a SIGINT: a graceful stop, which waits for the pages in flight.
    ("cancel", 4, "was stopped before it ended (finish_reason shutdown: cancelled?); log: ")])
def test_schedule_wait_reports_a_killed_or_cancelled_crawl_as_failed(nodes, replica, tmp_path, stop, delay, line):
    node = nodes.b
    site = replica(stories=30, faults=[{"match": "/en/[a-z-]+/[a-z0-9-]+", "delay": delay}])  # slow articles
    waiting = subprocess.Popen(
        [str(Path(sys.executable).with_name("scrapy")), "schedule", "latest", "--url", node.url, "--wait",
         "--poll", "0.3", "--wait-timeout", str(JOB_TIMEOUT), "-a", "lang=en",
         *job_settings(NEWSBOT_BASE_URL=site.base_url, NEWSBOT_DB=str(tmp_path / "killed.sqlite"))],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
    try:
        deadline = time.monotonic() + 60
        while not (running := [job for job in node.jobs()["running"] if job["spider"] == "latest"]) \
                or site.hits()["total"] < 3:
            assert time.monotonic() < deadline and waiting.poll() is None, "the job never ran"
            time.sleep(0.2)
        if stop == "kill":
            os.kill(running[0]["pid"], signal.SIGKILL)  # the crawl dies with no close reason in its log
        else:
            node.post("cancel.json", [("project", PROJECT), ("job", running[0]["id"])])
        out, err = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 1, out + err
    assert err.splitlines() == [f"scrapy schedule: job {running[0]['id']} (latest) {line}{node.url}logs/"
                                f"{PROJECT}/latest/{running[0]['id']}.log"], err


def test_schedule_fails_clearly_when_scrapyd_is_unreachable_or_lacks_the_project(nodes):
    dead = f"http://127.0.0.1:{free_port()}"
    result = schedule_cli("latest", "--url", dead)
    assert result.returncode == 1
    assert f"Cannot reach Scrapyd at {dead}/" in result.stderr
    assert "Connection refused" in result.stderr
    # A password in the job's NEWSBOT_DB would reach Scrapyd's log: said, without repeating it.
    leaky = schedule_cli("latest", "--url", dead, "-s", "NEWSBOT_DB=postgresql://newsbot:s3cret@db.internal/newsbot")
    assert leaky.returncode == 1 and "s3cret" not in leaky.stderr
    assert "warning: the password in NEWSBOT_DB will show in Scrapyd's log" in leaky.stderr
    assert "warning" not in result.stderr

    missing = schedule_cli("latest", "-t", "node-a", "-p", "nosuch", nodes=nodes)
    assert missing.returncode == 1
    assert "project 'nosuch' not found" in missing.stderr

    unknown = schedule_cli("nosuch", "-t", "node-a", nodes=nodes)
    assert unknown.returncode == 1
    assert "spider 'nosuch' not found" in unknown.stderr
    assert not nodes.a.jobs()["pending"]


def test_the_shipped_node_asks_for_credentials_and_schedule_sends_them(tmp_path):
    # deploy/scrapyd.conf's username, the password from the environment as the unit's EnvironmentFile gives it.
    [username] = re.findall(r"^username\s*=\s*(\S+)$", (ROOT / "deploy" / "scrapyd.conf").read_text(), re.M)
    node = ScrapydNode("secured", tmp_path / "secured")
    password = "pw 9f2@x"  # %-quoted in a URL
    try:
        node.start(max_proc=1, extra_conf=f"username = {username}\n", env={"SCRAPYD_PASSWORD": password})
        # What a web page open in a browser on the node could send: a plain form POST.
        with pytest.raises(urllib.error.HTTPError) as refused:
            node.post("schedule.json", [("project", PROJECT), ("spider", "latest")])
        assert refused.value.code == 401
        config_home = tmp_path / "xdg"
        config_home.mkdir()
        (config_home / "scrapy.cfg").write_text(
            f"[deploy:secured]\nurl = {node.url}\nproject = newsbot\nusername = {username}\n"
            f"password = ${{NODE_PASSWORD}}\n[deploy:anonymous]\nurl = {node.url}\nproject = newsbot\n", "utf-8")
        env = {"XDG_CONFIG_HOME": str(config_home), "NODE_PASSWORD": password}
        denied = cli("scrapy", "schedule", "-t", "anonymous", env=env)
        assert denied.returncode == 1 and "wants credentials (HTTP 401)" in denied.stderr, denied.stderr
        assert denied.stderr.count("\n") == 1, denied.stderr
        # Past the authentication (password from the target, or Scrapyd's own variables): nothing is
        # deployed there.
        for target, extra in (("secured", {}), ("anonymous", {"SCRAPYD_USERNAME": username,
                                                               "SCRAPYD_PASSWORD": password})):
            allowed = cli("scrapy", "schedule", "-t", target, env={**env, **extra})
            assert allowed.returncode == 1 and "project 'newsbot' not found" in allowed.stderr, allowed.stderr
        # The credentials in the URL: sent, and shown nowhere (messages name the bare URL).
        in_url = node.url.replace("http://", f"http://{username}:{urllib.parse.quote(password, safe='')}@")
        allowed = cli("scrapy", "schedule", "--url", in_url)
        assert allowed.returncode == 1 and "project 'newsbot' not found" in allowed.stderr, allowed.stderr
        assert f"Scrapyd at {node.url} " in allowed.stderr and "9f2" not in allowed.stderr
        wrong = cli("scrapy", "schedule", "--url", in_url.replace("9f2", "9f3"))
        assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1, wrong.stderr
        assert f"Scrapyd at {node.url} refused the credentials of user '{username}' (HTTP 401)" in wrong.stderr
        assert "9f" not in wrong.stderr
    finally:
        node.stop()


def test_a_sitemap_backfill_split_by_shard_on_two_nodes_merges_into_the_window(nodes, replica, tmp_path):
    """Issue 14: -a shards=1/2 and 2/2 on the two nodes take alternate shards of the sitemap index."""
    site = replica(stories=150)
    since, until = "2026-01-10", "2026-01-20"
    window = [t for t in site.ground_truth() if since <= t["published_at"][:10] <= until]
    parts = [tmp_path / "part-1.sqlite", tmp_path / "part-2.sqlite"]
    jobs = [(node, scheduled_job(schedule_cli("sitemap", "-t", node.name, "--allow-concurrent", "-a", f"shards={k}/2",
                                              "-a", f"since={since}", "-a", f"until={until}",
                                              *job_settings(NEWSBOT_BASE_URL=site.base_url, NEWSBOT_DB=str(part)),
                                              nodes=nodes)))
            for k, (node, part) in enumerate(zip((nodes.a, nodes.b), parts), start=1)]
    for node, jobid in jobs:
        job = node.wait_finished(jobid, JOB_TIMEOUT)
        assert job.finish_reason == "finished" and job.error_lines() == [], job.describe()
    one, two = ({r["article_id"] for r in stored_articles(p)} for p in parts)
    assert one and two and not one & two
    merged = tmp_path / "merged.sqlite"
    result = cli("scrapy", "merge", *map(str, parts), "--db", str(merged))
    assert result.returncode == 0, result.stdout + result.stderr
    assert_matches_ground_truth(stored_articles(merged), window)


def test_partitioned_backfill_on_two_nodes_merges_into_the_single_node_result(nodes, replica, tmp_path):
    site = replica(stories=150)
    since, until = "2026-01-10", "2026-01-20"
    window = [t for t in site.ground_truth() if since <= t["published_at"][:10] <= until]
    assert window and {t["language"] for t in window} == {"az", "en", "ru"}
    shard_a, shard_b = tmp_path / "shard-a.sqlite", tmp_path / "shard-b.sqlite"
    common = ["-a", f"since={since}", "-a", f"until={until}"]

    # The backfill split by edition over the two nodes (targets from the user's scrapy.cfg)...
    jobs = [
        (nodes.a, scheduled_job(schedule_cli("category", "-t", "node-a", "-a", "lang=az", *common, *job_settings(
            NEWSBOT_BASE_URL=site.base_url, NEWSBOT_DB=str(shard_a)), nodes=nodes))),
        (nodes.b, scheduled_job(schedule_cli("category", "-t", "node-b", "-a", "lang=en,ru", *common, *job_settings(
            NEWSBOT_BASE_URL=site.base_url, NEWSBOT_DB=str(shard_b)), nodes=nodes))),
    ]
    # ...and the same range on one node, into that node's default store (relative: Scrapyd's directory).
    refused = schedule_cli("category", "-t", "node-b", *common, *job_settings(NEWSBOT_BASE_URL=site.base_url),
                           nodes=nodes)
    assert "Not scheduled: newsbot/category job" in refused.stdout, refused.stdout + refused.stderr
    jobs.append((nodes.b, scheduled_job(schedule_cli("category", "-t", "node-b", "--allow-concurrent", *common,
                                                     *job_settings(NEWSBOT_BASE_URL=site.base_url), nodes=nodes))))
    for node, jobid in jobs:
        job = node.wait_finished(jobid, JOB_TIMEOUT)
        assert job.finish_reason == "finished" and job.error_lines() == [], job.describe()
    single = nodes.b.home / "data" / "newsbot.sqlite"
    assert single.is_file(), "the default NEWSBOT_DB should resolve against Scrapyd's working directory"

    a_rows, b_rows = stored_articles(shard_a), stored_articles(shard_b)
    assert {r["language"] for r in a_rows} == {"az"} and {r["language"] for r in b_rows} == {"en", "ru"}

    merged = tmp_path / "merged.sqlite"
    result = cli("scrapy", "merge", str(shard_a), str(shard_b), "--db", str(merged))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{merged}: {len(window)} articles ({len(window)} added, 0 updated" in result.stdout

    def content(rows: list[dict]) -> dict[str, dict]:
        return {r["article_id"]: {k: r[k] for k in ITEM_FIELDS if k != "crawled_at"} for r in rows}

    merged_rows = stored_articles(merged)
    assert content(merged_rows) == content(stored_articles(single))
    assert_matches_ground_truth(merged_rows, window)

    # Merging a shard again (or both) adds nothing and duplicates nothing.
    def table_counts(path: Path) -> dict[str, int]:
        with sqlite3.connect(path) as conn:
            return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("articles", "tags", "images", "translations", "article_revisions")}

    before = table_counts(merged)
    again = cli("scrapy", "merge", str(shard_b), str(shard_a), "--db", str(merged))
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{shard_b}: 0 added, 0 updated" in again.stdout and f"{shard_a}: 0 added, 0 updated" in again.stdout
    assert table_counts(merged) == before
    assert content(stored_articles(merged)) == content(merged_rows)
    with sqlite3.connect(merged) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone() == (len(window),) * 2

    broken = cli("scrapy", "merge", str(tmp_path / "nope.sqlite"), "--db", str(merged))
    assert broken.returncode == 1 and "no such shard" in broken.stderr


# Set by the crawl, not by the site: they differ between any two crawls.
CRAWL_TIME_FIELDS = ("crawled_at", "first_seen_at", "last_crawled_at")


def exported(db: str) -> list[dict]:
    result = cli("scrapy", "export", "--db", db, "--format", "jsonl")
    assert result.returncode == 0, result.stderr[-3000:]
    records = (json.loads(line) for line in result.stdout.splitlines())
    return sorted(({k: v for k, v in r.items() if k not in CRAWL_TIME_FIELDS} for r in records),
                  key=lambda r: r["url"])


def test_a_backfill_split_over_three_nodes_writes_one_postgresql_as_one_node_would(nodes, replica, tmp_path,
                                                                                   postgres_url):
    """Issue 31: three nodes write one PostgreSQL store directly, each its part of the range; no copy, no merge."""
    site = replica(stories=150)
    since, until = "2026-01-10", "2026-01-20"
    window = [t for t in site.ground_truth() if since <= t["published_at"][:10] <= until]
    # Each node crawls every category listing, but only its own days' article pages.
    parts = [("2026-01-10", "2026-01-13"), ("2026-01-14", "2026-01-17"), ("2026-01-18", "2026-01-20")]
    assert all(any(start <= t["published_at"][:10] <= end for t in window) for start, end in parts)
    # Scheduled without the password, which Scrapyd would log with the job's arguments: the nodes have it.
    shared = postgres_url.replace(f":{PG_PASSWORD}@", "@")
    assert shared != postgres_url
    # refresh=1: a node fetches every article page of its part even when another node has stored it
    # already, so the request log shows a split that overlaps however the jobs happen to interleave.
    jobs = [(node, scheduled_job(schedule_cli(
        "category", "-t", node.name, "-a", f"since={start}", "-a", f"until={end}", "-a", "refresh=1",
        *job_settings(NEWSBOT_BASE_URL=site.base_url, NEWSBOT_DB=shared), nodes=nodes)))
            for node, (start, end) in zip((nodes.a, nodes.b, nodes.c), parts)]
    logs = []
    for node, jobid in jobs:
        job = node.wait_finished(jobid, JOB_TIMEOUT)
        # A job that failed still shows "finished" in Scrapyd: its log tells.
        assert job.finish_reason == "finished" and job.error_lines() == [], job.describe()
        logs.append(job.log)

    # The replica's request log: every article page of the range fetched, and by one node only.
    articles = {t["url"].removeprefix(site.base_url) for t in site.ground_truth()}
    fetched = {path: n for path, n in site.hits(reset=True)["paths"].items() if path in articles}
    assert set(fetched) == {t["url"].removeprefix(site.base_url) for t in window}
    assert {path: n for path, n in fetched.items() if n > 1} == {}

    # The same range crawled by one node into SQLite.
    single = tmp_path / "single.sqlite"
    job = nodes.b.wait_finished(scheduled_job(schedule_cli(
        "category", "-t", "node-b", "-a", f"since={since}", "-a", f"until={until}",
        *job_settings(NEWSBOT_BASE_URL=site.base_url, NEWSBOT_DB=str(single)), nodes=nodes)), JOB_TIMEOUT)
    assert job.finish_reason == "finished" and job.error_lines() == [], job.describe()

    shared_export = exported(postgres_url)
    assert shared_export == exported(str(single))
    assert_matches_ground_truth(shared_export, window)
    # Each node recorded its run in the shared store.
    with psycopg.connect(postgres_url) as conn:
        runs = conn.execute("SELECT job_id, finish_reason FROM crawl_runs").fetchall()
    assert sorted(runs) == sorted((jobid, "finished") for _, jobid in jobs)
    for node in (nodes.a, nodes.b, nodes.c):
        assert PG_PASSWORD not in node.output()
    assert not [log for log in logs if PG_PASSWORD in log]
