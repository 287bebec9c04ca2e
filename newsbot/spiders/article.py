"""Re-crawl given articles: scrapy crawl article -a url=URL[,URL...] or -a urls_file=PATH."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, AsyncIterator
from urllib.parse import urljoin

import scrapy

from newsbot import site
from newsbot.spiders.base import NewsbotSpider

logger = logging.getLogger(__name__)


class ArticleSpider(NewsbotSpider):
    name = "article"
    # Asked for by name: always fetched, stored or not.
    incremental = False
    renders_listings = False

    def __init__(self, url: str | None = None, urls_file: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.requested = [u for u in (url or "").replace(",", " ").split() if u]
        if urls_file:
            lines = Path(urls_file).read_text(encoding="utf-8").splitlines()
            self.requested += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
        if not self.requested:
            raise ValueError("give the articles with -a url=URL[,URL...] or -a urls_file=PATH")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for raw in self.requested:
            url = urljoin(self.base_url + "/", raw)
            if site.is_article_url(url):
                yield self.article_request(url, dont_filter=True)
            else:
                self.crawler.stats.inc_value("newsbot/skipped/not_an_article_url")
                logger.error("Not an article URL, skipped: %s", raw)
