"""The one mapping between each edition's category slugs and names and a language-independent key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Container, Iterable
from importlib import resources

from newsbot.normalize import clean_text, slugify


@dataclass(frozen=True)
class Category:
    key: str        # language-independent, e.g. "foreign-politics"
    language: str
    segment: str    # the edition's URL slug, e.g. "xarici-siyaset"
    name: str       # the display name as the edition shows it


@lru_cache(maxsize=1)
def all_categories() -> tuple[Category, ...]:
    # Read as package data so it works from a zipped Scrapyd egg too.
    table = json.loads(resources.files("newsbot").joinpath("data/categories.json").read_text("utf-8"))
    return tuple(
        Category(key, language, segment, name)
        for key, editions in table["categories"].items()
        for language, (segment, name) in editions.items()
    )


@lru_cache(maxsize=1)
def _index() -> tuple[dict[tuple[str, str], Category], dict[tuple[str, str], Category]]:
    """(by (language, segment), by (language, casefolded name))."""
    return ({(c.language, c.segment): c for c in all_categories()},
            {(c.language, c.name.casefold()): c for c in all_categories()})


def lookup(language: str, segment: str = "", name: str = "") -> Category | None:
    """The known category for an edition's URL segment, else for its display name."""
    by_segment, by_name = _index()
    return by_segment.get((language, segment)) or by_name.get((language, clean_text(name).casefold()))


def derived_key(segment: str, name: str) -> str:
    """The key of a category missing from the table: the site's own slug, else one made from the name."""
    return slugify(segment) or slugify(name)


def segments_for(key: str) -> dict[str, str]:
    """language -> URL segment of a known key (used to pick categories by key on the command line)."""
    return {c.language: c.segment for c in all_categories() if c.key == key}


# Which slug names a category the table lacks: en slugs, English words, are the most language-neutral.
KEY_PREFERENCE = ("en", "ru", "az")


@lru_cache(maxsize=1)
def known_keys() -> frozenset[str]:
    return frozenset(c.key for c in all_categories())


def is_known_key(key: str) -> bool:
    return key in known_keys()


def edition_key(language: str, segment: str, name: str = "") -> str:
    """The key of one edition's category: the table's, else one derived from its slug (or name)."""
    known = lookup(language, segment, name)
    return known.key if known is not None else derived_key(segment, name)


def unify(editions: Iterable[tuple[str, str]], also_known: Container[str] = ()) -> str:
    """The one key the editions of a story share, from each edition's (language, key): a key the
    table knows (the en edition's if they disagree), else the en edition's, else ru's, else az's.
    A story's linked editions are the only evidence of which slugs are one category.
    also_known: keys that count as known besides the table's (those a store has taught)."""
    by_language: dict[str, str] = {}
    for language, key in editions:
        if key:
            by_language.setdefault(language, key)
    ranked = [by_language[language] for language in KEY_PREFERENCE if language in by_language]
    return next((key for key in ranked if is_known_key(key) or key in also_known), ranked[0] if ranked else "")
