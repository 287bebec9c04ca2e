"""Re-crawl given articles: scrapy crawl article -a url=URL[,URL...] or -a urls_file=PATH."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, AsyncIterator
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from newsbot import site
from newsbot import stats as stats_keys
from newsbot.loaders import Extraction
from newsbot.outcome import closing, report_broken
from newsbot.spiders.base import NewsbotSpider

logger = logging.getLogger(__name__)

# A list of URLs, not a data file: a bigger file is not what the argument is for.
MAX_URLS_FILE_BYTES = 16 * 1024 * 1024


def read_urls_file(path: str) -> list[tuple[int, str]]:
    """(line number, URL text) of each line that is not blank or a # comment; ValueError when unreadable,
    whose message never quotes the file's content: it may be any file the user can read."""
    file = Path(path)
    try:
        if not file.is_file():
            raise ValueError(f"urls_file {path}: {'no such file' if not file.exists() else 'not a regular file'}")
        if file.stat().st_size > MAX_URLS_FILE_BYTES:
            raise ValueError(f"urls_file {path}: larger than {MAX_URLS_FILE_BYTES // (1024 * 1024)} MB")
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"urls_file {path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ValueError(f"urls_file {path}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]


class ArticleSpider(NewsbotSpider):
    name = "article"
    # Asked for by name: always fetched, stored or not.
    incremental = False
    renders_listings = False

    def __init__(self, url: str | None = None, urls_file: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.urls_file = urls_file
        # (its line in urls_file, None for -a url; the text given)
        self.given: list[tuple[int | None, str]] = [(None, u) for u in (url or "").replace(",", " ").split()]
        if urls_file:
            self.given += read_urls_file(urls_file)
        elif urls_file is not None:
            raise ValueError("urls_file: empty path")
        if not self.given:
            raise ValueError("give the articles with -a url=URL[,URL...] or -a urls_file=PATH")
        self.articles = 0  # pages that gave an item

    def configure(self, settings) -> None:
        """Keep the given URLs that are this site's article pages; ValueError when none is."""
        super().configure(settings)
        judged = [(number, raw, self.article_url(raw)) for number, raw in self.given]
        self.requested = [url for *_, url in judged if url]
        skipped_urls = [raw for number, raw, url in judged if not url and number is None]
        skipped_lines = [number for number, _, url in judged if not url and number is not None]
        self.skipped = len(skipped_urls) + len(skipped_lines)
        problems = []
        if skipped_urls:
            problems.append(f"url: not an article URL of {self.base_url}: "
                            + ", ".join(repr(u) for u in skipped_urls[:3])
                            + (f" and {len(skipped_urls) - 3} more" if len(skipped_urls) > 3 else ""))
        if self.urls_file:
            from_file = sum(number is not None for number, _ in self.given) - len(skipped_lines)
            summary = f"urls_file {self.urls_file}: {from_file} article URL{'' if from_file == 1 else 's'}"
            if skipped_lines:
                summary += (f", {len(skipped_lines)} line{'' if len(skipped_lines) == 1 else 's'} skipped"
                            f" (first: line {skipped_lines[0]})")
            if skipped_lines or not from_file:
                problems.append(summary)
        if not self.requested:
            raise ValueError("; ".join(problems) or "no article URL given")
        for problem in problems:
            logger.warning("%s; those are skipped", problem)

    def article_url(self, raw: str) -> str | None:
        """The absolute URL of an article page of the crawled site, else None."""
        url = urljoin(self.base_url + "/", raw)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        host, base_host = parts.hostname.lower(), (urlsplit(self.base_url).hostname or "").lower()
        # The live site's two spellings are one site; the replica (or a mirror) only its own host.
        same_site = host == base_host or (host in site.SITE_HOSTS and base_host in site.SITE_HOSTS)
        return url if same_site and site.is_article_url(url) else None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Connected before the extensions' idle checks (the spider is built first): every page of an
        # article crawl that gave no article is also lost, and "no article" is the reason that says so.
        crawler.signals.connect(spider.judge_when_idle, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.skipped:
            self.crawler.stats.inc_value("newsbot/skipped/not_an_article_url", self.skipped)
        for url in self.requested:
            if self.first_request_for(url):
                yield self.article_request(url, dont_filter=True)

    def record_extraction(self, extraction: Extraction, url: str) -> None:
        super().record_extraction(extraction, url)
        if extraction.item is not None:
            self.articles += 1

    def judge_when_idle(self, spider) -> None:
        """However few pages it was given: a crawl none of whose pages is an article is broken."""
        if self.articles or closing(self.crawler):
            return
        failed = self.crawler.stats.get_value(stats_keys.ARTICLE_FAILED, 0)
        if report_broken(self.crawler, "no_articles", "none of the %d page(s) given is an article (%d failed)",
                         len(self.requested), failed):
            raise DontCloseSpider
