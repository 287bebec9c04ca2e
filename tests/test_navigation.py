"""The category walk as a policy (newsbot.navigation), without sockets: each pagination shape the
replica serves (tests/replica/pages.category: cumulative or paged pages; past the end 404, every
card again or no card; prev/next links or numbered ones), modelled here page for page, and the
pages each walk requests in turn and where it stops."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import pytest

from newsbot.navigation import Cards, CategoryWalk, End, Fetch, Navigator, Shown, Wait
from tests.replica.pages import CATEGORY_PER_PAGE as PER_PAGE


@dataclass
class Category:
    """One category of the replica as tests/replica/pages.category serves it: `size` cards."""

    size: int
    numbering: str = "cumulative"   # or "paged"
    past_end: str = "404"           # or "cap", "empty"
    pagination: str = "prev-next"   # or "numbered"

    def page(self, number: int) -> tuple[list[int], bool, dict[int, str]] | None:
        """(cards, has a next link, page numbers its pagination names), or None for a 404."""
        last = max(1, -(-self.size // PER_PAGE))
        if number > last and self.past_end == "404":
            return None
        if number > last and self.past_end == "empty":
            cards, has_next = [], False
        else:
            shown = min(number, last)
            start = 0 if self.numbering == "cumulative" else (shown - 1) * PER_PAGE
            cards = list(range(start, min(shown * PER_PAGE, self.size)))
            has_next = shown * PER_PAGE < self.size
        named = {number - 1: "prev"} if number > 1 else {}
        if self.pagination == "numbered":
            named.update({n: "numbered" for n in {1, *range(max(1, number - 2), min(last, number + 2) + 1), last}
                          if n != number})
        if has_next:
            named[number + 1] = "next"
        return cards, has_next, named


@dataclass
class Crawl:
    """The walks of one crawl driven by the policy, as the spiders drive it: each answer turned into
    what it showed, each Fetch answered in turn (first in, first out)."""

    categories: dict[str, Category]
    navigator: Navigator = field(default_factory=lambda: Navigator(stops_at_stored=False))
    stored: set[int] = field(default_factory=set)  # cards already stored (an incremental run's)
    requested: list[tuple[str, int]] = field(default_factory=list)
    ends: list[str] = field(default_factory=list)
    waited: list[str] = field(default_factory=list)
    counts: list[str] = field(default_factory=list)

    def run(self) -> Crawl:
        queue = deque(Fetch(key, 1, CategoryWalk()) for key in self.categories)
        seen: dict[str, set[int]] = {key: set() for key in self.categories}
        while queue:
            fetch = queue.popleft()
            self.requested.append((fetch.key, fetch.page))
            answer = self.categories[fetch.key].page(fetch.page)
            if answer is None:
                decision = self.navigator.failed(fetch.key, fetch.walk, fetch.page, True, fetch.guessed,
                                                 fetch.past_end_probe)
            else:
                cards, has_next, named = answer
                had = seen[fetch.key]
                new = [card for card in cards if card not in had]
                shown = Shown(fetch.page, len(cards), len(new), len(had), sum(card in had for card in cards))
                decision = self.navigator.shown(fetch.key, fetch.walk, shown, fetch.past_end_probe)
                if decision.read_cards:
                    self.take(decision)
                    had.update(new)
                    wanted = [card for card in new if card not in self.stored]
                    next_url = f"next-of-{fetch.page}" if has_next else None
                    urls = {number: f"{fetch.key}/{number}" for number in named}
                    decision = self.navigator.cards_read(fetch.key, fetch.walk, shown, Cards(
                        len(wanted), all_stored=bool(new) and not wanted, next_url=next_url,
                        has_pagination=True, named=urls))
            queue.extend(self.take(decision))
        assert not self.navigator.waiting
        return self

    def take(self, decision) -> list[Fetch]:
        self.navigator = decision.navigator
        for action in decision.actions:
            self.counts += action.counts
            if isinstance(action, End):
                self.ends.append(action.key)
            elif isinstance(action, Wait):
                self.waited.append(action.key)
        return [action for action in decision.actions if isinstance(action, Fetch)]

    def pages(self, key: str) -> list[int]:
        return [page for walk, page in self.requested if walk == key]


# 100 cards: 7 pages of 16, the last with 4.
SHAPES = {
    # Cumulative, 404 past the end: x2 jumps from page 2, the overshoot bisected back to page 7.
    ("cumulative", "404", "prev-next"): [1, 2, 4, 8, 6, 7],
    # Every card again past the end: the jump to 8 shows the last cards and ends the walk.
    ("cumulative", "cap", "prev-next"): [1, 2, 4, 8],
    # A page without cards past the end: nothing new, bisected back as a 404 is.
    ("cumulative", "empty", "prev-next"): [1, 2, 4, 8, 6, 7],
    # The pagination names the last page: the walk jumps there, then asks the page after it once.
    ("cumulative", "404", "numbered"): [1, 2, 7, 8],
    ("cumulative", "cap", "numbered"): [1, 2, 7, 8],
    ("cumulative", "empty", "numbered"): [1, 2, 7, 8],
}


@pytest.mark.parametrize("past_end", ["404", "cap", "empty"])
@pytest.mark.parametrize("pagination", ["prev-next", "numbered"])
@pytest.mark.parametrize("numbering", ["cumulative", "paged"])
def test_one_walk_requests_these_pages_and_ends_on_the_last(numbering, pagination, past_end):
    crawl = Crawl({"energy": Category(100, numbering, past_end, pagination)}).run()
    # Classic pages are read in turn, and the last one (no next link) ends the walk.
    expected = SHAPES.get((numbering, past_end, pagination), [1, 2, 3, 4, 5, 6, 7])
    assert crawl.pages("energy") == expected
    assert crawl.ends == ["energy"]
    assert crawl.navigator.pages == numbering


@pytest.mark.parametrize("past_end, other", [("404", [1, 2, 4, 8, 6, 7]), ("cap", [1, 16]), ("empty", [1, 2, 4, 8, 6, 7])])
def test_the_other_walks_wait_at_page_1_and_jump_by_what_the_probe_learnt(past_end, other):
    crawl = Crawl({"energy": Category(100, past_end=past_end), "sport": Category(100, past_end=past_end)}).run()
    assert crawl.waited == ["sport"]
    assert crawl.navigator.past_end == ("all" if past_end == "cap" else "none")
    assert crawl.pages("sport") == other  # x16 where a page past the end shows every card again
    assert sorted(crawl.ends) == ["energy", "sport"]


def test_classic_pages_learnt_release_the_waiting_walks_page_by_page():
    crawl = Crawl({"energy": Category(40, "paged"), "sport": Category(40, "paged")}).run()
    assert crawl.pages("energy") == crawl.pages("sport") == [1, 2, 3]
    assert crawl.navigator.pages == "paged" and crawl.navigator.past_end is None


def test_a_jump_that_does_not_repeat_page_1_reads_the_pages_between_again():
    # The site's pages are cumulative (energy told), but sport's are not: its jump to the last page
    # named lands on cards of its own, so pages 2.. are read in turn, the jumped-to page again.
    crawl = Crawl({"energy": Category(100, pagination="numbered"),
                   "sport": Category(100, "paged", pagination="numbered")}).run()
    assert crawl.pages("sport") == [1, 7, 2, 3, 4, 5, 6, 7]
    assert crawl.counts.count("jump_not_cumulative") == 1


def test_a_page_of_stored_cards_ends_an_incremental_walk_and_max_pages_caps_the_jumps():
    incremental = Crawl({"energy": Category(100)}, Navigator(stops_at_stored=True), stored=set(range(20, 100))).run()
    # Page 2 has stored cards: its next page, not a jump, makes sure; page 3 is all stored.
    assert incremental.pages("energy") == [1, 2, 3]
    capped = Crawl({"energy": Category(1000)}, Navigator(max_pages=5, stops_at_stored=False)).run()
    assert capped.pages("energy") == [1, 2, 4, 5]


def test_failures_that_are_answers():
    walk = CategoryWalk(covered=2, cumulative=True)
    assert Navigator.failure_is_an_answer(walk, 4, is_404=True, guessed=True)    # a jump's 404: past the end
    assert Navigator.failure_is_an_answer(walk, 3, is_404=True, guessed=True)    # a guessed next page's 404
    assert not Navigator.failure_is_an_answer(walk, 3, is_404=True, guessed=False)  # a named page is missing
    assert not Navigator.failure_is_an_answer(walk, 4, is_404=False, guessed=True)  # a 503 is a failure
    # A jump that failed otherwise is bisected as an overshoot, counted as such.
    decision = Navigator().failed("energy", walk, 8, is_404=False, guessed=True)
    (fetch,) = decision.actions
    assert (fetch.page, fetch.walk.past, fetch.counts) == (5, 8, ("past_end", "jumps"))
    assert decision.navigator.past_end is None
