"""Request de-duplication for one process only."""

from __future__ import annotations

from scrapy.dupefilters import RFPDupeFilter
from scrapy.http import Request

from newsbot.memo import KeySet


class InMemoryDupeFilter(RFPDupeFilter):
    """Scrapy's fingerprint filter without its JOBDIR file, and with its fingerprints kept as
    hashes (newsbot.memo.KeySet: a small part of what Scrapy's set of 20-byte bytes objects takes).

    That file is flushed lazily, so after a SIGKILL it can list requests whose items never reached
    the store, and a resumed crawl would skip them for good. Here a resumed crawl re-walks its
    listings and the store (not a seen-set) decides what is left to fetch.
    """

    def __init__(self, path: str | None = None, debug: bool = False, **kwargs):
        super().__init__(None, debug, **kwargs)
        self._fingerprints = KeySet()

    def request_seen(self, request: Request) -> bool:
        return not self._fingerprints.add(self._fingerprint(request))

    @property
    def fingerprints(self):
        # Scrapy's (deprecated) hex strings of the fingerprints: only their hashes are kept here.
        raise AttributeError("InMemoryDupeFilter keeps hashes of the fingerprints, not the fingerprints; "
                             "len() of the filter is their number")

    def __len__(self) -> int:
        return len(self._fingerprints)
