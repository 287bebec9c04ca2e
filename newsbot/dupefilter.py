"""Request de-duplication for one process only."""

from __future__ import annotations

from scrapy.dupefilters import RFPDupeFilter


class InMemoryDupeFilter(RFPDupeFilter):
    """Scrapy's fingerprint filter without its JOBDIR file.

    That file is flushed lazily, so after a SIGKILL it can list requests whose
    items never reached the store, and a resumed crawl would skip them for
    good. Here a resumed crawl re-walks its listings and the store (not a
    seen-set) decides what is left to fetch.
    """

    def __init__(self, path: str | None = None, debug: bool = False, **kwargs):
        super().__init__(None, debug, **kwargs)
