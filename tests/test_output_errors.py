"""Outputs on a disk that refuses writes (issue 13): real failures, no mocks.

/dev/full fails every write with ENOSPC; a small tmpfs (mounted here, which needs root: the
tests that need one are skipped otherwise) fills up for real, partial writes included, and
gives SQLite a real SQLITE_FULL.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import datetime
from pathlib import Path
from typing import Callable, Iterator

import pytest
import pytest_twisted

from newsbot.outcome import exit_code
from newsbot.store import Store
from tests.crawling import logged, scrapy_cli
from tests.test_pipelines import assert_journal_is_the_store, crawl, settings, stat
from tests.test_store import corrupt_in_the_middle, make_item

DEV_FULL = Path("/dev/full")


def big_item(n: int, size: int = 6000):
    # ~`size` bytes of body; the odd length keeps line ends off page boundaries.
    return make_item(n, body=("Uzun mətn şirkəti haqqında. " * (size // 28 + 1))[:size] + f" {n}.")


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def assert_reported_once(caplog: pytest.LogCaptureFixture, path: Path | str) -> None:
    """Exactly one ERROR line, naming the output's path, and no traceback anywhere."""
    found = errors(caplog)
    assert [str(path) in r.getMessage() for r in found] == [True], [r.getMessage()[:300] for r in found]
    assert not any(r.exc_info for r in caplog.records)
    assert "Traceback" not in caplog.text


def whole_lines(path: Path) -> list[dict]:
    """Every line of a JSON Lines file, which must end in a newline (no torn last line)."""
    raw = path.read_bytes()
    assert raw == b"" or raw.endswith(b"\n"), f"torn last line: ...{raw[-80:]!r}"
    return [json.loads(line) for line in raw.decode("utf-8").splitlines()]


def fill(directory: Path, leave: int = 0) -> None:
    """Fill the file system of `directory` for real, then give `leave` bytes back."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    if leave:
        os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave))
    os.close(fd)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Factory: small_disk("64k") -> the mount point of a fresh tmpfs of that size (unmounted at teardown)."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        if os.geteuid() != 0:
            pytest.skip("a real full disk needs a small tmpfs, and mounting one needs root")
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
                              capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here (needed for a real full disk): {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def remount(point: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(point)], check=True)


# --- JSON Lines -------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_json_lines_on_dev_full_is_said_once_and_closes_as_output_unavailable(tmp_path, caplog):
    db = tmp_path / "news.sqlite"
    caplog.set_level(logging.WARNING)
    crawler = await crawl(settings(tmp_path, NEWSBOT_JSONL=str(DEV_FULL), NEWSBOT_DB_BATCH_SIZE=5,
                                   LOG_LEVEL="INFO"), [make_item(n) for n in range(1, 41)])
    assert stat(crawler, "finish_reason") == "output_unavailable"
    assert exit_code("output_unavailable") == 1
    assert_reported_once(caplog, DEV_FULL)
    assert "No space left on device" in errors(caplog)[0].getMessage()
    assert stat(crawler, "newsbot/output_errors/jsonl") == 1
    # Nothing reached the file and each item is counted; the store kept every one of them.
    scraped = stat(crawler, "item_scraped_count")
    assert scraped >= 1
    assert stat(crawler, "newsbot/jsonl/items") == 0
    assert stat(crawler, "newsbot/jsonl/unsaved") == scraped
    assert f"{scraped} items were not written to {DEV_FULL}" in caplog.text
    with Store(db, readonly=True) as store:
        assert store.count_articles() == scraped
    assert stat(crawler, "newsbot/store/unsaved") == 0


@pytest_twisted.ensureDeferred
async def test_json_lines_on_a_full_disk_keep_no_torn_line_and_the_next_run_appends(tmp_path, caplog, small_disk):
    disk = small_disk("64k")
    path = disk / "articles.jsonl"
    caplog.set_level(logging.WARNING)
    items = [big_item(n) for n in range(1, 41)]  # ~240 KB of lines for 64 KB
    # The store's journal: each batch of 2 (~29 KB) is appended in its transaction, whole or not at all.
    crawler = await crawl(settings(tmp_path, NEWSBOT_JSONL=str(path), NEWSBOT_DB_BATCH_SIZE=2, LOG_LEVEL="INFO"),
                          items)
    assert stat(crawler, "finish_reason") == "output_unavailable"
    assert_reported_once(caplog, path)
    assert stat(crawler, "newsbot/output_errors/jsonl") == 1
    records = whole_lines(path)  # the line the disk cut short was taken back
    written, scraped = stat(crawler, "newsbot/jsonl/items"), stat(crawler, "item_scraped_count")
    assert 1 <= len(records) == written < scraped and written % 2 == 0
    assert [r["url"] for r in records] == [i["url"] for i in items[:written]]
    assert stat(crawler, "newsbot/jsonl/unsaved") == scraped - written
    with Store(tmp_path / "news.sqlite", readonly=True) as store:  # the other output kept writing
        assert store.count_articles() == scraped

    # Room again: the next crawl continues the same file, with nothing to trim.
    remount(disk, "1m")
    caplog.clear()
    crawler = await crawl(settings(tmp_path, NEWSBOT_JSONL=str(path), NEWSBOT_DB=""), [big_item(901)])
    assert stat(crawler, "finish_reason") == "finished"
    assert "partial line" not in caplog.text and not errors(caplog)
    assert [r["url"] for r in whole_lines(path)] == [r["url"] for r in records] + [big_item(901)["url"]]


@pytest_twisted.ensureDeferred
async def test_a_line_torn_by_a_full_disk_is_trimmed_and_the_disk_still_full_adds_none(tmp_path, caplog, small_disk):
    disk = small_disk("64k")
    path = disk / "articles.jsonl"
    lines = b"".join((json.dumps(dict(big_item(n, 1500)), ensure_ascii=False) + "\n").encode() for n in range(1, 80))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    kept = os.write(fd, lines)  # the kernel writes what fits and stops mid-line: a real torn line
    os.close(fd)
    assert kept < len(lines) and lines[kept - 1:kept] != b"\n"
    whole = lines[:kept].rfind(b"\n") + 1
    torn = kept - whole
    caplog.set_level(logging.WARNING)
    crawler = await crawl(settings(tmp_path, NEWSBOT_JSONL=str(path), NEWSBOT_DB=""), [big_item(901)])
    trimmed = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "partial line" in r.getMessage()]
    assert trimmed == [f"{path} ended in a partial line ({torn} bytes) from an interrupted crawl; removed it"]
    # The disk is still full: the new line does not fit, and is not left half there either.
    assert stat(crawler, "finish_reason") == "output_unavailable"
    assert_reported_once(caplog, path)
    records = whole_lines(path)
    assert path.read_bytes() == lines[:whole]
    assert [r["url"] for r in records] == [big_item(n, 1500)["url"] for n in range(1, len(records) + 1)]


# --- The SQLite store ---------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_a_full_disk_under_the_store_is_said_once_and_json_lines_follow_the_store(tmp_path, caplog, small_disk):
    disk = small_disk("1m")
    db, jsonl = disk / "news.sqlite", tmp_path / "news.jsonl"
    with Store(db):
        pass
    fill(disk, leave=96 * 1024)  # room to open it and record the run (-shm, a few WAL pages), not for articles
    caplog.set_level(logging.WARNING)
    items = [big_item(n) for n in range(1, 201)]
    crawler = await crawl(settings(tmp_path, NEWSBOT_DB=str(db), NEWSBOT_JSONL=str(jsonl), NEWSBOT_DB_BATCH_SIZE=50,
                                   LOG_LEVEL="INFO"), items)
    assert stat(crawler, "finish_reason") == "store_unavailable"
    assert_reported_once(caplog, db)
    assert "database or disk is full" in errors(caplog)[0].getMessage()
    assert stat(crawler, "newsbot/output_errors/store") == 1
    scraped = stat(crawler, "item_scraped_count")
    remount(disk, "64m")
    with Store(db, readonly=True) as store:
        stored = store.count_articles()
    assert stat(crawler, "newsbot/store/unsaved") == scraped - stored > 0
    # The JSON Lines file is the store's journal: it has exactly what the store kept, and the
    # feed export (-o), which follows the items, has every one of them.
    assert [r["url"] for r in whole_lines(jsonl)] == [i["url"] for i in items[:stored]]


# --- `scrapy crawl` against the replica ---------------------------------------------------------


def crawl_cli(site, db: Path, *args: str) -> subprocess.CompletedProcess:
    return scrapy_cli("crawl", "latest", "-a", "lang=en", "-s", f"NEWSBOT_BASE_URL={site.base_url}",
                      "-s", f"NEWSBOT_DB={db}", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0",
                      "-s", "NEWSBOT_LATEST_SINCE=", "-s", "TELNETCONSOLE_ENABLED=0", *args)


def dumped_stats(stderr: str) -> dict:
    start = stderr.index("Dumping Scrapy stats:\n") + len("Dumping Scrapy stats:\n")
    return eval(stderr[start:stderr.index("}\n", start) + 1], {"__builtins__": {}, "datetime": datetime})  # noqa: S307


def test_scrapy_crawl_exits_1_when_json_lines_cannot_be_written(replica, tmp_path):
    site = replica(stories=40)
    done = crawl_cli(site, tmp_path / "news.sqlite", "-s", f"NEWSBOT_JSONL={DEV_FULL}")
    assert done.returncode == 1, done.stderr[-3000:]
    assert [str(DEV_FULL) in line for line in logged(done.stderr, "ERROR")] == [True], logged(done.stderr, "ERROR")
    assert "Traceback" not in done.stderr
    stats = dumped_stats(done.stderr)
    assert stats["finish_reason"] == "output_unavailable"
    assert stats["newsbot/output_errors/jsonl"] == 1
    assert stats["newsbot/jsonl/unsaved"] == stats["item_scraped_count"] >= 1


def test_scrapy_crawl_refuses_a_store_corrupt_in_the_middle_before_fetching_an_article(replica, tmp_path):
    site = replica(stories=40)
    db = tmp_path / "news.sqlite"
    corrupt_in_the_middle(db)
    done = crawl_cli(site, db)
    assert done.returncode == 1, done.stderr[-3000:]
    assert [f"{db} is corrupt" in line for line in logged(done.stderr, "ERROR")] == [True], logged(done.stderr, "ERROR")
    assert "Traceback" not in done.stderr
    stats = dumped_stats(done.stderr)
    assert stats["finish_reason"] == "store_unavailable"
    assert "newsbot/pages/article" not in stats  # found at open, as a bad header is


def test_scrapy_crawl_exits_1_when_the_store_disk_is_full(replica, tmp_path, small_disk):
    site = replica(stories=60)
    disk = small_disk("1m")
    db, jsonl = disk / "news.sqlite", tmp_path / "news.jsonl"
    with Store(db):
        pass
    fill(disk, leave=64 * 1024)
    done = crawl_cli(site, db, "-s", f"NEWSBOT_JSONL={jsonl}", "-s", "NEWSBOT_DB_BATCH_SIZE=5")
    assert done.returncode == 1, done.stderr[-3000:]
    assert [str(db) in line for line in logged(done.stderr, "ERROR")] == [True], logged(done.stderr, "ERROR")
    assert "Traceback" not in done.stderr
    stats = dumped_stats(done.stderr)
    assert stats["finish_reason"] == "store_unavailable"
    assert stats["newsbot/output_errors/store"] == 1
    assert stats["newsbot/store/unsaved"] >= 1
    assert len(whole_lines(jsonl)) == stats.get("newsbot/store/inserted", 0) == stats["item_scraped_count"] - stats[
        "newsbot/store/unsaved"]


def test_articles_stored_while_the_json_lines_disk_was_full_are_appended_once_it_has_room(
        replica, tmp_path, small_disk):
    site = replica(stories=40)
    disk = small_disk("32k")
    db, jsonl = tmp_path / "news.sqlite", disk / "news.jsonl"
    args = ("-s", f"NEWSBOT_JSONL={jsonl}", "-s", "NEWSBOT_DB_BATCH_SIZE=5")
    full = crawl_cli(site, db, *args)
    assert full.returncode == 1, full.stderr[-3000:]
    assert dumped_stats(full.stderr)["finish_reason"] == "output_unavailable"
    written = len(whole_lines(jsonl))
    with Store(db, readonly=True) as store:
        stored = store.count_articles()
    assert 0 < written < stored

    # Still full: the crawl says so, and the missing articles stay due.
    still = crawl_cli(site, db, *args)
    assert still.returncode == 1, still.stderr[-3000:]
    assert [f"Cannot append the articles the JSON Lines file {jsonl} is missing" in line
            for line in logged(still.stderr, "ERROR")] == [True], logged(still.stderr, "ERROR")
    assert "Traceback" not in still.stderr
    assert dumped_stats(still.stderr)["finish_reason"] == "output_unavailable"
    assert len(whole_lines(jsonl)) == written

    remount(disk, "4m")
    done = crawl_cli(site, db, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    stats = dumped_stats(done.stderr)
    assert stats["finish_reason"] == "finished"
    assert_journal_is_the_store(jsonl, db)
    assert stats["newsbot/jsonl/restored"] == stored - written
    assert f"{jsonl}: appended {stored - written} articles from the store" in done.stderr


def test_a_file_named_per_crawl_that_missed_lines_is_completed_by_the_next_crawl(replica, tmp_path, small_disk):
    # A per-crawl name: the next crawl writes another file, and completes the earlier one.
    site = replica(stories=40)
    disk = small_disk("32k")
    db = tmp_path / "news.sqlite"
    args = ("-s", f"NEWSBOT_JSONL={disk}/news-%(time)s.jsonl", "-s", "NEWSBOT_DB_BATCH_SIZE=5")
    full = crawl_cli(site, db, *args)
    assert dumped_stats(full.stderr)["finish_reason"] == "output_unavailable", full.stderr[-3000:]
    [first] = disk.iterdir()
    written = len(whole_lines(first))
    with Store(db, readonly=True) as store:
        stored = store.count_articles()
    assert 0 < written < stored

    remount(disk, "4m")
    done = crawl_cli(site, db, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    stats = dumped_stats(done.stderr)
    assert stats["newsbot/jsonl/restored"] == stored - written
    assert f"{first}: appended {stored - written} articles from the store" in done.stderr
    assert len(whole_lines(first)) == stored
    # Each stored article once over the two files: the second holds what the second crawl stored.
    lines = [line for path in sorted(disk.iterdir()) for line in whole_lines(path)]
    with Store(db, readonly=True) as store:
        assert sorted(line["article_id"] for line in lines) == sorted(a["article_id"] for a in store.iter_articles())
