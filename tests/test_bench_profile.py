"""bench.profile gives each sampled stack of a crawl to the part of newsbot (or Scrapy) it is in."""

from __future__ import annotations

from bench.profile import SCRAPY, STARTUP, summarise

LOOP = ("<module> (scrapy:6);Command.run (newsbot/commands/crawl.py:52);"
        "AsyncioSelectorReactor.run (twisted/internet/asyncioreactor.py:257);"
        "BaseEventLoop.run_forever (asyncio/base_events.py:607);Handle._run (asyncio/events.py:80)")


def test_each_main_thread_sample_goes_to_the_first_part_its_stack_shows():
    lines = [
        # an article page: its tree, then its fields
        f"{LOOP};CategoryListings.parse_article (newsbot/spiders/category.py:470);"
        "document (newsbot/html.py:108);parse_html (newsbot/html.py:51) 30",
        f"{LOOP};CategoryListings.parse_article (newsbot/spiders/category.py:470);"
        "extract_article (newsbot/loaders.py:220);Page.links (newsbot/evidence.py:429) 50",
        f"{LOOP};CategoryListings.parse_article (newsbot/spiders/category.py:470);Spider.count (x.py:1) 7",
        # a listing's parse belongs to the listing
        f"{LOOP};CategoryListings.parse_listing (newsbot/spiders/category.py:175);"
        "document (newsbot/html.py:102);parse_html_reading (newsbot/html.py:89) 11",
        f"{LOOP};StorePipeline.process_item (newsbot/pipelines/store.py:165) 5",
        f"{LOOP};InMemoryDupeFilter.request_seen (newsbot/dupefilter.py:30);fingerprint (scrapy/utils/request.py:1) 3",
        # a plain download through the lazy Playwright handler is Scrapy's HTTP/1.1 download
        f"{LOOP};LazyPlaywrightDownloadHandler.download_request (newsbot/rendering.py:55);"
        "HTTP11DownloadHandler.download_request (scrapy/core/downloader/handlers/http11.py:140) 13",
        f"{LOOP};callWithLogger (twisted/python/log.py:98) 17",
        # Scrapy loads its download handlers once the loop runs: an import is start-up all the same
        f"{LOOP};LazyPlaywrightDownloadHandler.__init__ (newsbot/rendering.py:40);"
        "_find_and_load (<frozen importlib._bootstrap>:1176);<module> (newsbot/rendering.py:10) 4",
        "<module> (scrapy:6);Command.run (newsbot/commands/crawl.py:52);_find_and_load (<frozen>:1) 2",
        "Thread._bootstrap (threading.py:1002);Store.write_rows (newsbot/store/facade.py:1) 19",
        "garbage without a count",
    ]
    summary = summarise(line + "\n" for line in lines)
    samples = {part: value["samples"] for part, value in summary["parts"].items()}
    assert samples == {
        STARTUP: 6,
        "listings": 11,
        "parse": 30,
        "extraction": 50,
        "article callback, the rest": 7,
        "item pipelines": 5,
        "newsbot, the rest (middlewares, extensions, dupe filter)": 3,
        SCRAPY: 30,
    }
    assert summary["main_thread_samples"] == 142
    assert summary["other_threads_samples"] == 19
    assert summary["parts"]["extraction"]["share"] == round(50 / 142, 3)
