"""Compact in-run memory. A long backfill remembers every page it has asked for (the spiders' url_keys,
the dupe filter's request fingerprints, the dedupe pipeline's article ids), and a set of strings holds a
string object and a slot per key: KeySet keeps only each key's hash(), in one flat array."""

from __future__ import annotations

from array import array
from collections import deque
from typing import Hashable, Iterable

_EMPTY = 0  # an unused slot; a key whose hash() is 0 is stored as 1
_FIRST_SIZE = 16  # slots; a power of two


class KeySet:
    """A set of keys (str, bytes: anything with a hash() that is the same for equal keys) that
    stores their 64-bit hash() only, in an array('q') with open addressing and linear probing,
    never more than 2/3 full. Within one process only: hash() of str and bytes is seeded per
    process (PYTHONHASHSEED), so a KeySet is never saved or shared. Two keys are taken for one when
    their hashes are equal: hash() of str and bytes is SipHash over the whole key, so over n distinct
    keys the chance that any two share a 64-bit hash is about n^2/2^65."""

    __slots__ = ("_slots", "_mask", "_len")

    def __init__(self, keys: Iterable[Hashable] = ()) -> None:
        self._slots = array("q", bytes(8 * _FIRST_SIZE))
        self._mask = _FIRST_SIZE - 1
        self._len = 0
        self.update(keys)

    # `in` and add each probe inline, with no shared helper: a walk asks about every card a cumulative
    # page shows, and a call per probe shows in a crawl's CPU (bench/RESULTS.md).
    def __contains__(self, key: Hashable) -> bool:
        h = hash(key) or 1
        slots, mask = self._slots, self._mask
        i = h & mask
        while (value := slots[i]) != h:
            if value == _EMPTY:
                return False
            i = (i + 1) & mask
        return True

    def add(self, key: Hashable) -> bool:
        """Add a key; True when it was not there yet (one probe for "seen? then remember")."""
        h = hash(key) or 1
        slots, mask = self._slots, self._mask
        i = h & mask
        while (value := slots[i]) != _EMPTY:
            if value == h:
                return False
            i = (i + 1) & mask
        slots[i] = h
        self._len += 1
        if 3 * self._len > 2 * (mask + 1):
            self._grow()
        return True

    def __sizeof__(self) -> int:
        return object.__sizeof__(self) + self._slots.__sizeof__()

    def update(self, keys: Iterable[Hashable]) -> None:
        for key in keys:
            self.add(key)

    def _grow(self) -> None:
        old = self._slots
        slots, mask = self._slots, self._mask = array("q", bytes(16 * len(old))), 2 * len(old) - 1
        for h in old:
            if h != _EMPTY:
                i = h & mask
                while slots[i] != _EMPTY:
                    i = (i + 1) & mask
                slots[i] = h

    def __len__(self) -> int:
        return self._len

    def __repr__(self) -> str:
        return f"<KeySet of {self._len} keys in {len(self._slots)} slots>"


class TextQueue:
    """A first-in first-out queue of strings (links) kept as a few joined texts, not one object
    each: a batch put in is one str and an array of the strings' lengths. A category walk's page can
    add thousands of new links at once, held until the scheduler has room; as strings they would be
    thousands of small objects in Python's arenas, interleaved with whatever lives on, and a joined
    batch is one block outside them, a fraction of their size."""

    __slots__ = ("_batches", "_at", "_next", "_len")

    def __init__(self) -> None:
        self._batches: deque[tuple[str, array]] = deque()
        self._at = 0    # where the first batch's next string starts in its text
        self._next = 0  # which of the first batch's lengths is next
        self._len = 0

    def extend(self, values: list[str]) -> None:
        if values:
            self._batches.append(("".join(values), array("I", map(len, values))))
            self._len += len(values)

    def take(self, count: int) -> list[str]:
        """Up to `count` strings, oldest first."""
        taken: list[str] = []
        batches = self._batches
        while batches and len(taken) < count:
            text, lengths = batches[0]
            at, first = self._at, self._next
            last = min(len(lengths), first + count - len(taken))
            for length in lengths[first:last]:
                taken.append(text[at:at + length])
                at += length
            if last == len(lengths):
                batches.popleft()
                self._at = self._next = 0
            else:
                self._at, self._next = at, last
        self._len -= len(taken)
        return taken

    def __len__(self) -> int:
        return self._len

    def __sizeof__(self) -> int:
        return object.__sizeof__(self) + sum(text.__sizeof__() + lengths.__sizeof__()
                                             for text, lengths in self._batches)
