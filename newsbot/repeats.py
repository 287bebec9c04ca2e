"""Texts that many stories of a crawl share (paragraphs, photo URLs), counted in bounded memory: a
backfill sees millions of paragraphs, and counting each would keep them all."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Repeat:
    """One counted text: in `stories` to `stories + error` of the stories added."""

    text: str                 # shortened to the counter's keep_chars
    stories: int
    error: int
    samples: tuple[str, ...]  # stories it was counted in (not necessarily the first ones)

    @property
    def at_most(self) -> int:
        return self.stories + self.error


@dataclass(slots=True)
class _Kept:
    count: int
    text: str
    samples: list[str]


class RepeatCounter:
    """In how many stories each text appears, for the texts that appear in many: a Misra-Gries summary,
    a fixed number of counters keyed by a 64-bit hash of the text.

    Each story adds its texts, each distinct text once. With `counters` counters, a text not held
    when they are all taken makes every count drop by one (and is not held); `error` counts those
    drops. A text's count is then at most `error` below the true one, and a text not held appears in
    at most `error` stories; since each drop takes away counters + 1 additions, `error` is at most
    added / (counters + 1). Only held texts keep their wording (shortened) and sample stories.
    """

    def __init__(self, counters: int, samples: int = 3, keep_chars: int | None = None) -> None:
        if counters < 1:
            raise ValueError("counters must be at least 1")
        self.counters = counters
        self.sample_limit = samples
        self.keep_chars = keep_chars
        self.kept: dict[int, _Kept] = {}
        self.stories = 0
        self.added = 0
        self.error = 0

    @classmethod
    def for_share(cls, share: float, texts_per_story: float, precision: float = 0.1,
                  **kwargs: int | None) -> RepeatCounter:
        """Enough counters that, while stories add about `texts_per_story` texts each, any text in
        more than `share` of them is held and its count is low by at most `precision` of that share."""
        return cls(math.ceil(texts_per_story / (share * precision)), **kwargs)

    def add(self, story: str, texts: Iterable[str]) -> None:
        """One story (its URL) and its texts; a text it repeats is counted once."""
        self.stories += 1
        kept, limit = self.kept, self.keep_chars
        for key, text in {hash(text): text for text in texts}.items():
            self.added += 1
            entry = kept.get(key)
            if entry is not None:
                entry.count += 1
                if len(entry.samples) < self.sample_limit:
                    entry.samples.append(story)
            elif len(kept) < self.counters:
                if limit is not None and len(text) > limit:
                    text = text[:limit - 1].rstrip() + "…"
                kept[key] = _Kept(1, text, [story][:self.sample_limit])
            else:  # every counter taken: each count drops by one, and this text is not held
                self.error += 1
                for gone in [key for key, entry in kept.items() if entry.count == 1]:
                    del kept[gone]
                for entry in kept.values():
                    entry.count -= 1

    def repeats(self) -> list[Repeat]:
        """Every held text, most counted first."""
        ordered = sorted(self.kept.values(), key=lambda entry: -entry.count)
        return [Repeat(entry.text, entry.count, self.error, tuple(entry.samples)) for entry in ordered]

    def top(self) -> Repeat | None:
        return next(iter(self.repeats()), None)

    def more_than(self, share: float, at_least: int) -> list[Repeat]:
        """The texts that may be in more than `share` of the stories and in `at_least` of them: judged
        by the most each could be in, so none that is goes unnamed (a text not held is in `error`
        stories at most, which counters sized by for_share keep well below the share)."""
        return [repeat for repeat in self.repeats()
                if repeat.at_most > share * self.stories and repeat.at_most >= at_least]
