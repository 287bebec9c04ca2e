"""`scrapy crawl`, but exiting 1 when the crawl was broken.

Scrapy's own command exits 0 whatever happened; cron, systemd and CI need
the exit status to notice a crawl that extracted nothing or degraded.
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from newsbot.reasons import exit_code


class Command(ScrapyCrawlCommand):
    def _create_crawler(self, spname):
        self.crawler = super()._create_crawler(spname)
        return self.crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        crawler = getattr(self, "crawler", None)
        reason = crawler.stats.get_value("finish_reason") if crawler and crawler.stats else None
        if crawler and crawler.spider is None:
            self.exitcode = 1
        else:
            self.exitcode = exit_code(reason) or self.exitcode
