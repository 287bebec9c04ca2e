"""How report.az says "not you" (REPORT_AZ.md, "Blocking and encoding"): 403/429, a site-wide block
that bursts trigger, or a challenge page (often a 200) with none of the site's markup, only Cloudflare's."""

from __future__ import annotations

# Statuses that, answered in a row, mean the site (its WAF) refuses the crawler.
BLOCK_STATUSES = frozenset({403, 429})
# Cloudflare's interstitials ("Attention Required!", "Just a moment..."), challenge script, cf-chl-* names.
CHALLENGE_MARKERS = (b"Attention Required", b"Just a moment", b"cf-chl", b"cf_chl_", b"challenge-platform")
# Class names every page of the site carries somewhere (cards, article head and body, both designs):
# a page with one of them is the site's, whatever its text says.
SITE_MARKS = (b"news__", b"index-post-block", b"news-detail", b"editor-body", b"news-title", b"section-title")


def is_challenge(body: bytes) -> bool:
    """A WAF challenge page rather than a page of the site."""
    # The site's marks first: one comes early on every page of it, while a marker's absence takes the body.
    return not any(m in body for m in SITE_MARKS) and any(m in body for m in CHALLENGE_MARKERS)
