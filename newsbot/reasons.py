"""Close reasons: why a crawl ended, and what `scrapy crawl` / `scrapy schedule --wait` exit with.

Scrapy's own `scrapy crawl` exits 0 whatever happened; newsbot's commands exit with the code
below for a crawl whose output cannot be trusted, so cron, systemd and CI notice.
"""

from __future__ import annotations

import logging

from scrapy.utils.defer import deferred_from_coro

logger = logging.getLogger("newsbot.extensions")  # the crawl-health log, whoever writes the line

FINISHED = "finished"
# Reason -> exit status. Every reason here means the crawl was broken.
BROKEN: dict[str, int] = {
    "extraction_degraded": 1,   # article pages lost a required field, or an optional one far below the usual
    "too_many_errors": 1,       # most pages failed
    "no_listings": 1,           # no listing gave a card: site down or redesigned
    "no_articles": 1,           # none of the pages the article spider was given is an article
    "store_unavailable": 1,     # the SQLite store could not be written
    "output_unavailable": 1,    # the JSON Lines file (NEWSBOT_JSONL) or the page archive (NEWSBOT_ARCHIVE) could not be written
    "blocked": 1,               # the site refused the crawler: 403/429 or challenge pages in a row
}
BROKEN_REASONS = frozenset(BROKEN)
# A usage error (bad argument, bad path): Scrapy's own UsageError status.
USAGE_ERROR = 2


def exit_code(reason: str | None) -> int:
    """0 for a crawl that finished (or closed for a reason that is not a breakage), else its code."""
    return BROKEN.get(reason or "", 0)


def closing(crawler) -> bool:
    """Whether the crawl is already closing (for any reason: broken, killed, CLOSESPIDER_*)."""
    if getattr(crawler, "_newsbot_broken", None):
        return True
    engine = crawler.engine
    slot = getattr(engine, "_slot", None) if engine is not None else None
    return slot is None or slot.closing is not None


def close_broken(crawler, reason: str, message: str | None = None, *args) -> bool:
    """Close the crawl as broken, with one ERROR line "Crawl is broken (<reason>): <message>" (none
    when message is None: the caller has said what broke).

    False (and nothing logged) when the crawl is already closing: the first reason stands.
    """
    assert reason in BROKEN, reason
    if closing(crawler):
        return False
    if message is not None:
        logger.error("Crawl is broken (%s): " + message, reason, *args)
    crawler._newsbot_broken = reason
    # Nothing more is scheduled from now on; the close itself starts on the event loop's next turn
    # (deferred_from_coro), and waits only for what is already in flight.
    crawler.engine.pause()
    deferred_from_coro(crawler.engine.close_spider_async(reason=reason))
    return True
