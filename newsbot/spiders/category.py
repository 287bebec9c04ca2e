"""The backfill spider: category listings through their pagination."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Iterator
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from newsbot import categories, site
from newsbot.html import document
from newsbot.loaders import extract_article
from newsbot.memo import KeySet, TextQueue
from newsbot.normalize import url_key
from newsbot.outcome import report_broken
from newsbot.spiders.base import NewsbotSpider, failure_reason

logger = logging.getLogger(__name__)


# How far a walk jumps once its category's pages are known to be cumulative (page N shows every card
# of pages 1..N): from the pages it holds to JUMP times as many, by what a page past the last one is
# known to answer. Measured with bench/navigation.py (full backfills of 250 and 2,000 stories; 42
# category walks of 1-2 and of 2-15 pages): where a page past the end shows every card again, a jump
# past the end costs nothing and ends the walk, so the bigger the better: x16 ends nearly every walk
# one jump after page 1 (2,000 stories: 1.017 requests per stored article; page by page: 1.067).
# Where it answers 404 (or no card), every overshoot is bisected back to the last page, which grows
# with the jump: x2 costs 1.045 at 2,000 stories (x4: 1.042) and, unlike x4, about what a
# page-by-page walk on small categories (250 stories: x2 1.100, x4 1.127, page by page 1.099).
JUMP = 2
JUMP_WHEN_PAST_END_SHOWS_ALL = 16
# Meta key of the request for the page after the probe walk's last one (what the site answers there).
PAST_END_PROBE = "newsbot_past_end_probe"
# Meta key of a walk's next-page request while it is out (counted against STEPS_OUT).
WALK_STEP = "newsbot_walk_step"
# Meta key of a paced request let in but not in the scheduler yet (CategoryListings.on_the_way).
ON_THE_WAY = "newsbot_on_the_way"
# Walk steps out at once once the scheduler is paced: each can add a whole page of new cards.
STEPS_OUT = 2
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


@dataclass(frozen=True)
class Walk:
    """Where one walk of a category's listing stands, carried by its page requests (cb_kwargs), so
    that a crawl resumed from a JOBDIR walks on from the request it left.

    covered: every card of pages 1..covered was read (0: none yet). past: the lowest page known to
    be past the end (a guessed page answered 404 or nothing new), None while unknown. per_page: the
    cards page 1 showed. cumulative: whether page N shows every card of pages 1..N, None until a page
    after the first told. next_url: the URL the pagination of page `covered` names for the next page.
    reread_to: pages up to this one were requested before (a jump that was not cumulative after
    all), so they are requested again past the dupe filter.
    """

    covered: int = 0
    past: int | None = None
    per_page: int = 0
    cumulative: bool | None = None
    next_url: str | None = None
    reread_to: int = 0


class CategoryListings:
    """Discovery and walking of the category listings, for a NewsbotSpider: the `category` spider's
    whole job, and the `sitemap` spider's fallback when the site has no sitemap.

    Category pages are reported to be cumulative on the live site (page N shows every card of pages
    1..N), so each page is judged by the cards it adds to the walk of its category: a page that adds
    none is the end, and "all stored" means the new cards are. A page that repeats every card the
    walk had and adds new ones shows the walk cumulative: it then jumps ahead (JUMP) rather than
    reading every page, and a jump that lands past the end is bisected back to the last page. Classic
    pages (each page its own cards) are walked page by page.

    The first walk to reach a second page tells the others how the site numbers its pages (and, when
    cumulative, what a page past the end answers): they wait at their page 1 until it knows, and then
    jump from page 1 on, each checking on the page it lands on that it repeats what page 1 showed.
    """

    category_keys: set[str] | None = None

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # url_key of every card the walks of each (language, segment) read in this run.
        self.category_walks: dict[tuple[str, str], KeySet] = {}
        # Walk steps held back until the scheduler drains (see walk_step), and the steps out.
        self.paused: deque[scrapy.Request] = deque()
        self.steps_out = 0
        # Paced requests let in and not scheduled yet: a callback's output reaches the scheduler
        # a little later (Scrapy processes it asynchronously), and answers handled meanwhile
        # must count it as queued, or each lets in a backlog's worth.
        self.on_the_way = 0
        # New article links held back until the scheduler drains (see queue_articles).
        self.held = TextQueue()
        # What the walks learnt of the site: "cumulative" or "paged" pages; what a page past the last
        # one answers: "all" (every card again) or "none" (404, or no new card).
        self.site_pages: str | None = None
        self.site_past_end: str | None = None
        # The walk finding that out, and the walks waiting at their page 1 until it has (or ended).
        self.probe: tuple[str, str] | None = None
        self.probing_over = False
        self.waiting: list[tuple[str, str, Walk, dict[int, str], bool]] = []
        # language -> its Probes; language -> why a requested key is not crawled there (said at idle).
        self.probes: dict[str, Probes] = {}
        self.not_found: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.release_waiting_walks, signal=scrapy.signals.spider_idle)
        crawler.signals.connect(spider.count_held_at_close, signal=scrapy.signals.spider_closed)
        crawler.signals.connect(spider.request_scheduled, signal=scrapy.signals.request_scheduled)
        # A queue on disk (JOBDIR) holds a backlog at no memory cost, and a paused step would be
        # lost with a killed crawl's memory: pace only the in-memory scheduler.
        spider.walk_backlog = 0 if crawler.settings.get("JOBDIR") else spider.config.walk_backlog
        return spider

    @property
    def stops_at_stored(self) -> bool:
        return self.since is None and self.until is None

    def wants(self, key: str) -> bool:
        return self.category_keys is None or key in self.category_keys

    def parse_home(self, response: Response, language: str) -> Iterator[scrapy.Request]:
        nav: dict[str, str] = {}  # segment -> its link, requested as the navigation writes it
        for _label, url in site.find_nav_links(response.selector, response.url):
            path = urlsplit(url).path
            segment = site.category_segment_of_listing(path)
            if url.startswith(self.base_url) and segment is not None and site.language_of_path(path) == language:
                nav.setdefault(segment, url)
        if not nav:
            logger.warning("No category links in the %s navigation; using the known categories", language)
            yield from self.fallback_listings(language)
            return
        if self.category_keys is None:
            self.crawler.stats.inc_value("newsbot/discovery/categories_from_nav", len(nav))
            for segment, url in nav.items():
                yield self.page_request(language, segment, 1, url=url)
            return
        keys = self.nav_keys(language, nav)
        found = {segment: key for segment, key in keys.items() if key in self.category_keys}
        self.crawler.stats.inc_value("newsbot/discovery/categories_from_nav", len(found))
        for segment in found:
            yield self.page_request(language, segment, 1, url=nav[segment])
        missing = self.category_keys - set(found.values())
        for key in sorted(missing):
            # Not in the navigation as far as anything knows: the table may still know the slug.
            segment = categories.segments_for(key).get(language)
            if segment and segment not in nav:
                missing.discard(key)
                yield self.page_request(language, segment, 1)
        if missing:
            unknown = {segment: url for segment, url in nav.items() if segment not in keys}
            self.probes[language] = Probes(missing, sorted(nav), pending=len(unknown))
            for segment, url in unknown.items():
                yield scrapy.Request(url, callback=self.probe_listing, errback=self.probe_failed, dont_filter=True,
                                     cb_kwargs={"language": language, "segment": segment, "nav_url": url})
            yield from self.probe_done(language, "", "", None, pending=0)

    def nav_keys(self, language: str, nav: dict[str, str]) -> dict[str, str]:
        """segment -> key of the navigation's categories whose key is known: from the stories stored
        under it (their linked editions taught it), else from the table, else the slug itself where
        it is a key the command line asked for (an en slug is the key of its category)."""
        stored = self.store.segment_keys(language) if self.store is not None else {}
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
        listing, first = self.read_listing(response)
        if first:
            yield from first  # cut short (fetched again) or rendered: this answer comes back
            return
        cards = [card for card in listing.cards() if site.is_article_url(card.url)][:PROBE_CARDS] if listing else []
        for card in cards:
            # Not counted as asked for: the walk, if any, reads it as any other card.
            yield scrapy.Request(card.url, callback=self.probe_article, errback=self.probe_failed, dont_filter=True,
                                 cb_kwargs={"language": language, "segment": segment, "nav_url": nav_url})
        yield from self.probe_done(language, segment, nav_url, None, pending=len(cards) - 1)

    def probe_article(self, response: Response, language: str, segment: str, nav_url: str) -> Iterator[Any]:
        extraction = extract_article(document(response), response.url) if isinstance(response, TextResponse) else None
        key = extraction.item["category_slug"] if extraction is not None and extraction.item is not None else None
        yield from self.probe_done(language, segment, nav_url, key)

    def probe_failed(self, failure: Failure) -> Iterator[Any]:
        kwargs = failure.request.cb_kwargs
        logger.warning("Could not read %s to learn its category (%s)", failure.request.url, failure_reason(failure))
        yield from self.probe_done(kwargs["language"], kwargs["segment"], kwargs["nav_url"], None)

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
            request = self.page_request(language, segment, 1, url=nav_url)
            request.dont_filter = True  # its page 1 was read to learn this
            yield request
        if not probes.pending and probes.missing and language not in self.not_found:
            self.not_found[language] = (
                f"category {', '.join(sorted(probes.missing))} not found in the {language} edition: its "
                f"navigation shows {', '.join(probes.seen)}, and neither the table, the store nor the linked "
                f"editions of their stories make any of them {', '.join(sorted(probes.missing))}")

    def fallback_listings(self, language: str) -> Iterator[scrapy.Request]:
        self.crawler.stats.inc_value("newsbot/discovery/category_fallback")
        for category in categories.all_categories():
            if category.language == language and self.wants(category.key):
                yield self.page_request(language, category.segment, 1)

    def page_request(self, language: str, segment: str, page: int, url: str | None = None,
                     guessed: bool = False, walk: Walk | None = None) -> scrapy.Request:
        url = url or self.edition(language).category_url(segment, page)
        walk = walk or Walk()
        request = self.listing_request(url, self.parse_listing, language, page, segment=segment, walk=walk)
        request.meta["guessed_page"] = guessed
        request.dont_filter = page <= walk.reread_to
        if self.probe == (language, segment):
            request.priority = 1  # the other walks wait for what it tells: before the queued articles
        return self.rendered(request) if self.js_mode == "always" else request

    # --- one walk ------------------------------------------------------------
    def parse_listing(self, response: Response, language: str, page: int, segment: str,
                      walk: Walk = Walk()) -> Iterator[Any]:
        self.step_done(response.request)
        yield from self.walk_on(response, language, page, segment, walk)
        yield from self.resume_walks()

    def walk_on(self, response: Response, language: str, page: int, segment: str, walk: Walk) -> Iterator[Any]:
        seen = self.category_walks.get((language, segment))
        # Cards the walk read before are only counted: on a cumulative page they are nearly all.
        listing, first = self.read_listing(response, known=seen if seen is not None else KeySet())
        yield from first
        jumped = page > walk.covered + 1
        shown = listing.shown() if listing is not None else 0
        if response.meta.get(PAST_END_PROBE) and listing is not None:
            # The page after the probe walk's last one: every card again, or none.
            self.learn_past_end("all" if shown and listing.known_shown() == len(seen or ()) else "none")
            yield from self.walk_ended(language, segment)
            return
        if listing is None or (not shown and not jumped):
            if not first:  # no cards, or given up (cut short every time): the end
                yield from self.walk_ended(language, segment)
            return
        stats = self.crawler.stats
        if seen is None:
            seen = self.category_walks[(language, segment)] = KeySet()
        # Everything the walk read is on this page again: it shows pages 1..page. (A walk that read
        # nothing yet, a request left by a killed crawl, cannot be judged: it is taken as planned.)
        had_cards = bool(seen)
        repeats = had_cards and listing.known_shown() == len(seen)
        new = listing.cards()  # the cards not read before, each once
        if len(new) < shown:
            stats.inc_value("newsbot/cards/repeated", shown - len(new))
        if not new:
            if jumped:  # past the end (nothing there, or the last page again): the pages between
                yield from self.overshot(language, segment, page, walk, "nothing_new")
                return
            # Nothing this walk has not seen: past the end (or a site that ignores /page/N).
            stats.inc_value("newsbot/listing/end_no_new_cards")
            yield from self.walk_ended(language, segment)
            return
        if jumped and had_cards and not repeats:
            # Not cumulative after all: the skipped pages hold cards of their own. Read them one by
            # one (this page again when its turn comes), and nothing of this page until then.
            stats.inc_value("newsbot/listing/jump_not_cumulative")
            logger.info("%s does not repeat pages 1..%d; walking the pages between", response.url, walk.covered)
            yield from self.walk_step(self.page_request(language, segment, walk.covered + 1, url=walk.next_url,
                                                        walk=replace(walk, cumulative=False, reread_to=page)))
            return
        seen.update(url_key(card.url) for card in new)
        wanted, passed_since, all_stored = self.triage_cards(new)
        yield from self.queue_articles(wanted)

        per_page = walk.per_page or shown
        cumulative = repeats if walk.cumulative is None and had_cards else walk.cumulative
        learnt = had_cards and self.learn_pages(repeats)
        next_url = site.next_page_url(response.selector, response.url)
        if next_url or site.has_pagination(response.selector):
            more = bool(next_url)
        else:
            # No pagination to tell: guess the next page, unless a cumulative page is short of full.
            more = not cumulative or shown >= page * per_page
        if jumped and cumulative and not more and shown <= (page - 1) * per_page:
            self.learn_past_end("all")  # fewer cards than the pages before it hold: past the end
        walk = replace(walk, covered=page, per_page=per_page, cumulative=cumulative, next_url=next_url)
        if passed_since or (all_stored and self.stops_at_stored) or (self.max_pages and page >= self.max_pages):
            yield from self.walk_ended(language, segment, learnt=learnt)
            return
        if not more:
            if self.probe == (language, segment) and cumulative and self.site_past_end is None:
                # The probe walk ended on its last page without a jump past it: one page more tells
                # the waiting walks how far they may jump.
                self.crawler.stats.inc_value("newsbot/listing/past_end")
                request = self.page_request(language, segment, page + 1, guessed=True, walk=walk)
                request.meta[PAST_END_PROBE] = True
                yield from self.walk_step(request)
                return
            yield from self.walk_ended(language, segment, learnt=learnt)
            return
        named = self.named_pages(response, segment)
        # In an incremental run, a page with stored cards on it is where the new ones end: its next
        # page, not a jump, makes sure.
        step = self.stops_at_stored and len(wanted) < len(new)
        if page == 1 and not self.probing_over:
            if self.probe is None:
                self.probe = (language, segment)  # this walk finds out how the site numbers its pages
            elif self.probe != (language, segment):
                stats.inc_value("newsbot/listing/walks_waited")
                self.waiting.append((language, segment, walk, named, step))
                return
        yield from self.walk_step(self.next_page(language, segment, walk, named, step))
        if learnt or (self.probe == (language, segment) and self.site_past_end):
            yield from self.release_waiting()

    def named_pages(self, response: Response, segment: str) -> dict[int, str]:
        """{page number: URL} of the pages of this category the page's pagination links."""
        named = {}
        for url in site.pagination_links(response.selector, response.url):
            number = site.listing_page_number(url)
            if number and site.category_segment_of_listing(urlsplit(url).path) == segment:
                named.setdefault(number, url)
        return named

    def next_page(self, language: str, segment: str, walk: Walk, named: dict[int, str],
                  step: bool = False) -> scrapy.Request:
        """The page after `walk.covered`: the next one on classic pages (or while nobody knows yet),
        a jump on cumulative ones (never past max_pages), between the last page read and the first
        known past the end once a jump overshot."""
        page = walk.covered + 1
        cumulative = walk.cumulative if walk.cumulative is not None else (
            walk.covered == 1 and self.site_pages == "cumulative")
        if cumulative and not step:
            if walk.past is not None:
                page = (walk.covered + walk.past) // 2
            else:
                factor = JUMP_WHEN_PAST_END_SHOWS_ALL if self.site_past_end == "all" else JUMP
                # The pagination may name a later page (the last one, say): it exists.
                page = max(walk.covered * factor, max(named, default=0))
            if self.max_pages:
                page = min(page, self.max_pages)
            page = max(page, walk.covered + 1)
        url = named.get(page) or (walk.next_url if page == walk.covered + 1 else None)
        if page > walk.covered + 1:
            self.crawler.stats.inc_value("newsbot/listing/jumps")
        return self.page_request(language, segment, page, url=url, guessed=url is None, walk=walk)

    def overshot(self, language: str, segment: str, page: int, walk: Walk, reason: str) -> Iterator[Any]:
        """A jump landed past the end: read the pages between (bisecting), or end the walk when the
        page after the last one read is that page."""
        self.crawler.stats.inc_value("newsbot/listing/past_end")
        if reason in ("404", "nothing_new"):
            self.learn_past_end("none")
        walk = replace(walk, past=page if walk.past is None else min(walk.past, page))
        if walk.past <= walk.covered + 1:
            self.crawler.stats.inc_value("newsbot/listing/end_by_404" if reason == "404" else
                                         "newsbot/listing/end_no_new_cards" if reason == "nothing_new" else
                                         "newsbot/listing/end_failed")
            yield from self.walk_ended(language, segment)
            return
        yield from self.walk_step(self.next_page(language, segment, walk, {}))
        if self.probe == (language, segment):
            yield from self.release_waiting()

    def listing_failed(self, failure: Failure) -> Iterator[Any]:
        self.step_done(failure.request)
        yield from self.walk_failed(failure)
        yield from self.resume_walks()

    def walk_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request
        kwargs = request.cb_kwargs
        walk, page, segment = kwargs.get("walk") or Walk(), kwargs.get("page", 1), kwargs.get("segment")
        is_404 = failure.check(HttpError) and failure.value.response.status == 404
        if request.meta.get(PAST_END_PROBE):
            if is_404:
                self.learn_past_end("none")
            else:
                super().listing_failed(failure)
            yield from self.release_waiting()
            return
        if segment is not None and page > walk.covered + 1:
            # A jump: past the end when it answers 404 (anything else is logged as the failure it is);
            # either way the pages between are still there to read.
            if not is_404:
                super().listing_failed(failure)
            yield from self.overshot(kwargs["language"], segment, page, walk, "404" if is_404 else "failed")
            return
        if is_404 and request.meta.get("guessed_page"):
            # Without pagination markup the next page is a guess; its 404 is the end.
            self.crawler.stats.inc_value("newsbot/listing/end_by_404")
        else:
            super().listing_failed(failure)
        if segment is not None:
            yield from self.walk_ended(kwargs["language"], segment)

    # --- what the walks learn of the site, and the walks waiting for it -------------
    def learn_pages(self, cumulative: bool) -> bool:
        """What a page after the first showed of the site's numbering; True when it was news."""
        if self.site_pages is not None:
            return False
        self.site_pages = "cumulative" if cumulative else "paged"
        self.crawler.stats.set_value("newsbot/listing/numbering", self.site_pages)
        logger.info("Category pages are %s", self.site_pages)
        return self.site_pages == "paged"  # cumulative: the probe walks on until a page past the end tells

    def learn_past_end(self, answer: str) -> None:
        if self.site_past_end is None:
            self.site_past_end = answer
            self.crawler.stats.set_value("newsbot/listing/past_end_shows", answer)

    def walk_ended(self, language: str, segment: str, learnt: bool = False) -> Iterator[scrapy.Request]:
        if learnt or self.probe == (language, segment):
            yield from self.release_waiting()

    def release_waiting(self) -> Iterator[scrapy.Request]:
        """The walks waiting at their page 1 go on, with what the probe walk found out."""
        self.probe, self.probing_over = None, True
        waiting, self.waiting = self.waiting, []
        for language, segment, walk, named, step in waiting:
            yield from self.walk_step(self.next_page(language, segment, walk, named, step))

    def release_waiting_walks(self, spider) -> None:
        """spider_idle: never close with walks still waiting (their probe was lost on the way) or
        paused (a step out was dropped before it came back)."""
        requests = list(self.release_waiting()) if self.waiting else []
        if not requests and (self.paused or self.held):
            # Idle: nothing is out, nor on its way (a middleware may have dropped it unsignalled).
            self.steps_out = self.on_the_way = 0
            requests = list(self.resume_walks())
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider
        if self.not_found:
            # Said once every edition's work is done, so the editions that have the key are crawled.
            report_broken(self.crawler, "category_not_found", "%s", "; ".join(
                self.not_found[language] for language in sorted(self.not_found)))

    # --- pacing: walks wait while the scheduler has plenty to do -----------------------
    # A jump on cumulative pages adds up to a page of new cards at once, thousands on a big
    # category, and a queued request costs ~1 KB: walks let to run ahead of the downloader would
    # hold a whole backfill's requests in memory (a 100,000-story backfill peaked at 2.4x the RSS
    # of a 10,000-story one, bench/memory.py). So a walk's next page waits while the scheduler
    # holds NEWSBOT_WALK_BACKLOG requests or STEPS_OUT steps are out, and goes when an answer
    # finds it drained: the backlog stays about one page of cards, whatever the size of the site.
    # The page's new cards themselves go in only as the queue has room; until then their links wait
    # in a TextQueue (~100 bytes a link, in a few joined strings, against a ~1 KB Request), and no
    # walk steps while any wait. What was let in counts as queued until the scheduler has it
    # (on_the_way): Scrapy schedules a callback's output asynchronously, and answers handled
    # meanwhile would each let in room that others had already filled (the longest queue was
    # 1,795 for a backlog of 1,000 at 30,000 stories). The sitemap spider paces its shards the
    # same way (a shard is a walk step).
    def walk_step(self, request: scrapy.Request) -> Iterator[scrapy.Request]:
        """A walk's next page: now, or paused until the scheduler drains."""
        if self.walk_backlog and (self.paused or not self.may_step()):
            self.paused.append(request)
            self.crawler.stats.inc_value("newsbot/listing/walk_paused")
            return
        yield self.stepping(request)

    def queued(self) -> int:
        """The scheduler's requests, and the paced ones on their way to it."""
        scheduler = self.crawler.engine.scheduler if self.crawler.engine else None
        in_scheduler = len(scheduler) if scheduler is not None and hasattr(scheduler, "__len__") else 0
        return in_scheduler + self.on_the_way

    def letting_in(self, request: scrapy.Request) -> scrapy.Request:
        request.meta[ON_THE_WAY] = True
        self.on_the_way += 1
        return request

    def arrived(self, request: scrapy.Request) -> None:
        if request.meta.pop(ON_THE_WAY, False):
            self.on_the_way = max(0, self.on_the_way - 1)

    def request_scheduled(self, request: scrapy.Request, spider) -> None:
        self.arrived(request)

    def may_step(self) -> bool:
        return not self.held and self.steps_out < STEPS_OUT and self.queued() < self.walk_backlog

    def queue_articles(self, cards: list[site.Card]) -> Iterator[scrapy.Request]:
        """The cards' article requests: all at once when unpaced, else as many as the scheduler
        has room for, the rest held (release_articles lets them in as it drains)."""
        if not self.walk_backlog:
            yield from self.article_requests(cards)
            return
        yield from self.hold_articles(self.new_article_urls(cards))

    def hold_articles(self, urls: list[str]) -> Iterator[scrapy.Request]:
        """New article links (each already counted as asked for, first_request_for): the requests
        the scheduler has room for now; the rest are held."""
        self.held.extend(urls)
        yield from self.release_articles()
        if self.held:  # the newest are last: as many of these as are still there waited
            self.crawler.stats.inc_value("newsbot/listing/articles_held", min(len(urls), len(self.held)))

    def release_articles(self) -> Iterator[scrapy.Request]:
        if self.held:
            # All counted on their way before the first is yielded: Scrapy may run other answers'
            # callbacks between two yields of this one.
            yield from [self.letting_in(self.request_article(url))
                        for url in self.held.take(self.walk_backlog - self.queued())]

    def stepping(self, request: scrapy.Request) -> scrapy.Request:
        if self.walk_backlog:
            request.meta[WALK_STEP] = True
            self.steps_out += 1
            self.letting_in(request)
        return request

    def step_done(self, request: scrapy.Request) -> None:
        if request.meta.pop(WALK_STEP, False):
            self.steps_out = max(0, self.steps_out - 1)

    def resume_walks(self) -> Iterator[scrapy.Request]:
        """The held articles the scheduler has room for, then (none held) the paused walk steps it
        has room for, oldest first."""
        yield from self.release_articles()
        while self.paused and self.may_step():
            yield self.stepping(self.paused.popleft())

    def parse_article(self, response: Response) -> Iterator[Any]:
        yield from super().parse_article(response)
        yield from self.resume_walks()

    def article_failed(self, failure: Failure) -> Iterator[Any]:
        yield from super().article_failed(failure) or ()
        yield from self.resume_walks()

    def request_dropped(self, request: scrapy.Request, spider) -> None:
        super().request_dropped(request, spider)
        self.arrived(request)
        self.step_done(request)

    def count_held_at_close(self, spider, reason: str) -> None:
        """A crawl closed early (a monitor, CLOSESPIDER_*, a signal) leaves held links unasked:
        said in the stats and the log, not lost without a word."""
        if self.held:
            self.crawler.stats.set_value("newsbot/listing/articles_held_at_close", len(self.held))
            logger.warning("Closed (%s) with %d article links found but not requested", reason, len(self.held))


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
