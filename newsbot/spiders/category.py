"""The backfill spider, and the category walks it shares with the sitemap spider's fallback."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from newsbot import site
from newsbot.site import categories
from newsbot.html import document
from newsbot.loaders import extract_article
from newsbot.memo import KeySet
from newsbot.navigation import Cards, CategoryWalk, Decision, Fetch, Navigator, Shown
from newsbot.normalize import url_key
from newsbot.outcome import report_broken
from newsbot.spiders.base import NewsbotSpider, failure_reason

logger = logging.getLogger(__name__)


# Meta key of the request for the page after the probe walk's last one (what the site answers there).
PAST_END_PROBE = "newsbot_past_end_probe"
# Articles read off page 1 of a navigation category nothing knows, to learn its key from their
# linked editions: one may be a story of that edition alone.
PROBE_CARDS = 2


@dataclass
class Probes:
    """One edition's search for requested keys among its navigation's unknown categories."""

    missing: set[str]       # requested keys not found yet
    seen: list[str]         # every category segment its navigation shows
    pending: int            # probe requests not answered yet
    started: set[str] = field(default_factory=set)  # segments found to be a requested key


class CategoryWalks:
    """Discovery and walks of the category listings, a component a spider holds as `category_walks`:
    the `category` spider's whole job, the `sitemap` spider's fallback. Where each walk goes is the
    navigator's call (newsbot.navigation): this turns each listing page into what it showed and the
    navigator's actions into requests, paced by the spider's `pacing`."""

    def __init__(self, spider: NewsbotSpider, category_keys: set[str] | None = None):
        self.spider = spider
        self.crawler = spider.crawler
        self.category_keys = category_keys
        # url_key of every card the walks of each (language, segment) read in this run.
        self.seen: dict[tuple[str, str], KeySet] = {}
        self.navigator = Navigator(max_pages=spider.max_pages,
                                   stops_at_stored=spider.since is None and spider.until is None)
        # language -> its Probes; language -> why a requested key is not crawled there (said at idle).
        self.probes: dict[str, Probes] = {}
        self.not_found: dict[str, str] = {}
        self.crawler.signals.connect(self.release_waiting_walks, signal=scrapy.signals.spider_idle)

    def request(self, url: str, step: str, *, dont_filter: bool = False, priority: int = 0,
                meta: dict | None = None, **kwargs: Any) -> scrapy.Request:
        """A request whose answer goes to this walk's method `step`, through the spider's callbacks."""
        return scrapy.Request(url, callback=self.spider.parse_walk, errback=self.spider.walk_failed, meta=meta,
                              dont_filter=dont_filter, priority=priority, cb_kwargs={"step": step, **kwargs})

    def home(self, response: Response, language: str) -> Iterator[scrapy.Request]:
        nav: dict[str, str] = {}  # segment -> its link, requested as the navigation writes it
        for _label, url in site.find_nav_links(document(response), response.url):
            path = urlsplit(url).path
            segment = site.category_segment_of_listing(path)
            if (url.startswith(self.spider.base_url) and segment is not None
                    and site.language_of_path(path) == language):
                nav.setdefault(segment, url)
        if not nav:
            logger.warning("No category links in the %s navigation; using the known categories", language)
            yield from self.fallback(language)
            return
        keys = self.nav_keys(language, nav) if self.category_keys is not None else {}
        found = [segment for segment in nav
                 if self.category_keys is None or keys.get(segment) in self.category_keys]
        self.crawler.stats.inc_value("newsbot/discovery/categories_from_nav", len(found))
        for segment in found:
            yield self.first_page(language, segment, nav[segment])
        if self.category_keys is None:
            return
        missing = self.category_keys - {keys[segment] for segment in found}
        for key in sorted(missing):
            # Not in the navigation as far as anything knows: the table may still know the slug.
            segment = categories.segments_for(key).get(language)
            if segment and segment not in nav:
                missing.discard(key)
                yield self.first_page(language, segment)
        if missing:
            unknown = {segment: url for segment, url in nav.items() if segment not in keys}
            self.probes[language] = Probes(missing, sorted(nav), pending=len(unknown))
            for segment, url in unknown.items():
                yield self.request(url, "probe_listing", dont_filter=True, language=language, segment=segment,
                                   nav_url=url)
            yield from self.probe_done(language, "", "", None, pending=0)

    def nav_keys(self, language: str, nav: dict[str, str]) -> dict[str, str]:
        """segment -> key of the navigation's categories whose key is known: from the stories stored
        under it (their linked editions taught it), else from the table, else the slug itself where
        it is a key the command line asked for (an en slug is the key of its category)."""
        store = self.spider.store
        stored = store.segment_keys(language) if store is not None else {}
        keys = {}
        for segment in nav:
            known = categories.lookup(language, segment)
            key = stored.get(segment) or (known.key if known else None)
            derived = categories.derived_key(segment, "")
            if key or derived in (self.category_keys or ()):
                keys[segment] = key or derived
        return keys

    # --- which key an unknown category of the navigation is: its stories' linked editions tell ---
    def probe_listing(self, response: Response, language: str, segment: str, nav_url: str) -> Iterator[Any]:
        listing, first = self.spider.read_listing(response)
        if first:
            yield from first  # cut short (fetched again) or rendered: this answer comes back
            return
        cards = [card for card in listing.cards() if site.is_article_url(card.url)][:PROBE_CARDS] if listing else []
        for card in cards:
            # Not counted as asked for: the walk, if any, reads it as any other card.
            yield self.request(card.url, "probe_article", dont_filter=True, language=language, segment=segment,
                               nav_url=nav_url)
        yield from self.probe_done(language, segment, nav_url, None, pending=len(cards) - 1)

    def probe_article(self, response: Response, language: str, segment: str, nav_url: str) -> Iterator[Any]:
        extraction = extract_article(document(response), response.url) if isinstance(response, TextResponse) else None
        key = extraction.item["category_slug"] if extraction is not None and extraction.item is not None else None
        yield from self.probe_done(language, segment, nav_url, key)

    def probe_done(self, language: str, segment: str, nav_url: str, key: str | None,
                   pending: int = -1) -> Iterator[scrapy.Request]:
        probes = self.probes[language]
        probes.pending += pending
        if key in probes.missing and segment not in probes.started:
            probes.missing.discard(key)
            probes.started.add(segment)
            self.crawler.stats.inc_value("newsbot/discovery/categories_from_stories")
            logger.info("Category %s is %s in the %s edition (its stories' linked editions say so)",
                        key, segment, language)
            yield self.first_page(language, segment, nav_url, again=True)  # its page 1 was read to learn this
        if not probes.pending and probes.missing and language not in self.not_found:
            self.not_found[language] = (
                f"category {', '.join(sorted(probes.missing))} not found in the {language} edition: its "
                f"navigation shows {', '.join(probes.seen)}, and neither the table, the store nor the linked "
                f"editions of their stories make any of them {', '.join(sorted(probes.missing))}")

    def fallback(self, language: str) -> Iterator[scrapy.Request]:
        self.crawler.stats.inc_value("newsbot/discovery/category_fallback")
        for category in categories.all_categories():
            wanted = self.category_keys is None or category.key in self.category_keys
            if category.language == language and wanted:
                yield self.first_page(language, category.segment)

    def first_page(self, language: str, segment: str, url: str | None = None,
                   again: bool = False) -> scrapy.Request:
        """Page 1 of a walk; again: it was requested before (to learn the category's key)."""
        key = (language, segment)
        return self.page_request(Fetch(key, 1, CategoryWalk(reread_to=int(again)), url=url,
                                       urgent=self.navigator.probe == key))

    def page_request(self, fetch: Fetch) -> scrapy.Request:
        """An urgent page (the probe walk's) goes before the queued articles: the other walks wait for it."""
        language, segment = fetch.key
        meta = {"guessed_page": fetch.guessed, **({PAST_END_PROBE: True} if fetch.past_end_probe else {})}
        url = fetch.url or self.spider.edition(language).category_url(segment, fetch.page)
        # A page this walk requested before (reread_to) goes past the dupe filter.
        request = self.request(url, "parse_listing", meta=meta, dont_filter=fetch.page <= fetch.walk.reread_to,
                               priority=1 if fetch.urgent else 0, language=language, page=fetch.page,
                               segment=segment, walk=fetch.walk)
        return self.spider.rendered(request) if self.spider.config.js_mode == "always" else request

    def act(self, decision: Decision) -> Iterator[scrapy.Request]:
        """The navigator's decision taken: what it learnt in the stats, its fetches as (paced) requests."""
        stats, before = self.crawler.stats, self.navigator
        self.navigator = decision.navigator
        if self.navigator.pages != before.pages:
            stats.set_value("newsbot/listing/numbering", self.navigator.pages)
            logger.info("Category pages are %s", self.navigator.pages)
        if self.navigator.past_end != before.past_end:
            stats.set_value("newsbot/listing/past_end_shows", self.navigator.past_end)
        for action in decision.actions:
            for count in action.counts:
                stats.inc_value(f"newsbot/listing/{count}")
            if isinstance(action, Fetch):
                yield from self.spider.pacing.step(self.page_request(action))

    def parse_listing(self, response: Response, language: str, page: int, segment: str,
                      walk: CategoryWalk = CategoryWalk()) -> Iterator[Any]:
        self.spider.pacing.answered(response.request)
        yield from self.walk_on(response, language, page, segment, walk)
        yield from self.spider.pacing.resume()

    def walk_on(self, response: Response, language: str, page: int, segment: str,
                walk: CategoryWalk) -> Iterator[Any]:
        key = (language, segment)
        seen = self.seen.setdefault(key, KeySet())
        # Cards the walk read before are only counted: on a cumulative page they are nearly all.
        listing, first = self.spider.read_listing(response, known=seen)
        yield from first
        if listing is None:
            if not first:  # given up (cut short every time): the end
                yield from self.act(self.navigator.ended(key))
            return  # else fetched again or rendered: this answer comes back
        new = listing.cards()  # the cards not read before, each once
        shown = Shown(page, listing.shown(), len(new), len(seen), listing.known_shown())
        past_end_probe = bool(response.meta.get(PAST_END_PROBE))
        if not past_end_probe and len(new) < shown.shown:
            self.crawler.stats.inc_value("newsbot/cards/repeated", shown.shown - len(new))
        decision = self.navigator.shown(key, walk, shown, past_end_probe)
        if any("jump_not_cumulative" in action.counts for action in decision.actions):
            logger.info("%s does not repeat pages 1..%d; walking the pages between", response.url, walk.covered)
        yield from self.act(decision)
        if not decision.read_cards:
            return
        seen.update(url_key(card.url) for card in new)
        wanted, passed_since, all_stored = self.spider.triage_cards(new)
        yield from self.spider.pacing.articles(self.spider.new_article_urls(wanted))
        tree = document(response)
        next_url = site.next_page_url(tree, response.url)
        named = {}  # page number -> URL of the pages of this category the pagination links
        for url in site.pagination_links(tree, response.url):
            number = site.listing_page_number(url)
            if number and site.category_segment_of_listing(urlsplit(url).path) == segment:
                named.setdefault(number, url)
        cards = Cards(len(wanted), passed_since, all_stored, next_url, bool(next_url) or site.has_pagination(tree),
                      named)
        yield from self.act(self.navigator.cards_read(key, walk, shown, cards))

    def failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request
        kwargs = request.cb_kwargs
        if kwargs["step"] != "parse_listing":
            logger.warning("Could not read %s to learn its category (%s)", request.url, failure_reason(failure))
            yield from self.probe_done(kwargs["language"], kwargs["segment"], kwargs["nav_url"], None)
            return
        self.spider.pacing.answered(request)
        walk, page = kwargs["walk"], kwargs["page"]
        is_404 = bool(failure.check(HttpError)) and failure.value.response.status == 404
        guessed = bool(request.meta.get("guessed_page"))
        if not Navigator.failure_is_an_answer(walk, page, is_404, guessed):
            self.spider.listing_failed(failure)
        yield from self.act(self.navigator.failed((kwargs["language"], kwargs["segment"]), walk, page, is_404,
                                                  guessed, bool(request.meta.get(PAST_END_PROBE))))
        yield from self.spider.pacing.resume()

    def release_waiting_walks(self, spider: NewsbotSpider) -> None:
        """spider_idle: never close with walks still waiting (their probe was lost on the way) or
        held back (a step out was dropped before it came back)."""
        requests = list(self.act(self.navigator.released())) if self.navigator.waiting else []
        requests = requests or spider.pacing.idle()
        for request in requests:
            spider.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider
        if self.not_found:
            # Said once every edition's work is done, so the editions that have the key are crawled.
            report_broken(spider.crawler, "category_not_found", "%s", "; ".join(
                self.not_found[language] for language in sorted(self.not_found)))


class CategorySpider(NewsbotSpider):
    """scrapy crawl category [-a category=energy,finance] [-a lang=en] [-a since=2025-01-01 -a until=2025-06-30]
    [-a max_pages=N] [-a refresh=1]

    Without since or until, each walk stops at the first page whose new cards are all stored."""

    name = "category"
    paced = True

    def __init__(self, category: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.category_keys = {c.strip() for c in (category or "").split(",") if c.strip()} or None
        known = {c.key for c in categories.all_categories()}
        unknown = sorted((self.category_keys or set()) - known)
        if unknown:
            raise ValueError(f"category: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                             f"the keys are {', '.join(sorted(known))}")

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.category_walks = CategoryWalks(spider, spider.category_keys)
        return spider
