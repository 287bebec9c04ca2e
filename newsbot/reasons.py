"""Close reasons and what `scrapy crawl` / `scrapy schedule --wait` exit with, so cron, systemd and CI
notice a crawl whose output cannot be trusted (newsbot.outcome.CrawlOutcome decides which applies)."""

from __future__ import annotations

FINISHED = "finished"
# Every reason here means the crawl was broken: exit status 1.
BROKEN = frozenset({
    "extraction_degraded",      # article pages lost a required field, or an optional one far below the usual
    "too_many_errors",          # more than NEWSBOT_ERROR_THRESHOLD of the pages lost or failed
    "no_listings",              # no listing gave a card: site down or redesigned
    "no_articles",              # none of the pages the article spider was given is an article
    "store_unavailable",        # the SQLite store could not be written
    "output_unavailable",       # the JSON Lines file (NEWSBOT_JSONL) or the page archive (NEWSBOT_ARCHIVE) could not be written
    "blocked",                  # the site refused the crawler: 403/429 or challenge pages in a row
    "site_unreachable",         # no answer at all: DNS failure, connection refused, no route (offline?)
    "category_not_found",       # a requested -a category key is in no category of an edition's navigation
})
# A usage error (bad argument, bad path): Scrapy's own UsageError status.
USAGE_ERROR = 2
# Stopped by Ctrl-C, SIGTERM or Scrapyd's cancel: what it stored is whole, but its work is not done,
# so a scheduler must not count it a success.
SHUTDOWN = "shutdown"
# A crawl stopped before it could close (a second Ctrl-C or SIGTERM): no reason recorded, and its
# outputs may miss what was in flight.
KILLED = 1


def exit_code(reason: str | None) -> int:
    """0 for a crawl that finished or closed for a reason that is no breakage (CLOSESPIDER_*), else 1."""
    return 1 if reason == SHUTDOWN or reason in BROKEN else 0
