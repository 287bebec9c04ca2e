"""The item pipelines in real crawls (a spider that yields items), on real files."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest_twisted
import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from newsbot.items import ArticleItem
from newsbot.loaders import extract_article
from newsbot.pipelines.validate import problems
from newsbot.store import ITEM_FIELDS, SCHEMA_VERSION, Store
from tests.test_store import make_item

ROOT = Path(__file__).resolve().parent.parent
PIPELINES = {
    "newsbot.pipelines.validate.ValidationPipeline": 100,
    "newsbot.pipelines.dedupe.DedupePipeline": 200,
    "newsbot.pipelines.jsonlines.JsonLinesPipeline": 800,
    "newsbot.pipelines.store.StorePipeline": 900,
}
EDITIONS = {"az": ("", "energetika", "Energetika", "yanvar"), "en": ("en/", "energy", "Energy", "January"),
            "ru": ("ru/", "energetika", "Энергетика", "января")}


def page(lang: str, slug: str, title: str, paragraphs: list[str], tags: list[str]) -> tuple[str, str]:
    """(HTML, URL) of an article page in the site's markup, linking the story's other editions."""
    prefix, segment, category, january = EDITIONS[lang]
    others = "".join(
        f'<a class="news__item" href="/{EDITIONS[o][0]}{EDITIONS[o][1]}/{slug}/">'
        f'<h2 class="news__title">{title} ({o})</h2></a>' for o in EDITIONS if o != lang)
    html = f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"></head><body>
<div class="news-detail">
  <div class="news-detail__head"><a class="news__category" href="/{prefix}{segment}/">{category}</a>
    <ul class="news__date"><li>28 {january}, 2026</li><li>16:35</li></ul></div>
  <h1 class="section-title">{title}</h1>
  <div class="news-detail__desc">{"".join(f"<p>{p}</p>" for p in paragraphs)}</div>
  <div class="news-detail__tags">{"".join(f'<a href="/tag/{t}/">{t}</a>' for t in tags)}</div>
  <div class="news-detail__photos"><figure><img src="/uploads/{slug}.jpg"><figcaption>Photo</figcaption></figure></div>
  <div class="news-detail__other-langs">{others}</div>
</div></body></html>"""
    return html, f"https://report.az/{prefix}{segment}/{slug}/"


def article(slug: str, lang: str = "en", body: str = "SOCAR and CITIC explored joint ventures.",
            crawled_at: str = "2026-01-28T17:00:00Z", title: str | None = None) -> ArticleItem:
    html, url = page(lang, slug, title or f"Story {slug}", [body, "The meeting was held in Baku."], ["SOCAR"])
    extraction = extract_article(html, url, crawled_at=crawled_at)
    assert extraction.item is not None, extraction.problems
    return extraction.item


class ItemsSpider(scrapy.Spider):
    """Yields the items it is given (-a items=...) from a callback, as newsbot's spiders do.

    (Not from start(): Scrapy 2.19 never finishes closing a spider asked to close while it is
    still taking items from start(); CLOSESPIDER_ITEMCOUNT shows the same.)
    """

    name = "items"

    async def start(self):
        yield scrapy.Request("data:,", callback=self.parse_items)

    def parse_items(self, response):
        yield from self.items


def settings(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    return {"ITEM_PIPELINES": PIPELINES, "NEWSBOT_DB": str(tmp_path / "news.sqlite"), "NEWSBOT_JSONL": "",
            "NEWSBOT_DB_BATCH_SIZE": 200, "NEWSBOT_DB_TIMEOUT": 5.0, "LOG_LEVEL": "DEBUG", **overrides}


async def crawl(settings_dict: dict[str, Any], items: list, **spider_args: Any) -> Crawler:
    crawler = get_crawler(ItemsSpider, settings_dict)
    await crawler.crawl(items=items, **spider_args)
    return crawler


def stat(crawler: Crawler, key: str) -> int:
    return crawler.stats.get_value(key, 0)


def rows(path: Path, query: str, *params: Any) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(query, params).fetchall()


@pytest_twisted.ensureDeferred
async def test_new_duplicate_unchanged_and_updated_are_told_apart_across_runs(tmp_path):
    db, jsonl = tmp_path / "news.sqlite", tmp_path / "news.jsonl"
    config = settings(tmp_path, NEWSBOT_JSONL=str(jsonl))
    a, b = article("story-a"), article("story-b", body="A pipeline deal was signed.")

    first = await crawl(config, [a, b, article("story-a")], lang="en")
    assert stat(first, "finish_reason") == "finished"
    assert (stat(first, "newsbot/store/inserted"), stat(first, "newsbot/items/duplicate")) == (2, 1)
    assert stat(first, "item_scraped_count") == 2
    with Store(db, readonly=True) as store:
        assert store.count_articles() == 2

    later = "2026-01-29T09:00:00Z"
    second = await crawl(config, [article("story-a", crawled_at=later),
                                  article("story-b", body="A refinery deal was signed.", crawled_at=later),
                                  article("story-c", "ru", body="Компания подписала соглашение.", crawled_at=later)])
    # The store alone decides new, updated or unchanged; every item goes through (no drop for
    # unchanged ones), and the JSON Lines journal gets only what the store kept.
    assert {k: stat(second, f"newsbot/store/{k}") for k in ("inserted", "updated", "unchanged")} == {
        "inserted": 1, "updated": 1, "unchanged": 1}
    assert stat(second, "newsbot/items/duplicate") == 0
    assert stat(second, "item_scraped_count") == 3

    with Store(db, readonly=True) as store:
        stored = {x["url"]: x for x in store.iter_articles()}
        assert len(stored) == 3
        assert stored[b["url"]]["body"].startswith("A refinery deal")
        assert [r["url"] for r in store.search("refinery")] == [b["url"]] and not store.search("pipeline")
        assert [r["url"] for r in store.search("компания")] == ["https://report.az/ru/energetika/story-c/"]
    # The unchanged article was seen again (last_crawled_at) but is still its first crawl.
    assert rows(db, "SELECT crawled_at, last_crawled_at, revision FROM articles WHERE url = ?", a["url"]) == [
        ("2026-01-28T17:00:00Z", later, 1)]
    assert rows(db, "SELECT revision, body FROM article_revisions ORDER BY revision") == [
        (1, "A pipeline deal was signed.\n\nThe meeting was held in Baku."),
        (2, "A refinery deal was signed.\n\nThe meeting was held in Baku.")]
    # Both runs are on record, with their arguments, counts and close reason.
    runs = rows(db, "SELECT spider, arguments, finish_reason, items_scraped, items_new, items_updated, "
                    "items_unchanged, items_duplicate, items_dropped, settings FROM crawl_runs ORDER BY run_id")
    assert [r[:9] for r in runs] == [
        ("items", '{"lang": "en"}', "finished", 2, 2, 0, 0, 1, 1),
        ("items", "{}", "finished", 3, 1, 1, 1, 0, 0)]
    assert json.loads(runs[0][9])["NEWSBOT_DB_BATCH_SIZE"] == 200
    # The JSON Lines log has what each run kept: 2 + 2 lines, appended.
    assert [json.loads(line)["url"] for line in jsonl.read_text("utf-8").splitlines()] == [
        a["url"], b["url"], b["url"], "https://report.az/ru/energetika/story-c/"]


@pytest_twisted.ensureDeferred
async def test_invalid_items_are_dropped_with_a_reason_and_a_count(tmp_path, caplog):
    good = make_item(1)
    undated = make_item(2, published_at="", published_at_utc="", site_id=None)
    bad = [
        make_item(3, title=""),
        make_item(4, language="tr"),
        make_item(5, url="/en/energy/story-5/"),
        make_item(6, word_count="12"),
        make_item(7, tags="SOCAR, energy"),
        {k: v for k, v in dict(make_item(8)).items() if k != "body"},
        make_item(9, images=[{"url": "uploads/x.jpg", "caption": ""}]),
        make_item(10, content_hash="not-a-hash"),
        make_item(11, site_id="2844552"),
    ]
    with caplog.at_level(logging.WARNING):
        crawler = await crawl(settings(tmp_path, ITEM_PIPELINES={
            "newsbot.pipelines.validate.ValidationPipeline": 100}), [good, undated, *bad])
    assert stat(crawler, "item_scraped_count") == 2
    assert stat(crawler, "item_dropped_count") == len(bad)
    assert {k.split("/")[-1]: v for k, v in crawler.stats.get_stats().items()
            if k.startswith("newsbot/dropped/")} == {
        "invalid_title": 1, "invalid_language": 1, "invalid_url": 1, "invalid_word_count": 1,
        "invalid_tags": 1, "invalid_body": 1, "invalid_images": 1, "invalid_content_hash": 1, "invalid_site_id": 1}
    # Each is a page the crawl meant to store and did not: lost, and named at close.
    assert stat(crawler, "newsbot/lost/invalid") == stat(crawler, "newsbot/lost") == len(bad)
    assert f"Lost {len(bad)} article page(s): {len(bad)} invalid" in caplog.text
    assert "Invalid article https://report.az/en/energy/story-3/: bad or missing title" in caplog.text


def test_site_id_is_optional_but_a_present_one_is_a_positive_int():
    assert problems(make_item(1)) == [] and isinstance(make_item(1)["site_id"], int)
    assert problems(make_item(1, site_id=None)) == []
    assert problems({k: v for k, v in dict(make_item(1)).items() if k != "site_id"}) == []  # absent: fine too
    for bad in ("123", True, False, 0, -2844552, 2844552.0):
        assert problems(make_item(1, site_id=bad)) == ["site_id"], bad


@pytest_twisted.ensureDeferred
async def test_rows_are_committed_in_batches_and_the_rest_at_close(tmp_path):
    db = tmp_path / "news.sqlite"
    committed: list[int] = []
    reader: list[Store] = []

    def item_scraped(item, response, spider):
        # What another process could read while items go through the pipelines: the writer
        # thread commits whole batches, never part of one.
        if not reader:
            reader.append(Store(db, readonly=True))
        committed.append(reader[0].count_articles())

    crawler = get_crawler(ItemsSpider, settings(tmp_path, NEWSBOT_DB_BATCH_SIZE=3, CONCURRENT_ITEMS=1))
    crawler.signals.connect(item_scraped, signal=signals.item_scraped)
    await crawler.crawl(items=[make_item(n) for n in range(7)])
    assert len(committed) == 7 and committed == sorted(committed)
    assert set(committed) <= {0, 3, 6}
    assert reader[0].count_articles() == 7
    assert stat(crawler, "newsbot/store/transactions") == 3
    assert stat(crawler, "newsbot/store/inserted") == 7
    reader[0].close()


@pytest_twisted.ensureDeferred
async def test_a_writer_held_up_by_a_lock_holds_the_crawl_back_instead_of_queueing_items(tmp_path):
    db = tmp_path / "news.sqlite"
    with Store(db):
        pass
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    scraped_at: list[float] = []
    released_at: list[float] = []

    def release():
        released_at.append(time.monotonic())
        holder.execute("COMMIT")

    def item_scraped(item, response, spider):
        scraped_at.append(time.monotonic())
        if len(scraped_at) == 1:  # another writer takes the lock for a second
            holder.execute("BEGIN IMMEDIATE")
            threading.Timer(1.0, release).start()

    crawler = get_crawler(ItemsSpider, settings(tmp_path, NEWSBOT_DB_BATCH_SIZE=2, NEWSBOT_DB_TIMEOUT=10.0,
                                                CONCURRENT_ITEMS=1))
    crawler.signals.connect(item_scraped, signal=signals.item_scraped)
    await crawler.crawl(items=[make_item(n) for n in range(10)])
    holder.close()
    # Batch 1 (items 0-1) waits on the lock in the writer; batch 2 (items 2-3) queues behind it;
    # item 3 then waits for the writer: only items 0-2 got through while the lock was held.
    assert sum(t < released_at[0] for t in scraped_at) == 3
    assert stat(crawler, "finish_reason") == "finished"
    assert stat(crawler, "newsbot/store/inserted") == 10 and stat(crawler, "newsbot/store/transactions") == 5
    assert rows(db, "SELECT count(*) FROM articles") == [(10,)]


class SlowItemsSpider(ItemsSpider):
    """Yields its items with a pause after each, as a crawl of a slow site does."""

    name = "slow_items"

    async def parse_items(self, response):
        for item in self.items:
            yield item
            await asyncio.sleep(0.4)


@pytest_twisted.ensureDeferred
async def test_a_slow_crawl_commits_what_waited_flush_interval_seconds_without_a_full_batch(tmp_path):
    db = tmp_path / "news.sqlite"
    committed: list[int] = []

    def item_scraped(item, response, spider):
        if db.exists():
            committed.append(rows(db, "SELECT count(*) FROM articles")[0][0])

    crawler = get_crawler(SlowItemsSpider, settings(tmp_path, NEWSBOT_DB_BATCH_SIZE=1000,
                                                    NEWSBOT_DB_FLUSH_INTERVAL=0.3))
    crawler.signals.connect(item_scraped, signal=signals.item_scraped)
    await crawler.crawl(items=[make_item(n) for n in range(5)])
    # Each item had a flush interval to be committed before the next one came.
    assert committed[1:] == [1, 2, 3, 4]
    assert stat(crawler, "newsbot/store/inserted") == 5
    assert stat(crawler, "newsbot/store/transactions") == 5


@pytest_twisted.ensureDeferred
async def test_an_unusable_store_stops_the_crawl_as_store_unavailable(tmp_path, caplog):
    newer = tmp_path / "newer.sqlite"
    with Store(newer):
        pass
    rows(newer, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for path, message in ((newer, "newer than this newsbot understands"),
                          (blocker / "news.sqlite", "Cannot create the directory")):
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            crawler = await crawl(settings(tmp_path, NEWSBOT_DB=str(path)), [make_item(1)])
        assert stat(crawler, "finish_reason") == "store_unavailable"
        assert stat(crawler, "item_scraped_count") == 0
        assert message in caplog.text and "store is unavailable" in caplog.text


@pytest_twisted.ensureDeferred
async def test_a_store_locked_beyond_the_timeout_stops_the_crawl_and_says_what_was_not_stored(tmp_path, caplog):
    db = tmp_path / "news.sqlite"
    with Store(db):
        pass
    holder = sqlite3.connect(db, isolation_level=None)

    def lock_after_first(item, response, spider):
        if not holder.in_transaction:
            holder.execute("BEGIN IMMEDIATE")  # another writer takes the lock and keeps it

    crawler = get_crawler(ItemsSpider, settings(tmp_path, NEWSBOT_DB_BATCH_SIZE=2, NEWSBOT_DB_TIMEOUT=0.05,
                                                CONCURRENT_ITEMS=1))
    crawler.signals.connect(lock_after_first, signal=signals.item_scraped)
    with caplog.at_level(logging.ERROR):
        await crawler.crawl(items=[make_item(n) for n in range(50)])
    holder.execute("COMMIT")
    holder.close()
    assert stat(crawler, "finish_reason") == "store_unavailable"
    assert "stayed locked by another writer: gave up after 4 attempts" in caplog.text
    # What it could not store is counted and said, not silently lost.
    scraped = stat(crawler, "item_scraped_count")
    assert scraped >= 2 and stat(crawler, "newsbot/store/unsaved") == scraped
    assert f"{scraped} items were not stored" in caplog.text
    with Store(db, readonly=True) as store:
        assert store.count_articles() == 0


def jsonl_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def assert_journal_is_the_store(jsonl: Path, db: Path) -> None:
    """The JSON Lines journal has each stored article exactly once, as the store has it (none edited here)."""
    lines = jsonl_lines(jsonl)
    with Store(db, readonly=True) as store:
        stored = [{field: a[field] for field in ITEM_FIELDS} for a in store.iter_articles()]
    assert len({line["article_id"] for line in lines}) == len(lines), "an article twice in the file"
    assert sorted(lines, key=lambda r: r["article_id"]) == sorted(stored, key=lambda r: r["article_id"])


@pytest_twisted.ensureDeferred
async def test_site_id_goes_through_every_pipeline_to_json_lines_and_the_store(tmp_path):
    db, jsonl = tmp_path / "news.sqlite", tmp_path / "news.jsonl"
    items = [make_item(1), make_item(2, site_id=None)]
    crawler = await crawl(settings(tmp_path, NEWSBOT_JSONL=str(jsonl)), items)
    assert stat(crawler, "item_scraped_count") == 2
    records = jsonl_lines(jsonl)
    assert [list(r) for r in records] == [list(ArticleItem.fields)] * 2
    assert records == [dict(i) for i in items]
    assert [r["site_id"] for r in records] == [items[0]["site_id"], None]
    with Store(db, readonly=True) as store:
        assert [{field: a[field] for field in ITEM_FIELDS} for a in store.iter_articles()] == records
    assert rows(db, "SELECT typeof(site_id) FROM articles ORDER BY id") == [("integer",), ("null",)]


@pytest_twisted.ensureDeferred
async def test_json_lines_are_utf8_in_field_order_at_a_templated_path(tmp_path):
    item = article("story-x", "az", body="SOCAR Çin şirkəti ilə birgə müəssisə yaradır.",
                   title="SOCAR Çin şirkəti ilə")
    template = str(tmp_path / "out" / "%(name)s" / "%(name)s-%(time)s-%(_job)s.jsonl")
    crawler = await crawl(settings(tmp_path, NEWSBOT_JSONL=template, NEWSBOT_DB=""), [item], _job="job7")
    [written] = list((tmp_path / "out" / "items").glob("items-*-job7.jsonl"))
    assert re.fullmatch(r"items-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\+00-00-job7\.jsonl", written.name)
    raw = written.read_bytes()
    assert "şirkəti".encode("utf-8") in raw and b"\\u" not in raw
    [record] = jsonl_lines(written)
    assert list(record) == list(ArticleItem.fields)
    assert record == dict(item)
    assert stat(crawler, "newsbot/jsonl/items") == 1


@pytest_twisted.ensureDeferred
async def test_json_lines_work_alongside_feeds_without_duplicating_them(tmp_path):
    jsonl, feed = tmp_path / "log.jsonl", tmp_path / "feed.json"
    items = [make_item(1), make_item(2)]
    await crawl(settings(tmp_path, NEWSBOT_JSONL=str(jsonl), FEEDS={str(feed): {"format": "json"}}), items)
    assert [r["url"] for r in jsonl_lines(jsonl)] == [i["url"] for i in items]
    assert [r["url"] for r in json.loads(feed.read_text("utf-8"))] == [i["url"] for i in items]


KILLED_WRITER = """
import os, sys
sys.path.insert(0, {root!r})
import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from tests.test_store import make_item

class Endless(scrapy.Spider):
    name = "endless"

    async def start(self):
        yield scrapy.Request("data:,", callback=self.parse_items)

    def parse_items(self, response):
        n = 0
        while True:
            n += 1
            # Lines of ~1.2 KB: a buffered writer would be holding several back.
            yield make_item(n, body="Uzun mətn şirkəti. " * (1 + n % 10))

progress = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
def item_scraped(item, response, spider):  # after every pipeline: its line was written
    os.write(progress, b".")

process = CrawlerProcess({{"ITEM_PIPELINES": {{"newsbot.pipelines.jsonlines.JsonLinesPipeline": 800}},
                           "NEWSBOT_JSONL": sys.argv[1], "CONCURRENT_ITEMS": 1, "LOG_LEVEL": "ERROR"}})
crawler = process.create_crawler(Endless)
crawler.signals.connect(item_scraped, signal=signals.item_scraped)
process.crawl(crawler)
process.start()
"""


@pytest_twisted.ensureDeferred
async def test_a_killed_crawl_keeps_every_line_it_wrote_and_a_resumed_one_appends(tmp_path, caplog):
    path, progress, script = tmp_path / "killed.jsonl", tmp_path / "progress", tmp_path / "writer.py"
    script.write_text(KILLED_WRITER.format(root=str(ROOT)), encoding="utf-8")  # a file: Scrapy reads callbacks' source
    writer = subprocess.Popen([sys.executable, str(script), str(path), str(progress)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (progress.exists() and progress.stat().st_size >= 150):
            assert writer.poll() is None, writer.stderr.read().decode()
            assert time.monotonic() < deadline, "the writer did not get going"
            time.sleep(0.02)
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.wait()
    assert writer.returncode == -signal.SIGKILL
    reported = progress.stat().st_size  # items that had gone through the pipeline before the kill
    raw = path.read_bytes()
    complete, _, tail = raw.rpartition(b"\n")
    records = [json.loads(line) for line in complete.decode("utf-8").split("\n")]
    # Nothing that went through the pipeline was lost (no buffering), and every whole line parses.
    assert len(records) >= reported >= 150
    assert [r["url"] for r in records] == [make_item(n)["url"] for n in range(1, len(records) + 1)]
    # The kernel may cut a large write() short when SIGKILL lands mid-copy: then the file ends in
    # the start of the next record, without a newline. Nothing else can be damaged.
    assert not tail or tail.startswith(b'{"url": ')

    # A resumed crawl drops that fragment and continues the same file.
    with caplog.at_level(logging.WARNING):
        await crawl(settings(tmp_path, NEWSBOT_JSONL=str(path), NEWSBOT_DB=""), [make_item(9001), make_item(9002)])
    resumed = jsonl_lines(path)
    assert resumed == records + [json.loads(json.dumps(dict(make_item(n)))) for n in (9001, 9002)]
    assert ("ended in a partial line" in caplog.text) == bool(tail)


@pytest_twisted.ensureDeferred
async def test_a_partial_last_line_is_removed_before_appending(tmp_path, caplog):
    path = tmp_path / "partial.jsonl"
    whole = json.dumps(dict(make_item(1)), ensure_ascii=False) + "\n"
    path.write_text(whole + whole[:40], encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        await crawl(settings(tmp_path, NEWSBOT_JSONL=str(path), NEWSBOT_DB=""), [make_item(2)])
    assert [r["url"] for r in jsonl_lines(path)] == [make_item(1)["url"], make_item(2)["url"]]
    assert "ended in a partial line (40 bytes)" in caplog.text


KILLED_IN_A_TRANSACTION = """
import os, signal, sys
sys.path.insert(0, {root!r})
import scrapy
from scrapy.crawler import CrawlerProcess
from newsbot.pipelines import jsonlines
from tests.test_store import make_item

appended = 0
real_append = jsonlines.JsonLinesFile.append

def append_then_die(self, records):
    # The worst moment for the journal: lines written, their transaction not committed.
    global appended
    size = real_append(self, records)
    appended += 1
    if appended == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return size

jsonlines.JsonLinesFile.append = append_then_die


class Sixty(scrapy.Spider):
    name = "sixty"

    async def start(self):
        yield scrapy.Request("data:,", callback=self.parse_items)

    def parse_items(self, response):
        for n in range(1, 61):
            yield make_item(n)

process = CrawlerProcess({{"ITEM_PIPELINES": {pipelines!r}, "NEWSBOT_DB": sys.argv[1], "NEWSBOT_JSONL": sys.argv[2],
                           "NEWSBOT_DB_BATCH_SIZE": 20, "LOG_LEVEL": "ERROR"}})
process.crawl(Sixty)
process.start()
"""


@pytest_twisted.ensureDeferred
async def test_a_crawl_killed_between_journal_and_commit_leaves_each_article_once(tmp_path, caplog):
    db, jsonl, script = tmp_path / "news.sqlite", tmp_path / "news.jsonl", tmp_path / "killed.py"
    script.write_text(KILLED_IN_A_TRANSACTION.format(root=str(ROOT), pipelines=PIPELINES), encoding="utf-8")
    killed = subprocess.run([sys.executable, str(script), str(db), str(jsonl)], capture_output=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    stored = rows(db, "SELECT count(*) FROM articles")[0][0]
    on_file = len(jsonl_lines(jsonl))
    assert (stored, on_file) == (40, 60)  # two batches committed, the third's lines written, not stored

    with caplog.at_level(logging.WARNING):
        crawler = await crawl(settings(tmp_path, NEWSBOT_DB=str(db), NEWSBOT_JSONL=str(jsonl),
                                       NEWSBOT_DB_BATCH_SIZE=20), [make_item(n) for n in range(1, 61)])
    assert "never committed" in caplog.text
    assert stat(crawler, "newsbot/jsonl/cut") == 20
    lines = jsonl_lines(jsonl)
    assert [r["url"] for r in lines] == [make_item(n)["url"] for n in range(1, 61)]
    assert (stat(crawler, "newsbot/store/inserted"), stat(crawler, "newsbot/store/unchanged")) == (20, 40)
    assert stat(crawler, "newsbot/jsonl/items") == 20
    assert rows(db, "SELECT count(*) FROM articles")[0][0] == 60
    assert rows(db, "SELECT size FROM journal_files") == [(jsonl.stat().st_size,)]


@pytest_twisted.ensureDeferred
async def test_lines_of_a_writer_killed_before_its_commit_are_cut_by_the_other_writer_of_the_file(tmp_path, caplog):
    # Two crawls share a store and its journal. One is killed after appending a batch and before
    # committing it, while the other has the file open; the other's next commit must not keep
    # those lines as if they were its own (the next trim could no longer tell them apart).
    db, jsonl, script = tmp_path / "news.sqlite", tmp_path / "news.jsonl", tmp_path / "killed.py"
    script.write_text(KILLED_IN_A_TRANSACTION.format(root=str(ROOT), pipelines=PIPELINES), encoding="utf-8")
    killed = []

    def after_the_kill(items: list) -> Any:
        # Run from the crawl's callback: the journal is open, nothing of this crawl written yet.
        killed.append(subprocess.run([sys.executable, str(script), str(db), str(jsonl)], capture_output=True,
                                     timeout=120))
        yield from items

    with caplog.at_level(logging.WARNING):
        # The same site: half of these are the killed batch's articles.
        crawler = await crawl(settings(tmp_path, NEWSBOT_DB=str(db), NEWSBOT_JSONL=str(jsonl),
                                       NEWSBOT_DB_BATCH_SIZE=20),
                              after_the_kill([make_item(n) for n in range(41, 101)]))
    assert killed[0].returncode == -signal.SIGKILL, killed[0].stderr.decode()[-2000:]
    assert stat(crawler, "finish_reason") == "finished"
    assert rows(db, "SELECT count(*) FROM articles")[0][0] == 100
    assert_journal_is_the_store(jsonl, db)
    assert stat(crawler, "newsbot/jsonl/cut") == 20
    assert "cut 20 lines" in caplog.text
    assert rows(db, "SELECT size FROM journal_files") == [(jsonl.stat().st_size,)]


@pytest_twisted.ensureDeferred
async def test_a_file_damaged_before_v5_loses_its_uncommitted_lines_mid_file_once(tmp_path, caplog):
    # Before v5 a crawl could commit past another's uncommitted lines, so they stayed mid-file: a
    # version never stored, and a killed crawl's copy of an article another crawl then stored.
    db, jsonl = tmp_path / "news.sqlite", tmp_path / "news.jsonl"
    run = settings(tmp_path, NEWSBOT_DB=str(db), NEWSBOT_JSONL=str(jsonl), NEWSBOT_DB_BATCH_SIZE=20)
    await crawl(run, [make_item(n) for n in range(1, 61)])
    committed = jsonl.read_text("utf-8").splitlines(keepends=True)
    never_stored = json.dumps({**json.loads(committed[19]), "title": "An edit never stored",
                               "content_hash": "f" * 64}) + "\n"
    damaged = [*committed[:5], committed[30], *committed[5:25], never_stored, *committed[25:]]
    jsonl.write_text("".join(damaged), "utf-8")
    with sqlite3.connect(db) as conn:  # as a v5 store left it: the file's size committed, never checked
        conn.execute("UPDATE journal_files SET size = ?, verified = 0", (jsonl.stat().st_size,))

    with caplog.at_level(logging.WARNING):
        crawler = await crawl(run, [make_item(n) for n in range(1, 61)])
    assert stat(crawler, "newsbot/jsonl/cut") == 2
    assert "cut 2 lines mid-file" in caplog.text
    assert jsonl.read_text("utf-8").splitlines(keepends=True) == committed  # each once, in the order written
    assert_journal_is_the_store(jsonl, db)
    assert rows(db, "SELECT size, verified FROM journal_files") == [(jsonl.stat().st_size, 1)]

    caplog.clear()
    with caplog.at_level(logging.WARNING):  # checked once: the next crawl reads no line of it
        again = await crawl(run, [make_item(n) for n in range(1, 61)])
    assert not stat(again, "newsbot/jsonl/cut") and "mid-file" not in caplog.text
