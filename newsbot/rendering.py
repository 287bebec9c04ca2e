"""How listings are rendered in Chromium when their cards only exist after script runs."""

from __future__ import annotations

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
