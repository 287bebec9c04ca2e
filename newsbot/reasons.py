"""Close reasons: why a crawl ended, and what `scrapy crawl` / `scrapy schedule --wait` exit with.

Scrapy's own `scrapy crawl` exits 0 whatever happened; newsbot's commands exit with the code
below for a crawl whose output cannot be trusted, so cron, systemd and CI notice.
"""

from __future__ import annotations

FINISHED = "finished"
# Reason -> exit status. Every reason here means the crawl was broken.
BROKEN: dict[str, int] = {
    "extraction_degraded": 1,   # article pages lost a required field, or an optional one far below the usual
    "too_many_errors": 1,       # most pages failed
    "no_listings": 1,           # no listing gave a card: site down or redesigned
    "store_unavailable": 1,     # the SQLite store could not be written
}
BROKEN_REASONS = frozenset(BROKEN)
# A usage error (bad argument, bad path): Scrapy's own UsageError status.
USAGE_ERROR = 2


def exit_code(reason: str | None) -> int:
    """0 for a crawl that finished (or closed for a reason that is not a breakage), else its code."""
    return BROKEN.get(reason or "", 0)
