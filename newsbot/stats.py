"""The stat keys one part of newsbot writes and another reads: both sides name the constant, so a
renamed key cannot leave a reader at 0."""

from __future__ import annotations

# Scrapy's own (CoreStats).
FINISH_REASON = "finish_reason"

# Pages.
ARTICLE_PAGES = "newsbot/pages/article"  # article pages parsed (an item or not)
ARTICLE_FAILED = "newsbot/pages/article_failed"  # article pages whose download failed
LISTING_PAGES = "newsbot/listing/pages"
LISTING_EMPTY = "newsbot/listing/empty"
LISTING_FAILED = "newsbot/listing/failed"

# The store's verdicts on the crawl's articles (newsbot.pipelines.store, from WriteResult's names).
STORED_NEW = "newsbot/store/inserted"
STORED_UPDATED = "newsbot/store/updated"
STORED_UNCHANGED = "newsbot/store/unchanged"

# Crawl health.
PAGES_JUDGED = "newsbot/article_pages"  # article pages crawl health judged the fill rates by
DEGRADED_PAGES = "newsbot/degraded_pages"  # article pages that lack a required field

# Every page the crawl meant to store and did not, under one of LOSS_REASONS (newsbot.outcome).
LOST = "newsbot/lost"
LOSS_REASONS = frozenset({
    "given_up",          # its download failed after the retries (a 5xx, a timeout, a 404...)
    "truncated",         # cut short on every fetch
    "empty",             # an empty body on every fetch
    "too_large",         # beyond DOWNLOAD_MAXSIZE
    "off_site",          # an article link the site redirected to another host
    "redirect_loop",     # redirected back to itself
    "not_an_article",    # no article in the page (no body, no title, not HTML)
    "extraction_error",  # its parsing raised
    "invalid",           # its item missed a required field or carried a malformed value (newsbot/dropped/invalid_*)
})
# Losses found after the page gave an item (which the outcome counted as kept until then).
AFTER_EXTRACTION = frozenset({"invalid"})
# The exit status the crawl's outcome gave (newsbot.outcome), in the stats the run record keeps.
EXIT_STATUS = "newsbot/exit_status"


def lost(reason: str) -> str:
    return f"{LOST}/{reason}"


def dropped(detail: str) -> str:
    """A page dropped in parsing, by its precise cause (missing_body, truncated...)."""
    return f"newsbot/dropped/{detail}"


def fill_rate(field: str) -> str:
    return f"newsbot/fill_rate/{field}"
