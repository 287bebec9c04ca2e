"""The throughput baseline: a bare Scrapy spider that only downloads a given list of URLs.

    python -m bench.bare --urls FILE --stats OUT.json [--concurrency 16 --per-domain 8]

No project settings, no parsing, no items, no pipelines: Scrapy's plain HTTP
download handler, robots.txt obeyed (one request, as newsbot makes), no delay,
no AutoThrottle, the asyncio reactor. The callback discards the response.

With --parse the callback builds the page's lxml tree as newsbot does (newsbot.html.document)
and reads nothing from it: the cost any spider that reads a page pays, so bare/parse is the
ceiling of a full-stack ratio on pages of this weight.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import scrapy
from scrapy.crawler import CrawlerProcess


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, urls_file: str, parse: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.urls = [u for u in Path(urls_file).read_text(encoding="utf-8").split() if u]
        self.parse_pages = parse

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse, dont_filter=True)

    def parse(self, response):
        if self.parse_pages:
            from newsbot.html import document

            document(response)
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--urls", required=True)
    parser.add_argument("--stats", required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--per-domain", type=int, default=8)
    parser.add_argument("--user-agent", default="newsbot-bench-bare")
    parser.add_argument("--parse", action="store_true", help="build each page's lxml tree, as newsbot does")
    args = parser.parse_args()
    process = CrawlerProcess({
        "CONCURRENT_REQUESTS": args.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": args.per_domain,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": True,
        "USER_AGENT": args.user_agent,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "EXTENSIONS": {"bench.statsfile.StatsFile": 900},
        "BENCH_STATS_FILE": args.stats,
    }, install_root_handler=True)
    process.crawl(BareSpider, urls_file=args.urls, parse=args.parse)
    process.start()


if __name__ == "__main__":
    main()
