"""`scrapy crawl` with an exit status cron, systemd and CI can act on (Scrapy's own is 0 whatever
happened): 1 when the crawl was broken or killed (newsbot.outcome), 2 and one line for a bad argument."""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.settings import BaseSettings
from scrapy.spiderloader import get_spider_loader

from newsbot.commands.common import usage_error
from newsbot.outcome import exit_status


def check_spider_arguments(command: str, settings: BaseSettings, spidercls: type, spargs: dict) -> None:
    """The one line and exit 2 for a bad -a argument of `spidercls` (or a bad setting it reads)."""
    check = getattr(spidercls, "check_arguments", None)
    if check is None:
        return
    try:
        check(settings, **spargs)
    except UsageError as exc:
        usage_error(command, str(exc))


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        # Before the crawler process exists: no log lines, no reactor, no request for a bad argument.
        if len(args) == 1:
            assert self.settings is not None
            loader = get_spider_loader(self.settings)
            try:
                spidercls = loader.load(args[0])
            except KeyError:
                usage_error("crawl", f"no spider named {args[0]!r}; the spiders are {', '.join(sorted(loader.list()))}")
            check_spider_arguments("crawl", self.settings, spidercls, opts.spargs)

    def _create_crawler(self, spname):
        self.crawler = super()._create_crawler(spname)
        return self.crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        crawler = getattr(self, "crawler", None)
        if crawler is None:
            return
        # No outcome when the crawl never started (the spider could not be created).
        status = exit_status(crawler)
        if crawler.spider is None or status is None:
            self.exitcode = 1
        else:
            self.exitcode = status or self.exitcode
