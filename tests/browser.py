"""Headless Debian Chromium through Playwright, for tests that look at a page as a user would."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

from newsbot import settings

_T = TypeVar("_T")


def in_browser(work: Callable[[Any], _T]) -> _T:
    """work(browser) with a fresh headless Chromium, launched as the crawler launches it.

    On a thread of its own: Playwright's sync API refuses a thread where an asyncio loop runs,
    and pytest-twisted runs the asyncio reactor's loop on the main thread."""
    def run() -> _T:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(**settings.PLAYWRIGHT_LAUNCH_OPTIONS)
            try:
                return work(browser)
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=180)


def visit(url: str, inspect: Callable[[Any], _T], screenshot: Path | None = None,
          viewport: dict | None = None) -> tuple[_T, list[str]]:
    """Open `url`, wait for the network to settle, return (inspect(page), every URL the page requested)."""
    def work(browser: Any) -> tuple[_T, list[str]]:
        page = browser.new_page(viewport=viewport or {"width": 1100, "height": 900})
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(url, wait_until="networkidle")
        result = inspect(page)
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
        return result, requested

    return in_browser(work)
