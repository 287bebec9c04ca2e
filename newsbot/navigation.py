"""How the category walks move through a listing's pages: a policy, with no Scrapy in it, so that
every pagination shape is testable without sockets. What a page showed (`Shown`, then `Cards`) and
what the walks know (`Navigator`) decide the next action; the rules: docs/crawling.md, Backfill.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from collections.abc import Hashable, Mapping
from typing import Union

# How far a walk jumps on cumulative pages (bench/navigation.py chose them): where a page past the end
# shows every card again an overshoot costs nothing, and where it answers 404 each one is bisected back.
JUMP = 2
JUMP_WHEN_PAST_END_SHOWS_ALL = 16


@dataclass(frozen=True)
class CategoryWalk:
    """Where one walk stands, carried by its page requests, so that a crawl resumed from a JOBDIR
    walks on from the request it left."""

    covered: int = 0                # every card of pages 1..covered was read
    past: int | None = None         # the lowest page known to be past the end
    per_page: int = 0               # the cards page 1 showed
    cumulative: bool | None = None  # page N shows pages 1..N; None until a later page told
    next_url: str | None = None     # the next page as page `covered` links it
    reread_to: int = 0              # pages requested before (a jump that was not cumulative after all)


@dataclass(frozen=True)
class Shown:
    """A listing page of a walk, before its new cards are read."""

    page: int
    shown: int        # cards on it
    new: int          # of those, cards the walk had not read
    seen: int         # cards the walk read before
    known_shown: int  # of those, cards it shows again

    @property
    def repeats(self) -> bool:
        """It shows every card the walk had read (a cumulative page), and the walk had some."""
        return self.seen > 0 and self.known_shown == self.seen


@dataclass(frozen=True)
class Cards:
    """The same page once its new cards were triaged."""

    wanted: int
    passed_since: bool = False
    all_stored: bool = False
    next_url: str | None = None
    has_pagination: bool = False
    named: Mapping[int, str] = field(default_factory=dict)  # page numbers its pagination links


@dataclass(frozen=True)
class Fetch:
    """Request page `page` of walk `key`. url: as a pagination named it (None: the edition's URL
    pattern; guessed). urgent: the probe walk's page. counts: the newsbot/listing/ stats it adds."""

    key: Hashable
    page: int
    walk: CategoryWalk
    url: str | None = None
    guessed: bool = False
    urgent: bool = False
    past_end_probe: bool = False
    counts: tuple[str, ...] = ()


@dataclass(frozen=True)
class End:
    key: Hashable
    counts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Wait:
    """Walk `key` waits at its page 1 until the probe walk knows how the site numbers its pages."""

    key: Hashable
    counts: tuple[str, ...] = ("walks_waited",)


Action = Union[Fetch, End, Wait]


@dataclass(frozen=True)
class Waiting:
    key: Hashable
    walk: CategoryWalk
    named: tuple[tuple[int, str], ...]
    step: bool


@dataclass(frozen=True)
class Decision:
    """The walks' knowledge after a page, and the actions in order. read_cards: triage the page's
    new cards, then ask `Navigator.cards_read`."""

    navigator: Navigator
    actions: tuple[Action, ...] = ()
    read_cards: bool = False


@dataclass(frozen=True)
class Navigator:
    """What every walk of a crawl shares: its rules and what the walks learnt of the site."""

    max_pages: int | None = None
    stops_at_stored: bool = True   # a page of stored cards ends a walk
    pages: str | None = None       # "cumulative" or "paged"
    past_end: str | None = None    # a page past the last: "all" (every card again) or "none"
    probe: Hashable | None = None  # the walk finding that out
    probing_over: bool = False
    waiting: tuple[Waiting, ...] = ()  # the walks at their page 1 until the probe knows

    def shown(self, key: Hashable, walk: CategoryWalk, page: Shown, past_end_probe: bool = False) -> Decision:
        """A listing page was read: end, overshoot, read the pages between, or read its cards."""
        jumped = page.page > walk.covered + 1
        if past_end_probe:
            # The page after the probe walk's last one: every card again, or none.
            nav = self.learnt_past_end("all" if page.shown and page.known_shown == page.seen else "none")
            return nav.ended(key)
        if not page.shown and not jumped:
            return self.ended(key)
        if not page.new:
            if jumped:  # past the end (nothing there, or the last page again): the pages between
                return self.overshot(key, page.page, walk, "nothing_new")
            # Nothing this walk has not seen: past the end (or a site that ignores /page/N).
            return self.ended(key, ("end_no_new_cards",))
        if jumped and page.seen and not page.repeats:
            # Not cumulative after all: the skipped pages hold cards of their own. Read them one by
            # one (this page again when its turn comes), and nothing of this page until then.
            walk = replace(walk, cumulative=False, reread_to=page.page)
            return Decision(self, (Fetch(key, walk.covered + 1, walk, url=walk.next_url, urgent=self.probe == key,
                                         counts=("jump_not_cumulative",)),))
        return Decision(self, read_cards=True)

    def cards_read(self, key: Hashable, walk: CategoryWalk, page: Shown, cards: Cards) -> Decision:
        """The page's new cards were read (after `shown` said read_cards): where the walk goes next."""
        jumped = page.page > walk.covered + 1
        per_page = walk.per_page or page.shown
        cumulative = page.repeats if walk.cumulative is None and page.seen else walk.cumulative
        nav, learnt = self, False
        if page.seen and self.pages is None:
            nav = replace(self, pages="cumulative" if page.repeats else "paged")
            learnt = nav.pages == "paged"  # cumulative: the probe walks on until a page past the end tells
        if cards.next_url or cards.has_pagination:
            more = bool(cards.next_url)
        else:
            # No pagination to tell: guess the next page, unless a cumulative page is short of full.
            more = not cumulative or page.shown >= page.page * per_page
        if jumped and cumulative and not more and page.shown <= (page.page - 1) * per_page:
            nav = nav.learnt_past_end("all")  # fewer cards than the pages before it hold: past the end
        walk = replace(walk, covered=page.page, per_page=per_page, cumulative=cumulative, next_url=cards.next_url)
        if (cards.passed_since or (cards.all_stored and self.stops_at_stored)
                or (self.max_pages and page.page >= self.max_pages)):
            return nav.ended(key, learnt=learnt)
        if not more:
            if nav.probe == key and cumulative and nav.past_end is None:
                # The probe walk ended on its last page without a jump past it: one page more tells
                # the waiting walks how far they may jump.
                return Decision(nav, (Fetch(key, page.page + 1, walk, guessed=True, urgent=True, past_end_probe=True,
                                            counts=("past_end",)),))
            return nav.ended(key, learnt=learnt)
        # In an incremental run, a page with stored cards on it is where the new ones end: its next
        # page, not a jump, makes sure.
        step = self.stops_at_stored and cards.wanted < page.new
        if page.page == 1 and not nav.probing_over:
            if nav.probe is None:
                nav = replace(nav, probe=key)  # this walk finds out how the site numbers its pages
            elif nav.probe != key:
                waiting = Waiting(key, walk, tuple(cards.named.items()), step)
                return Decision(replace(nav, waiting=nav.waiting + (waiting,)), (Wait(key),))
        return nav.then((nav.next_page(key, walk, cards.named, step),),
                        release=learnt or (nav.probe == key and nav.past_end is not None))

    def failed(self, key: Hashable, walk: CategoryWalk, page: int, is_404: bool, guessed: bool,
               past_end_probe: bool = False) -> Decision:
        """A listing page failed for good (404 included)."""
        if past_end_probe:  # the walk is over either way, and the waiting walks go on
            return (self.learnt_past_end("none") if is_404 else self).then((End(key),), release=True)
        if page > walk.covered + 1:
            # A jump: past the end when it answers 404; either way the pages between are still there.
            return self.overshot(key, page, walk, "404" if is_404 else "failed")
        return self.ended(key, ("end_by_404",) if is_404 and guessed else ())

    @staticmethod
    def failure_is_an_answer(walk: CategoryWalk, page: int, is_404: bool, guessed: bool) -> bool:
        """A 404 where a page was guessed (a jump, the page after the last one, a next page no
        pagination named) says where the listing ends: not a failure to report."""
        return is_404 and (guessed or page > walk.covered + 1)

    def next_page(self, key: Hashable, walk: CategoryWalk, named: Mapping[int, str], step: bool = False) -> Fetch:
        """The page after `walk.covered`: the next one on classic pages (or while nobody knows yet),
        a jump on cumulative ones (never past max_pages), between the last page read and the first
        known past the end once a jump overshot."""
        page = walk.covered + 1
        cumulative = walk.cumulative if walk.cumulative is not None else (
            walk.covered == 1 and self.pages == "cumulative")
        if cumulative and not step:
            if walk.past is not None:
                page = (walk.covered + walk.past) // 2
            else:
                factor = JUMP_WHEN_PAST_END_SHOWS_ALL if self.past_end == "all" else JUMP
                # The pagination may name a later page (the last one, say): it exists.
                page = max(walk.covered * factor, max(named, default=0))
            if self.max_pages:
                page = min(page, self.max_pages)
            page = max(page, walk.covered + 1)
        url = named.get(page) or (walk.next_url if page == walk.covered + 1 else None)
        return Fetch(key, page, walk, url=url, guessed=url is None, urgent=self.probe == key,
                     counts=("jumps",) if page > walk.covered + 1 else ())

    def overshot(self, key: Hashable, page: int, walk: CategoryWalk, reason: str) -> Decision:
        """A jump landed past the end: read the pages between (bisecting), or end the walk when the
        page after the last one read is that page."""
        nav = self.learnt_past_end("none") if reason in ("404", "nothing_new") else self
        walk = replace(walk, past=page if walk.past is None else min(walk.past, page))
        if walk.past <= walk.covered + 1:
            end = {"404": "end_by_404", "nothing_new": "end_no_new_cards"}.get(reason, "end_failed")
            return nav.ended(key, ("past_end", end))
        fetch = nav.next_page(key, walk, {})
        return nav.then((replace(fetch, counts=("past_end",) + fetch.counts),), release=nav.probe == key)

    def ended(self, key: Hashable, counts: tuple[str, ...] = (), learnt: bool = False) -> Decision:
        """Walk `key` is over; the waiting walks go on if it was the probe or taught what they wait for."""
        return self.then((End(key, counts),), release=learnt or self.probe == key)

    def then(self, actions: tuple[Action, ...], release: bool) -> Decision:
        """The actions, and with `release` the waiting walks' first steps after them."""
        if not release:
            return Decision(self, actions)
        released = self.released()
        return Decision(released.navigator, actions + released.actions)

    def released(self) -> Decision:
        """The walks waiting at their page 1 go on, with what the probe walk found out."""
        nav = replace(self, probe=None, probing_over=True, waiting=())
        return Decision(nav, tuple(nav.next_page(w.key, w.walk, dict(w.named), w.step) for w in self.waiting))

    def learnt_past_end(self, answer: str) -> Navigator:
        return self if self.past_end is not None else replace(self, past_end=answer)
