"""The raw-page archive (NEWSBOT_ARCHIVE): article pages as fetched, in gzipped WARC files
(docs/archive.md); .writer writes them (ArchiveMiddleware), .reader reads them for `scrapy reextract`."""

from __future__ import annotations

INSTALL_HINT = "pip install -e '.[archive]'"


def require_warcio() -> None:
    """ImportError with the one line that says how to get warcio, if it is missing."""
    try:
        import warcio  # noqa: F401
    except ImportError:
        raise ImportError(f"the WARC archive needs warcio: {INSTALL_HINT}") from None
