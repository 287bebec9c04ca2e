"""How listings are rendered in Chromium when their cards only exist after script runs."""

from __future__ import annotations

import asyncio

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod

from newsbot import site

# A listing needs its document and the requests its script makes; pictures, fonts and media only cost time.
_SKIPPED_RESOURCES = frozenset({"image", "media", "font", "stylesheet"})


def abort_request(request) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: skip what cards do not need."""
    return request.resource_type in _SKIPPED_RESOURCES


def scroll_methods(scrolls: int, wait_ms: int = 400) -> list[PageMethod]:
    """Wait for the first cards, then scroll to the bottom `scrolls` times so the page loads older ones."""
    methods = [PageMethod("wait_for_selector", site.CARD, timeout=15_000)]
    for _ in range(scrolls):
        methods += [PageMethod("evaluate", "window.scrollTo(0, document.body.scrollHeight)"),
                    PageMethod("wait_for_timeout", wait_ms)]
    return methods


class LazyPlaywrightDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, with Playwright's driver started by the first request that needs a
    browser, not when the engine starts: in auto mode most crawls never render anything."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        for receiver in ("_maybe_launch_in_thread", "_engine_started"):  # whichever this version connected
            if hasattr(self, receiver):
                crawler.signals.disconnect(getattr(self, receiver), signal=signals.engine_started)
        self._launching: asyncio.Future | None = None

    async def download_request(self, request: Request, *args, **kwargs) -> Response:
        if request.meta.get("playwright"):
            if self._launching is None:
                self._launching = asyncio.ensure_future(self._launch())
            # Shielded: a cancelled first request must not cancel the launch the others wait for.
            await asyncio.shield(self._launching)
        return await super().download_request(request, *args, **kwargs)
