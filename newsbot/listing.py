"""A listing page's cards (the feed's, a category's, an infinity fragment's), read while the page is
parsed: the streaming machinery, apart from the site's card markup (newsbot.site.markup.CARD_MARKUPS)."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree
from parsel import Selector

from newsbot.memo import KeySet
from newsbot.normalize import url_key
from newsbot.site.markup import CARD_MARKUPS, CHROME_TAGS, compiled


@dataclass(frozen=True)
class Card:
    url: str
    title: str
    timestamp: str  # data-timestamp as printed: Baku local "YYYY-MM-DD HH:MM:SS", or ""
    category: str


def _joined(node: etree._Element, query: str) -> str:
    return "".join(compiled(query)(node)).strip()


class CardReader:
    """Reads the page's own listing cards as the page is parsed (newsbot.html.document's `read`), and
    takes each card out of the tree once read (docs/crawling.md, Backfill). A card inside page chrome
    (the "Latest News" sidebar, a menu, a footer) is not one, and stays in the tree: it would send the
    feed walk back to the newest card, mix every section's stories into this one's, or make a
    script-only feed look rendered.

    known: the url_keys of a walk's cards read before, which are only counted (shown, known_shown), as
    are repeats: a cumulative page repeats thousands of cards to add a few."""

    def __init__(self, base_url: str, take: bool = True, known: Container[str] | None = None) -> None:
        self.base_url = base_url
        self.take = take
        self.known = known
        self.found: list[list[Card]] = [[] for _ in CARD_MARKUPS]
        self.counted = [0 for _ in CARD_MARKUPS]  # cards with a link, per markup, known ones too
        self.known_found: list[KeySet] = [KeySet() for _ in CARD_MARKUPS]
        self.kept_keys: list[set[str]] = [set() for _ in CARD_MARKUPS]  # of the cards made
        self.kept: set = set()  # chrome cards already looked at

    def __call__(self, root: etree._Element, still_open: set) -> None:
        matches = [[m for m in compiled(markup[0])(root) if m not in self.kept] for markup in CARD_MARKUPS]
        blocks = set().union(*matches)
        taken = []
        for number, (markup, blocks_of_markup) in enumerate(zip(CARD_MARKUPS, matches)):
            for block in blocks_of_markup:
                # A card inside another card is read with the outer one, when that one is closed.
                outer = block
                for above in block.iterancestors():
                    if above in blocks:
                        outer = above
                if outer in still_open:
                    continue
                if any(above.tag in CHROME_TAGS for above in block.iterancestors()):
                    self.kept.add(block)
                    continue
                self._read(block, number, markup)
                taken.append(outer)
        # Only cards outside chrome were taken, and a card's outer card shares its ancestors.
        for block in dict.fromkeys(taken) if self.take else ():
            parent = block.getparent()
            if parent is not None:
                parent.remove(block)

    def _read(self, block: etree._Element, number: int, markup: tuple[str, tuple[str, ...], str, str]) -> None:
        _, links, title, category = markup
        href = next((found[0] for query in links if (found := compiled(query)(block)) and found[0]), None)
        if not href:
            return
        url = urljoin(self.base_url, href.strip())
        self.counted[number] += 1
        if self.known is not None:
            key = url_key(url)
            if key in self.known:
                self.known_found[number].add(key)
                return
            if key in self.kept_keys[number]:
                return
            self.kept_keys[number].add(key)
        self.found[number].append(Card(
            url=url,
            title=_joined(block, title),
            timestamp=(block.get("data-timestamp") or "").strip(),
            category=_joined(block, category) if category else "",
        ))

    def _markup(self) -> int:
        """The markup read: the current one if the page has its cards, else the first older one's (with
        no card of any markup, the current one's: nothing)."""
        return next((number for number, count in enumerate(self.counted) if count), 0)

    def cards(self) -> list[Card]:
        """The cards read, in page order (with `known`: those not known, each once)."""
        return self.found[self._markup()]

    def shown(self) -> int:
        """How many cards the page shows (known ones and repeats too)."""
        return self.counted[self._markup()]

    def known_shown(self) -> int:
        """How many of the known keys the page shows."""
        return len(self.known_found[self._markup()])


def parse_cards(selector: Selector, base_url: str) -> list[Card]:
    """The page's own listing cards, in page order (CardReader on a tree already parsed); cards in
    page chrome are left out. The tree is left as it was."""
    reader = CardReader(base_url, take=False)
    reader(selector.root, set())
    return reader.cards()
