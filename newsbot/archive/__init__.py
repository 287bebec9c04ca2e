"""The raw-page archive (NEWSBOT_ARCHIVE): every article page as fetched, in gzipped WARC files.

WARC is the web archive standard (ISO 28500): any WARC tool (warcio, pywb, ReplayWeb.page, the
Internet Archive's) reads these files, and `scrapy reextract` (newsbot/commands/reextract.py) runs
today's extraction over them to repair the store after a markup fix, without the network.

One file per crawl, `<dir>/<spider>-<UTC time>-<pid>.warc.gz`: a `warcinfo` record, then one
`response` record per article page the spider parsed (listings and feeds are not archived), each
its own gzip member, written with one write() straight to the kernel. A crawl killed with SIGKILL
therefore loses at most the record being written, and the reader (read_archive) keeps every
whole member before a torn one.

A write the disk refuses follows the rules of the other outputs: one ERROR line naming the file,
`newsbot/output_errors/archive`, and the crawl closes as `output_unavailable` (the store still
gets the pages already on their way).

newsbot.archive.writer writes the files (ArchiveMiddleware), newsbot.archive.reader reads them.
"""

from __future__ import annotations

INSTALL_HINT = "pip install -e '.[archive]'"
# Extension fields (WARC allows any WARC-* field): the URL the spider asked for and the redirects
# that led to WARC-Target-URI, so a page reached through a 301 can be told from one linked directly.
REQUEST_URI = "WARC-Newsbot-Request-URI"
REDIRECTS = "WARC-Newsbot-Redirects"


def require_warcio() -> None:
    """ImportError with the one line that says how to get warcio, if it is missing."""
    try:
        import warcio  # noqa: F401
    except ImportError:
        raise ImportError(f"the WARC archive needs warcio: {INSTALL_HINT}") from None
