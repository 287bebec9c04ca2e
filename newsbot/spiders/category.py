"""The backfill spider: category listings through their pagination."""

from __future__ import annotations

import logging
from typing import Any, Iterator
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from newsbot import categories, site
from newsbot.normalize import url_key
from newsbot.spiders.base import NewsbotSpider

logger = logging.getLogger(__name__)


class CategoryListings:
    """Discovery and walking of the category listings, for a NewsbotSpider: the `category` spider's
    whole job, and the `sitemap` spider's fallback when the site has no sitemap.

    Category pages are reported to be cumulative on the live site (page N shows every card of pages
    1..N), so each page is judged by the cards it adds to the walk of its category: a page that adds
    none is the end, and "all stored" means the new cards are.
    """

    category_keys: set[str] | None = None

    @property
    def stops_at_stored(self) -> bool:
        return self.since is None and self.until is None

    def wants(self, key: str) -> bool:
        return self.category_keys is None or key in self.category_keys

    def parse_home(self, response: Response, language: str) -> Iterator[scrapy.Request]:
        found, in_nav, nav_urls = {}, 0, {}
        for _label, url in site.find_nav_links(response.selector, response.url):
            path = urlsplit(url).path
            segment = site.category_segment_of_listing(path)
            if not url.startswith(self.base_url) or segment is None or site.language_of_path(path) != language:
                continue
            in_nav += 1
            known = categories.lookup(language, segment)
            key = known.key if known else categories.derived_key(segment, "")
            if self.wants(key) and segment not in found:
                found[segment] = key
                nav_urls[segment] = url  # requested as the navigation writes it
        if not in_nav:
            logger.warning("No category links in the %s navigation; using the known categories", language)
            yield from self.fallback_listings(language)
            return
        self.crawler.stats.inc_value("newsbot/discovery/categories_from_nav", len(found))
        missing = (self.category_keys or set()) - set(found.values())
        for key in sorted(missing):
            # Asked for but not in the navigation: the table may still know the edition's slug.
            segment = categories.segments_for(key).get(language)
            if segment:
                found[segment] = key
        for key in sorted((self.category_keys or set()) - set(found.values())):
            logger.warning("Category %s is not in the %s edition (neither its navigation nor the table)", key, language)
        for segment in found:
            yield self.page_request(language, segment, 1, url=nav_urls.get(segment))

    def fallback_listings(self, language: str) -> Iterator[scrapy.Request]:
        self.crawler.stats.inc_value("newsbot/discovery/category_fallback")
        for category in categories.all_categories():
            if category.language == language and self.wants(category.key):
                yield self.page_request(language, category.segment, 1)

    def page_request(self, language: str, segment: str, page: int, url: str | None = None,
                     guessed: bool = False) -> scrapy.Request:
        url = url or self.edition(language).category_url(segment, page)
        request = self.listing_request(url, self.parse_listing, language, page, segment=segment)
        request.meta["guessed_page"] = guessed
        return self.rendered(request) if self.js_mode == "always" else request

    def listing_failed(self, failure: Failure) -> None:
        if (failure.check(HttpError) and failure.value.response.status == 404
                and failure.request.meta.get("guessed_page")):
            # Without pagination markup the next page is a guess; its 404 is the end.
            self.crawler.stats.inc_value("newsbot/listing/end_by_404")
            return
        super().listing_failed(failure)

    def new_cards(self, language: str, segment: str, cards: list[site.Card]) -> list[site.Card]:
        """The cards this page adds to its category's walk in this run (all of them on a page that
        repeats none); the repeats of a cumulative page are counted, not judged again."""
        walks = self.__dict__.setdefault("_category_walks", {})
        seen = walks.setdefault((language, segment), set())
        new = [c for c in cards if url_key(c.url) not in seen]
        seen.update(url_key(c.url) for c in new)
        if len(new) < len(cards):
            self.crawler.stats.inc_value("newsbot/cards/repeated", len(cards) - len(new))
        return new

    def parse_listing(self, response: Response, language: str, page: int, segment: str) -> Iterator[Any]:
        cards, first = self.read_listing(response)
        yield from first
        if not cards:
            return
        cards = self.new_cards(language, segment, cards)
        if not cards:
            # Nothing this walk has not seen: past the end (or a site that ignores /page/N).
            self.crawler.stats.inc_value("newsbot/listing/end_no_new_cards")
            return
        wanted, passed_since, all_stored = self.triage_cards(cards)
        yield from self.article_requests(wanted)
        if passed_since or (all_stored and self.stops_at_stored) or (self.max_pages and page >= self.max_pages):
            return
        next_url = site.next_page_url(response.selector, response.url)
        if next_url:
            yield self.page_request(language, segment, page + 1, url=next_url)
        elif not site.has_pagination(response.selector):
            yield self.page_request(language, segment, page + 1, guessed=True)


class CategorySpider(CategoryListings, NewsbotSpider):
    """scrapy crawl category [-a category=energy,finance] [-a lang=en] [-a since=2025-01-01 -a until=2025-06-30]
    [-a max_pages=N] [-a refresh=1]

    Categories come from each edition's navigation (the table's known slugs as
    fallback) and are chosen by their language-independent key. With since or
    until it is a backfill of that window: pages of already-stored cards do not
    stop it. Without them it stops at the first page whose new cards are all stored.
    """

    name = "category"

    def __init__(self, category: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.category_keys = {c.strip() for c in (category or "").split(",") if c.strip()} or None
        known = {c.key for c in categories.all_categories()}
        unknown = sorted((self.category_keys or set()) - known)
        if unknown:
            raise ValueError(f"category: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                             f"the keys are {', '.join(sorted(known))}")
