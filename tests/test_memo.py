"""The compact in-run sets (newsbot.memo.KeySet) and what keeps them: the dupe filter, the dedupe
pipeline and the spiders' requested url_keys. Each must still say "seen" for a repeat and only then."""

from __future__ import annotations

import logging
import random
import sys

import pytest
import scrapy
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from newsbot.dupefilter import InMemoryDupeFilter
from newsbot.memo import KeySet, TextQueue
from newsbot.normalize import article_id
from newsbot.pipelines.dedupe import DedupePipeline
from newsbot.spiders.category import CategorySpider
from tests.test_store import make_item


def test_a_keyset_answers_as_a_set_of_the_same_keys_through_its_growth():
    rng = random.Random(7)
    keys = [f"/en/news/story-{rng.random()}" for _ in range(20_000)]
    kept, reference = KeySet(), set()
    for key in keys + keys[::3]:
        assert kept.add(key) is (key not in reference)
        reference.add(key)
        assert len(kept) == len(reference)
    assert all(key in kept for key in keys)
    assert not any(f"/az/news/other-{i}" in kept for i in range(20_000))
    assert len(kept) == 20_000


def test_a_text_queue_gives_back_what_it_was_given_in_order_whatever_the_takes():
    rng = random.Random(7)
    queue, expected, got = TextQueue(), [], []
    for batch in range(300):
        values = [f"https://report.az/{batch}/{i}-{'x' * rng.randrange(0, 200)}/" for i in range(rng.randrange(0, 40))]
        queue.extend(values)
        expected += values
        got += queue.take(rng.randrange(0, 30))
        assert len(queue) == len(expected) - len(got)
    got += queue.take(10 ** 9)
    assert got == expected and len(queue) == 0 and queue.take(5) == []
    queue.extend(["", "a"])  # empty strings are strings too
    assert queue.take(1) == [""] and queue.take(3) == ["a"]
    odd = ["a\0b", "\0", "é\u2028ж", "\0\0"]  # no character is kept out of what it holds
    queue.extend(odd[:3])
    queue.extend(odd[3:])
    assert queue.take(2) == odd[:2] and queue.take(5) == odd[2:] and len(queue) == 0


def test_a_text_queue_holds_links_in_a_fraction_of_a_list_of_strings():
    links = [f"https://report.az/en/energy/story-number-{i}-about-oil-and-gas-prices/" for i in range(5000)]
    queue = TextQueue()
    for start in range(0, 5000, 500):
        queue.extend(links[start:start + 500])
    as_list = sys.getsizeof(links) + sum(sys.getsizeof(link) for link in links)
    assert sys.getsizeof(queue) < 0.7 * as_list


def test_a_keyset_takes_bytes_and_the_key_whose_hash_is_zero():
    kept = KeySet([b"\x00" * 20, ""])
    assert hash("") == 0 and "" in kept and b"\x00" * 20 in kept
    assert b"\x01" * 20 not in kept and "x" not in kept
    assert not kept.add("") and len(kept) == 2
    kept.update(["a", "b", "a"])
    assert len(kept) == 4 and repr(kept).startswith("<KeySet of 4 keys")


def test_a_keyset_is_a_fraction_of_a_set_of_the_strings():
    keys = [f"/en/news/economy/a-story-of-about-this-length-{i}" for i in range(50_000)]
    kept = KeySet(keys)
    as_strings = sys.getsizeof(set(keys)) + sum(sys.getsizeof(k) for k in keys)
    assert sys.getsizeof(kept) <= 24 * len(keys) < as_strings / 5


def dupefilter(**settings) -> tuple[InMemoryDupeFilter, scrapy.Spider]:
    crawler = get_crawler(scrapy.Spider, settings)
    return InMemoryDupeFilter.from_crawler(crawler), scrapy.Spider.from_crawler(crawler, name="test")


def test_the_dupefilter_sees_a_request_again_by_its_fingerprint_only():
    df, _ = dupefilter()
    a = scrapy.Request("https://report.az/en/energy/a-story/")
    assert not df.request_seen(a)
    assert df.request_seen(a.replace()) and df.request_seen(scrapy.Request("https://report.az/en/energy/a-story/#top"))
    # Another spelling is another request: a 301 from /x/y/ to /x/y is still followed.
    assert not df.request_seen(scrapy.Request("https://report.az/en/energy/a-story"))
    assert not df.request_seen(scrapy.Request("https://report.az/en/energy/a-story/", method="POST"))
    assert len(df) == 3


def test_the_dupefilter_keeps_scrapys_logging_stats_and_no_jobdir_file(tmp_path, caplog):
    df, spider = dupefilter(DUPEFILTER_DEBUG=True, JOBDIR=str(tmp_path))
    request = scrapy.Request("https://report.az/en/")
    assert not df.request_seen(request) and df.request_seen(request)
    with caplog.at_level(logging.DEBUG, logger="scrapy.dupefilters"):
        df.log(request, spider)
        df.log(request, spider)
    assert [r.getMessage() for r in caplog.records].count(
        "Filtered duplicate request: <GET https://report.az/en/> (referer: None)") == 2
    assert spider.crawler.stats.get_value("dupefilter/filtered") == 2
    df.close("finished")
    assert not list(tmp_path.iterdir())
    with pytest.raises(AttributeError):
        df.fingerprints  # noqa: B018 (Scrapy's hex strings: not kept)


def test_the_dedupe_pipeline_drops_an_article_id_seen_before_only():
    crawler = get_crawler(scrapy.Spider)
    pipeline = DedupePipeline.from_crawler(crawler)
    first, other = make_item(1), make_item(2)
    assert first["article_id"] != other["article_id"]
    assert pipeline.process_item(first) is first and pipeline.process_item(other) is other
    again = first["url"].rstrip("/") if first["url"].endswith("/") else first["url"] + "/"
    for repeat in (make_item(1), make_item(1, url=again, article_id=article_id(again))):
        with pytest.raises(DropItem):
            pipeline.process_item(repeat)
    assert crawler.stats.get_value("newsbot/items/duplicate") == 2 and len(pipeline.seen) == 2


def test_a_spider_requests_a_page_once_under_either_spelling():
    crawler = get_crawler(CategorySpider, {"NEWSBOT_JS_MODE": "never"})
    spider = CategorySpider.from_crawler(crawler)
    assert spider.first_request_for("https://report.az/en/energy/a-story/#share")
    first = spider.article_request("https://report.az/en/energy/a-story/#share")
    assert first.url == "https://report.az/en/energy/a-story/"
    assert not spider.first_request_for("https://report.az/en/energy/a-story")
    assert not spider.first_request_for("http://127.0.0.1:8000/en/energy/a-story/")
    assert spider.first_request_for("https://report.az/en/energy/another-story")
    assert crawler.stats.get_value("newsbot/requests/same_article") == 2
    assert len(spider.requested_keys) == 2
