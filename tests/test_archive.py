"""The raw-page archive (NEWSBOT_ARCHIVE) and `scrapy reextract` (issue 14): real crawls of the
replica over real sockets, real WARC files, the real command in a subprocess.

"Change a selector" is done as a redesign would do it: one entry of the current design's markup
table (newsbot.site.markup.CURRENT.title) is replaced by a wrong one for the crawl, so every
current-design page's title comes out as its first paragraph (the structural fallback cannot hide
it: the wrong selector does match). Then `scrapy reextract` runs with today's table.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import pytest_twisted

from newsbot import site
from newsbot.archive.reader import ArchiveReading, archive_files, read_archive
from newsbot.items import PAGE_FIELDS
from newsbot.site import markup
from newsbot.store import Store
from tests.crawling import ROOT, assert_matches_ground_truth, crawl, crawl_settings, scrapy_cli
from tests.test_fault_drills import ANY_ARTICLE, assert_log_is_clean
from tests.test_output_errors import assert_reported_once, small_disk  # noqa: F401 (a fixture)

# A wrong rule that still matches on current-design pages: the title becomes the first paragraph.
BROKEN_TITLE = dataclasses.replace(markup.CURRENT, title="div.news-detail__desc p")


def stored(db: Path) -> list[dict]:
    with Store(db, readonly=True) as store:
        return list(store.iter_articles())


def differences(articles: list[dict], truth: list[dict]) -> Counter:
    """Per field, how many articles differ from the ground truth."""
    by_url = {a["url"]: a for a in articles}
    found: Counter = Counter()
    for expected in truth:
        article = by_url[expected["url"]]
        found.update(f for f in PAGE_FIELDS if article.get(f) != expected.get(f))
    return found


def pages(directory: Path, reading: ArchiveReading | None = None) -> list:
    return list(read_archive(archive_files([directory]), reading))


def reextract(*args: str) -> subprocess.CompletedProcess:
    return scrapy_cli("reextract", *args, timeout=120)


def report(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr[-3000:]
    assert_log_is_clean(done.stderr)
    return json.loads(done.stdout)


async def broken_crawl(site_, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **overrides) -> tuple[Path, Path]:
    """A crawl of the whole replica with the broken title rule, archived; (store, archive dir)."""
    db, archive = tmp_path / "news.sqlite", tmp_path / "warc"
    monkeypatch.setattr(markup, "MARKUPS", (BROKEN_TITLE, markup.LEGACY))
    monkeypatch.setattr(site, "MARKUPS", (BROKEN_TITLE, markup.LEGACY))
    try:
        result = await crawl("latest", crawl_settings(site_.base_url, db, NEWSBOT_ARCHIVE=str(archive), **overrides))
    finally:
        monkeypatch.undo()
    assert result.reason == "finished"
    return db, archive


@pytest_twisted.ensureDeferred
async def test_every_article_page_is_archived_once_and_nothing_else(shared_replica, tmp_path):
    archive = tmp_path / "warc" / "latest"  # the setting names it "warc/%(name)s", as NEWSBOT_JSONL may
    result = await crawl("latest", crawl_settings(shared_replica.base_url, tmp_path / "news.sqlite",
                                                  NEWSBOT_ARCHIVE=str(tmp_path / "warc" / "%(name)s")))
    truth = shared_replica.ground_truth()
    assert result.reason == "finished" and result.errors == 0
    files = archive_files([archive])
    assert len(files) == 1 and files[0].name.startswith("latest-") and files[0].name.endswith(f"-{os.getpid()}.warc.gz")
    reading = ArchiveReading()
    found = pages(archive, reading)
    # Each ground-truth page exactly once; no listing, feed batch or home page.
    assert Counter(p.url for p in found) == Counter(t["url"] for t in truth)
    assert reading.other_records == 1 and not reading.torn  # the warcinfo
    assert all(p.status == 200 and b"<html" in p.body.lower() for p in found)
    assert result.stat("newsbot/archive/records") == len(truth)
    assert 0 < result.stat("newsbot/archive/bytes") < files[0].stat().st_size
    # The record's time is the item's crawled_at (to the second), so reextract can tell a later crawl.
    crawled = {i["url"]: i["crawled_at"] for i in result.items}
    assert all(crawled[p.url] == p.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ") for p in found)


@pytest_twisted.ensureDeferred
async def test_without_the_setting_nothing_is_archived(shared_replica, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    result = await crawl("latest", crawl_settings(shared_replica.base_url, tmp_path / "news.sqlite"), lang="en")
    assert result.reason == "finished"
    assert "newsbot.archive" not in caplog.text  # not even Scrapy's "Disabled ..." warning
    assert not any(k.startswith("newsbot/archive/") for k in result.stats)
    assert not list(tmp_path.rglob("*.warc.gz"))


@pytest_twisted.ensureDeferred
async def test_reextract_repairs_a_store_crawled_with_a_wrong_selector_without_a_request(
        replica, tmp_path, monkeypatch):
    site_ = replica(stories=40)
    truth = site_.ground_truth()
    db, archive = await broken_crawl(site_, tmp_path, monkeypatch)
    wrong = differences(stored(db), truth)
    assert set(wrong) == {"title"} and 0 < wrong["title"] < len(truth), wrong  # the store disagrees

    site_.hits(reset=True)
    done = report(reextract("--archive", str(archive), "--db", str(db), "--json"))
    assert site_.hits()["total"] == 0  # not one request
    assert_matches_ground_truth(stored(db), truth)  # every field, every article
    assert done["records"] == done["reextracted"] == len(truth)
    assert done["changed"] == wrong["title"] and done["unchanged"] == len(truth) - wrong["title"]
    assert done["fields"] == {"title": wrong["title"]}
    assert done["inserted"] == done["stale"] == 0 and done["skipped"] == {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:  # the normal revision path
        revisions = Counter(r for (r,) in conn.execute("SELECT revision FROM articles"))
        kept = conn.execute("SELECT count(*) FROM article_revisions WHERE revision = 1").fetchone()[0]
    assert kept == wrong["title"]  # the wrong titles stay as revision 1
    assert revisions == Counter({2: wrong["title"], 1: len(truth) - wrong["title"]})


@pytest_twisted.ensureDeferred
async def test_reextract_twice_changes_nothing_the_second_time(replica, tmp_path, monkeypatch):
    site_ = replica(stories=20)
    truth = site_.ground_truth()
    db, archive = await broken_crawl(site_, tmp_path, monkeypatch)
    first = report(reextract("--archive", str(archive), "--db", str(db), "--json"))
    assert first["changed"] > 0
    second = report(reextract("--archive", str(archive), "--db", str(db), "--json"))
    assert second["changed"] == 0 and second["fields"] == {} and second["unchanged"] == len(truth)
    text = reextract("--archive", str(archive), "--db", str(db))
    assert text.returncode == 0 and "0 changed (new revision)" in text.stdout and "Changed fields: none" in text.stdout
    assert_matches_ground_truth(stored(db), truth)


@pytest_twisted.ensureDeferred
async def test_reextract_filters_by_language_and_baku_publication_day(replica, tmp_path, monkeypatch):
    site_ = replica(stories=40)
    truth = site_.ground_truth()
    db, archive = await broken_crawl(site_, tmp_path, monkeypatch)
    broken = {a["url"] for a in stored(db) if a["title"] != next(t for t in truth if t["url"] == a["url"])["title"]}

    done = report(reextract("--archive", str(archive), "--db", str(db), "--lang", "en", "--json"))
    english = [t for t in truth if t["language"] == "en"]
    assert done["reextracted"] == len(english) and done["filtered_out"] == len(truth) - len(english)
    assert done["changed"] == len(broken & {t["url"] for t in english}) > 0
    now = {a["url"]: a for a in stored(db)}
    assert all(now[t["url"]]["title"] == t["title"] for t in english)
    assert any(now[u]["title"] != t["title"] for t in truth if (u := t["url"]) in broken and t["language"] != "en")

    days = sorted({t["published_at"][:10] for t in truth if t["language"] != "en"})
    day = days[len(days) // 2]
    inside = [t for t in truth if t["language"] != "en" and t["published_at"][:10] == day]
    done = report(reextract("--archive", str(archive), "--db", str(db), "--since", day, "--until", day,
                            "--lang", "az,ru", "--json"))
    assert done["reextracted"] == len(inside)
    assert done["changed"] == len(broken & {t["url"] for t in inside})
    now = {a["url"]: a for a in stored(db)}
    still = {t["url"] for t in truth if now[t["url"]]["title"] != t["title"]}
    assert still == broken - {t["url"] for t in english + inside}
    # The rest, and then every field as the ground truth says.
    report(reextract("--archive", str(archive), "--db", str(db), "--json"))
    assert_matches_ground_truth(stored(db), truth)


@pytest_twisted.ensureDeferred
async def test_an_article_crawled_again_since_the_archive_is_left_alone_as_stale(replica, tmp_path, monkeypatch):
    site_ = replica(stories=20)
    truth = site_.ground_truth()
    db, archive = tmp_path / "news.sqlite", tmp_path / "warc"
    first = await crawl("latest", crawl_settings(site_.base_url, db, NEWSBOT_ARCHIVE=str(archive)))
    assert first.reason == "finished"
    time.sleep(1.1)  # crawled_at has whole seconds: the next crawl is later, not the same second
    # A later crawl, not archived, with the wrong rule: its titles are what the store holds now.
    monkeypatch.setattr(markup, "MARKUPS", (BROKEN_TITLE, markup.LEGACY))
    monkeypatch.setattr(site, "MARKUPS", (BROKEN_TITLE, markup.LEGACY))
    try:
        later = await crawl("latest", crawl_settings(site_.base_url, db), refresh="1")
    finally:
        monkeypatch.undo()
    wrong = differences(stored(db), truth)
    assert later.stat("newsbot/store/updated") == wrong["title"] > 0
    done = report(reextract("--archive", str(archive), "--db", str(db), "--json"))
    # The archive's pages are older than what the store holds: the revision path leaves those alone.
    assert done["stale"] == wrong["title"] and done["changed"] == 0 and done["fields"] == {}
    assert differences(stored(db), truth) == wrong


@pytest_twisted.ensureDeferred
async def test_of_several_crawls_in_the_archive_the_newest_record_of_each_article_counts(replica, tmp_path):
    site_ = replica(stories=20)
    db, archive = tmp_path / "news.sqlite", tmp_path / "warc"
    settings = crawl_settings(site_.base_url, db, NEWSBOT_ARCHIVE=str(archive))
    assert (await crawl("latest", settings)).reason == "finished"
    edited = site_.edit(3)  # one story's editions get a new title and paragraph
    time.sleep(1.1)  # whole seconds: the second crawl is later
    second = await crawl("latest", settings, refresh="1")
    truth = site_.ground_truth()
    assert second.stat("newsbot/store/updated") >= 1, edited
    assert len(archive_files([archive])) == 2
    done = report(reextract("--archive", str(archive), "--db", str(db), "--json"))
    # Had the first crawl's record of an edited page won, it would be older than the store's: stale.
    assert done["records"] == 2 * len(truth) and done["superseded"] == len(truth)
    assert done["unchanged"] == done["reextracted"] == len(truth) and done["stale"] == done["changed"] == 0
    assert_matches_ground_truth(stored(db), truth)


def _records_in(path: Path) -> int:
    try:
        return len(pages(path.parent if path.is_file() else path))
    except Exception:
        return 0


def test_an_archive_of_a_killed_crawl_is_read_to_its_last_whole_record(replica, tmp_path):
    site_ = replica(stories=40, faults=[{"match": ANY_ARTICLE, "delay": 0.3}])
    truth = {t["url"]: t for t in site_.ground_truth()}
    db, archive = tmp_path / "news.sqlite", tmp_path / "warc"
    args = ["crawl", "latest", "-s", f"NEWSBOT_BASE_URL={site_.base_url}", "-s", f"NEWSBOT_DB={db}",
            "-s", f"NEWSBOT_ARCHIVE={archive}", "-s", "NEWSBOT_DB_BATCH_SIZE=1000", "-s", "NEWSBOT_DB_FLUSH_INTERVAL=0",
            "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0", "-s", "NEWSBOT_LATEST_SINCE=",
            "-s", "TELNETCONSOLE_ENABLED=0"]
    process = subprocess.Popen([str(Path(sys.executable).with_name("scrapy")), *args], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.monotonic()
    try:
        while time.monotonic() - started < 90 and process.poll() is None:
            if archive.is_dir() and _records_in(archive) >= len(truth) // 3:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the crawl ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
    assert process.returncode == -signal.SIGKILL
    # Killed: nothing was committed (one batch at close), but the archive has every page it fetched.
    with Store(db, readonly=True) as store:
        assert store.count_articles() == 0
    [warc] = archive_files([archive])
    whole = pages(archive)
    assert len(truth) // 3 <= len(whole) < len(truth)

    site_.hits(reset=True)
    done = report(reextract("--archive", str(archive), "--db", str(db), "--json"))
    assert done["inserted"] == done["reextracted"] == len(whole) and done["skipped"] == {}
    assert_matches_ground_truth(stored(db), [truth[p.url] for p in whole])

    # A kill in the middle of a record's write (what one write() per record makes unlikely, but a
    # full page cache or a signal can cut): the torn tail is one warning, every whole record is read.
    cut = tmp_path / "cut" / warc.name
    cut.parent.mkdir()
    data = warc.read_bytes()
    last = whole[-1].offset
    cut.write_bytes(data[:last + (len(data) - last) // 2])
    fresh = tmp_path / "fresh.sqlite"
    Store(fresh).close()
    done = reextract("--archive", str(cut), "--db", str(fresh), "--json")
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and str(cut) in warnings[0] and f"at byte {last}" in warnings[0], done.stderr
    result = report(done)
    assert result["records"] == result["inserted"] == len(whole) - 1 and result["skipped"] == {"torn": 1}
    assert_matches_ground_truth(stored(fresh), [truth[p.url] for p in whole[:-1]])
    assert site_.hits()["total"] == 0


@pytest_twisted.ensureDeferred
async def test_an_archive_directory_that_cannot_be_made_closes_as_output_unavailable(
        shared_replica, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = await crawl("latest", crawl_settings(shared_replica.base_url, tmp_path / "news.sqlite",
                                                  NEWSBOT_ARCHIVE=str(blocker / "warc")))
    assert result.reason == "output_unavailable"
    assert_reported_once(caplog, blocker / "warc")
    assert result.stat("newsbot/output_errors/archive") == 1
    assert result.stat("newsbot/archive/records") == 0


@pytest_twisted.ensureDeferred
async def test_an_archive_on_a_full_disk_is_said_once_and_keeps_only_whole_records(
        shared_replica, tmp_path, caplog, small_disk):  # noqa: F811
    disk = small_disk("64k")  # ~4 KB a page: a few dozen pages fit
    caplog.set_level(logging.WARNING)
    db = tmp_path / "news.sqlite"
    result = await crawl("latest", crawl_settings(shared_replica.base_url, db, NEWSBOT_ARCHIVE=str(disk / "warc")))
    assert result.reason == "output_unavailable"
    [warc] = archive_files([disk / "warc"])
    assert_reported_once(caplog, warc)
    assert "No space left on device" in caplog.text
    assert result.stat("newsbot/output_errors/archive") == 1
    reading = ArchiveReading()
    found = pages(disk / "warc", reading)
    assert not reading.torn and 0 < len(found) == result.stat("newsbot/archive/records")
    assert result.stat("newsbot/archive/unsaved") >= 1
    with Store(db, readonly=True) as store:  # the other output kept what reached it
        assert store.count_articles() == result.stat("item_scraped_count") >= len(found)


def test_reextract_bad_input_is_one_line(tmp_path):
    db = tmp_path / "news.sqlite"
    Store(db).close()
    empty = tmp_path / "empty"
    empty.mkdir()
    for args, code, message in [
        (["--archive", str(tmp_path / "missing"), "--db", str(db)], 2, "no such file or directory"),
        (["--archive", str(empty), "--db", str(db)], 2, "no WARC files"),
        (["--archive", str(empty), "--db", str(db), "--lang", "fr"], 2, "unknown edition"),
        (["--archive", str(empty), "--db", str(tmp_path / "nope.sqlite")], 2, "no WARC files"),
    ]:
        done = reextract(*args)
        assert done.returncode == code and len(done.stderr.splitlines()) == 1 and message in done.stderr, (
            args, done.returncode, done.stderr)
    # A store that is no store: exit 1, one line.
    warc = tmp_path / "warc"
    warc.mkdir()
    (warc / "x-20260101T000000Z-1.warc.gz").write_bytes(b"")
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not a database")
    for target in (bad, tmp_path / "nope.sqlite"):
        done = reextract("--archive", str(warc), "--db", str(target))
        assert done.returncode == 1 and len(done.stderr.splitlines()) == 1 and str(target) in done.stderr, done.stderr


@pytest_twisted.ensureDeferred
async def test_reextract_of_an_archive_corrupt_in_the_middle_reads_up_to_there_says_where_and_fails(
        shared_replica, tmp_path):
    db, archive = tmp_path / "news.sqlite", tmp_path / "warc"
    result = await crawl("latest", crawl_settings(shared_replica.base_url, db, NEWSBOT_ARCHIVE=str(archive)), lang="en")
    assert result.reason == "finished"
    [warc] = archive_files([archive])
    whole = pages(archive)
    broken = len(whole) // 3
    data = bytearray(warc.read_bytes())
    start = whole[broken].offset + 30  # inside the record's compressed bytes, past the gzip header
    data[start:start + 40] = bytes(b ^ 0xFF for b in data[start:start + 40])
    warc.write_bytes(bytes(data))
    fresh = tmp_path / "fresh.sqlite"
    Store(fresh).close()
    done = reextract("--archive", str(archive), "--db", str(fresh), "--json")
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"reextract: error: {warc} at byte {whole[broken].offset} (after {broken} records of it): "
        "corrupt, the rest of that file is unread"]
    read = json.loads(done.stdout)
    assert read["records"] == read["inserted"] == broken and read["skipped"] == {"corrupt": 1}


def test_reextract_of_a_file_that_is_no_warc_is_a_usage_error(tmp_path):
    db = tmp_path / "news.sqlite"
    Store(db).close()
    for name, content in (("text.warc.gz", b"just some text\n" * 100),
                          ("gzipped-text.warc.gz", gzip.compress(b"just some text\n" * 100))):
        path = tmp_path / name
        path.write_bytes(content)
        done = reextract("--archive", str(path), "--db", str(db))
        assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, (name, done.returncode, done.stderr)
        assert done.stderr.startswith(f"reextract: error: --archive {path} is not a gzipped WARC file"), done.stderr


def test_without_warcio_reextract_and_an_archived_crawl_say_how_to_install_it(shared_replica, tmp_path):
    fake = tmp_path / "no-warcio" / "warcio"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named warcio')\n")
    warc = tmp_path / "warc"
    warc.mkdir()
    env = {"PYTHONPATH": os.pathsep.join([str(fake.parent), os.environ.get("PYTHONPATH", "")])}
    done = scrapy_cli("reextract", "--archive", str(warc), "--db", str(tmp_path / "x.sqlite"), env=env)
    assert done.returncode == 1 and done.stderr.strip().splitlines() == [
        "reextract: reading the archive needs warcio: pip install -e '.[archive]'"]
    # A crawl asked to archive without warcio: the same one line, as the output error it is.
    crawled = scrapy_cli("crawl", "latest", "-a", "lang=en", "-s", f"NEWSBOT_BASE_URL={shared_replica.base_url}",
                         "-s", f"NEWSBOT_DB={tmp_path / 'news.sqlite'}", "-s", f"NEWSBOT_ARCHIVE={warc}",
                         "-s", "NEWSBOT_LATEST_SINCE=", "-s", "TELNETCONSOLE_ENABLED=0", env=env)
    assert crawled.returncode == 1, crawled.stderr[-2000:]
    errors = [line for line in crawled.stderr.splitlines() if "] ERROR:" in line]
    assert len(errors) == 1 and "pip install -e '.[archive]'" in errors[0] and str(warc) in errors[0], errors
    assert "'finish_reason': 'output_unavailable'" in crawled.stderr
    assert_log_is_clean(crawled.stderr)
