"""Deterministic stories for the replica: the index built at start, the text made on demand.

Story 0 is the newest. What story i is about derives from (seed, i) alone, its
time also from --stories, so two replicas with the same --seed and --stories
serve the same site. Startup builds
only what listings and URL lookups need (time, category, editions, titles,
slugs); paragraphs, tags and images are generated when a page or the ground
truth asks for them. All text here is clean (what newsbot.normalize.clean_text
leaves unchanged); pages.py adds the markup noise.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import struct
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from itertools import accumulate
from typing import Iterator

# Identity and counting definitions shared with the crawler, so ids match by construction.
from newsbot.normalize import article_id, canonical_url, story_id, word_count
from tests.replica import texts
from tests.replica.categories import BY_KEY as CATEGORIES

LANGS: tuple[str, ...] = ("az", "en", "ru")
LANG_POS = {lang: n for n, lang in enumerate(LANGS)}
PREFIX = {"az": "/", "en": "/en/", "ru": "/ru/"}
BAKU_TZ = timezone(timedelta(hours=4))  # Asia/Baku, no DST since 2016
SOURCE = "report.az"
NEWEST = datetime(2026, 1, 28, 21, 6)  # Baku wall clock (UTC+04:00, no DST)
EPOCH = datetime(1970, 1, 1)
SPREAD_MINUTES = 42 * 24 * 60
UPDATED_SUFFIX = " (updated)"
# A slug edit (State.rename): the editors correct every edition's title, so each gets a new slug.
RENAMED_SUFFIX = {"az": " (dəqiqləşdirilib)", "en": " (corrected)", "ru": " (уточнено)"}
# Which editions a story has: ~80% all three, then az+en, az+ru, az only, a few en only.
EDITION_SETS = ((0.79, ("az", "en", "ru")), (0.89, ("az", "en")), (0.94, ("az", "ru")), (0.99, ("az",)),
                (1.0, ("en",)))

# Latin letters swapped for a Cyrillic look-alike in some English titles (as in the seed "сompany").
LOOKALIKES = {"c": "с", "o": "о", "a": "а", "e": "е"}
_SLUG_MAP = str.maketrans({
    "ə": "e", "Ə": "e", "ğ": "g", "Ğ": "g", "ı": "i", "İ": "i", "ö": "o", "Ö": "o", "ü": "u", "Ü": "u",
    "ç": "c", "Ç": "c", "ş": "s", "Ş": "s",
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
})
_NON_SLUG = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"[^\W_]+")
_slug_words: dict[str, str] = {}  # titles share most words: transliterate each once


def _slug_word(word: str) -> str:
    slug = _slug_words.get(word)
    if slug is None:
        slug = _slug_words[word] = _NON_SLUG.sub("-", word.translate(_SLUG_MAP)).strip("-")
    return slug


_LATIN_AGAIN = str.maketrans({cyr: lat for lat, cyr in LOOKALIKES.items()})


def make_slug(title: str, lang: str = "az") -> str:
    """The site's slugs are transliterated titles: ASCII, lowercase, hyphens."""
    if lang == "en":
        title = title.translate(_LATIN_AGAIN)  # the slug was made before the typo crept in
    # "İ".lower() is "i" + combining dot: map it before lower-casing; apostrophes join words.
    text = title.replace("İ", "i").replace("'", "").replace("’", "").lower()
    slug = "-".join(filter(None, map(_slug_word, _WORD.findall(text))))
    if len(slug) > 90:
        slug = slug[:90].rsplit("-", 1)[0]
    return slug or "xeber"


def az_ordinal(n: int) -> str:
    """"3-cü", "6-cı": the Azerbaijani ordinal suffix follows the vowel of the number's last word."""
    if n % 10:
        vowel = "iiüüiıiiu"[n % 10 - 1]
    elif n % 100:
        vowel = "uiuıiıiiı"[n % 100 // 10 - 1]
    else:
        vowel = "ü" if n % 1000 else "i"
    return f"{n}-c{vowel}"


def en_ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _decimal(value: float, digits: int, lang: str) -> str:
    text = f"{value:.{digits}f}"
    return text if lang == "en" else text.replace(".", ",")


def category_table() -> dict[str, dict[str, tuple[str, str]]]:
    """key -> language -> (URL segment, display name): the replica's own table (tests/replica/categories.py);
    an edition without the section has no entry."""
    return {key: dict(category.editions) for key, category in CATEGORIES.items()}


_UNPACK = struct.Struct(">32H").unpack


class Slots:
    """The entities and numbers one story is about; each edition renders them in its language.

    Each slot reads its own two bytes of one SHA-512 digest, so a slot's value
    does not depend on which other slots a template happens to use, and
    building 150,000 titles at startup stays cheap (values are computed lazily).
    """

    __slots__ = ("raw", "minute")

    def __init__(self, key: str, minute: int) -> None:
        self.raw = _UNPACK(hashlib.sha512(key.encode()).digest())
        self.minute = minute

    @property
    def local(self) -> datetime:
        return EPOCH + timedelta(minutes=self.minute)

    def u(self, k: int, n: int) -> int:
        """A number in range(n) from the slot's own bytes."""
        return self.raw[k] % n

    def pick(self, k: int, seq: tuple) -> tuple:
        return seq[self.u(k, len(seq))]

    def second(self, k_first: int, k: int, seq: tuple) -> tuple:
        """A second element of seq, different from pick(k_first)."""
        first = self.u(k_first, len(seq))
        return seq[(first + 1 + self.u(k, len(seq) - 1)) % len(seq)]

    # The entities body sentences and tags reuse, so a story stays about the same things.
    @property
    def a(self) -> tuple:
        return self.pick(0, texts.COUNTRIES)

    @property
    def b(self) -> tuple:
        return self.second(0, 1, texts.COUNTRIES)

    @property
    def org(self) -> tuple:
        return self.pick(2, texts.ORGS)

    @property
    def person(self) -> tuple:
        return self.pick(3, texts.PERSONS)

    @property
    def city(self) -> tuple:
        return self.pick(4, texts.CITIES)

    def values(self, lang: str) -> "_Values":
        return _Values(self, lang)


_COUNTRY_FORMS = {"az": (0, 1), "en": (2, 2), "ru": (3, 4)}
_ORG_FORMS = {"az": (0, 0), "en": (1, 1), "ru": (2, 3)}
_TRIPLE = {"az": 0, "en": 1, "ru": 2}


def _month_in(month0: int, lang: str) -> str:
    """"in <month>": az locative (yanvarda), ru prepositional (январе)."""
    az, az_loc, en, ru_gen, ru_prep = texts.MONTHS[month0]
    return {"az": az_loc, "en": en, "ru": ru_prep}[lang]


def _month_range_end(month0: int, lang: str) -> str:
    """"January–<month>": az nominative (yanvar–mart aylarında), ru prepositional (в январе–марте)."""
    az, az_loc, en, ru_gen, ru_prep = texts.MONTHS[month0]
    return {"az": az, "en": en, "ru": ru_prep}[lang]


# slot name -> value in one language; slot numbers index the digest (see Slots.u).
_SLOT_RULES = {
    "A": lambda s, l: s.a[_COUNTRY_FORMS[l][0]],
    "A_GEN": lambda s, l: s.a[_COUNTRY_FORMS[l][1]],
    "B": lambda s, l: s.b[_COUNTRY_FORMS[l][0]],
    "B_GEN": lambda s, l: s.b[_COUNTRY_FORMS[l][1]],
    "ORG": lambda s, l: s.org[_ORG_FORMS[l][0]],
    "ORG_GEN": lambda s, l: s.org[_ORG_FORMS[l][1]],
    "P": lambda s, l: s.person[_TRIPLE[l]],
    "CITY": lambda s, l: s.city[_TRIPLE[l]],
    "T1": lambda s, l: s.pick(5, texts.TEAMS)[_TRIPLE[l]],
    "T2": lambda s, l: s.second(5, 6, texts.TEAMS)[_TRIPLE[l]],
    "POET": lambda s, l: s.pick(7, texts.POETS)[_TRIPLE[l]],
    "EXH": lambda s, l: s.pick(8, texts.EXHIBITIONS)[_TRIPLE[l]],
    "UPDOWN": lambda s, l: s.pick(9, texts.UPDOWN)[_TRIPLE[l]],
    "PURPOSE": lambda s, l: s.pick(10, texts.PURPOSES)[_TRIPLE[l]],
    "PCT": lambda s, l: _decimal((1 + s.u(11, 999)) / 10, 1, l),
    "PRICE": lambda s, l: _decimal((5500 + s.u(12, 3501)) / 100, 2, l),
    "MAG": lambda s, l: _decimal((30 + s.u(13, 46)) / 10, 1, l),
    "AMT": lambda s, l: str(2 + s.u(14, 949)),
    "NUM": lambda s, l: str(2 + s.u(15, 998)),
    "NUM_AZORD": lambda s, l: az_ordinal(2 + s.u(15, 998)),
    "NUM_ENORD": lambda s, l: en_ordinal(2 + s.u(15, 998)),
    "NUM5": lambda s, l: str(5 * (2 + s.u(16, 59))),
    "NUM5_ENORD": lambda s, l: en_ordinal(5 * (2 + s.u(16, 59))),
    "NUM10": lambda s, l: str(10 * (3 + s.u(17, 148))),
    "MEDALS": lambda s, l: str(5 + s.u(18, 16)),
    "ROUND": lambda s, l: str(1 + s.u(19, 36)),
    "ROUND_AZORD": lambda s, l: az_ordinal(1 + s.u(19, 36)),
    "ROUND_ENORD": lambda s, l: en_ordinal(1 + s.u(19, 36)),
    "PTS": lambda s, l: str(10 + s.u(20, 71)),
    "SPEED": lambda s, l: str(20 + s.u(21, 101)),
    "TEMP": lambda s, l: str(-5 + s.u(22, 31)),
    "YEAR": lambda s, l: str(2027 + s.u(23, 2)),
    "YEAR_AZORD": lambda s, l: az_ordinal(2027 + s.u(23, 2)),
    "S1": lambda s, l: str(1 + s.u(24, 5)),
    "S2": lambda s, l: str(s.u(25, 1 + s.u(24, 5))),
    "MON_LOC": lambda s, l: _month_in((s.local.month - 2) % 12, l),  # last month's figures
    "MON2": lambda s, l: _month_range_end(1 + s.u(26, 11), l),
    "DATE": lambda s, l: _tomorrow(s.local, l),
}
# Digest slots 27.. are for choices outside the text: template, look-alike letter, a long title's tail.
SLOT_TEMPLATE, SLOT_LOOKALIKE, SLOT_LOOKALIKE_AT, SLOT_TAIL = 27, 28, 29, 30
LONG_TITLES = 5  # percent of stories whose titles carry a tail (longer than a JSON-LD headline may be)


def _tomorrow(local: datetime, lang: str) -> str:
    day = local + timedelta(days=1)  # forecasts and rates are for the next day
    az, _, en, ru_gen, _ = texts.MONTHS[day.month - 1]
    return f"{day.day} {({'az': az, 'en': en, 'ru': ru_gen})[lang]}"


class _Values(dict):
    """str.format_map mapping that computes only the slots a template uses."""

    def __init__(self, slots: Slots, lang: str) -> None:
        super().__init__()
        self.slots, self.lang = slots, lang

    def __missing__(self, key: str) -> str:
        value = self[key] = _SLOT_RULES[key](self.slots, self.lang)
        return value


def _capitalize_first(text: str) -> str:
    # A template may start with a slot such as a month ("yanvarda ..."): titles start upper-case.
    return text[:1].upper() + text[1:] if text[:1].islower() else text


class Story:
    """What listings and lookups need; __slots__ keep 50,000 of them small."""

    __slots__ = ("index", "minute", "category", "langs", "titles", "slugs", "attempt", "zero_pad", "noisy")

    def __init__(self, index: int, minute: int, category: str, langs: tuple[str, ...]) -> None:
        self.index, self.minute, self.category, self.langs = index, minute, category, langs
        self.titles: dict[str, str] = {}
        self.slugs: dict[str, str] = {}
        self.attempt = 0
        self.zero_pad = False   # "01 dekabr, 2024" rather than "1 dekabr, 2024"
        self.noisy = False      # its markup carries entities, invisible characters, NFD letters

    @property
    def local(self) -> datetime:
        return EPOCH + timedelta(minutes=self.minute)


PHOTO_ROOT = "https://static.report.az/photo/"


@dataclass(frozen=True)
class Image:
    uuid: str
    caption: str

    @property
    def url(self) -> str:
        """The article's photo (what the ground truth holds)."""
        return f"{PHOTO_ROOT}{self.uuid}_850.jpg"

    @property
    def card_url(self) -> str:
        """The same photo as listings show it."""
        return f"{PHOTO_ROOT}{self.uuid}_490.jpg"


@dataclass(frozen=True)
class Plan:
    paragraphs: tuple[tuple[int, ...], ...]  # sentence numbers per paragraph
    tags: tuple[int, ...]                    # which of the story's entities are tags
    captions: tuple[int | None, ...]         # per image: caption template, None for no caption
    furniture: tuple[tuple[str, float | None], ...]  # (kind, share of the way into the text; None: the end)
    opener: int | None                       # wire-credit first paragraph (texts.OPENERS), or None
    channel: tuple[int, float] | None        # a paragraph citing a channel (texts.CHANNEL_PARAGRAPHS), where
    figures: tuple[float, ...]               # per image after the first: where in the body it stands


@dataclass(frozen=True)
class EditionText:
    """One edition of one story at one revision, as clean text."""

    title: str
    paragraphs: tuple[str, ...]
    tags: tuple[str, ...]
    images: tuple[Image, ...]                 # the main photo first, then the body figures
    boilerplate: tuple[tuple[int, str], ...]  # (position among real paragraphs, furniture text; "" = empty <p>)
    figure_at: tuple[int, ...] = ()           # per body figure (images[1:]): the paragraph it precedes

    @property
    def lead(self) -> str:
        return self.paragraphs[0]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


def _local_minute(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds()) // 60


class Corpus:
    """The whole site's stories and the indexes listings use, fixed for a (stories, seed) pair."""

    def __init__(self, stories: int = 300, seed: int = 1) -> None:
        if stories < 1:
            raise ValueError("stories must be at least 1")
        self.size, self.seed = stories, seed
        self.categories = category_table()
        keys = list(self.categories)
        cumulative = list(accumulate(CATEGORIES[k].weight for k in keys))
        step = max(1, SPREAD_MINUTES // stories)
        minute = _local_minute(NEWEST)
        self.stories: list[Story] = []
        for i in range(stories):
            # Story i's own digest decides its traits, so they do not depend on --stories.
            meta = _UNPACK(hashlib.sha512(f"replica:{seed}:{i}:meta".encode()).digest())
            if i:
                # Jitter keeps the rhythm irregular; at least a minute keeps timestamps unique.
                minute -= max(1, step + meta[0] % (2 * (step // 3) + 1) - step // 3)
            roll = meta[1] / 65536
            langs = next(s for bound, s in EDITION_SETS if roll < bound)
            category = keys[bisect_right(cumulative, meta[2] / 65536 * cumulative[-1])]
            story = Story(i, minute, category, langs)
            story.zero_pad = story.local.day < 10 and meta[3] % 2 == 0
            story.noisy = meta[5] % 100 < 40
            self.stories.append(story)
        self._use_every_category(keys)
        for story in self.stories:
            story.langs = self._editions_in_category(story.langs, CATEGORIES[story.category])
        self._make_titles()
        self._build_indexes()

    def _use_every_category(self, keys: list[str]) -> None:
        counts = {k: 0 for k in keys}
        for s in self.stories:
            counts[s.category] += 1
        missing = [k for k in keys if not counts[k]]
        for n, key in enumerate(missing):
            # Take stories from the biggest category, spread over the timeline.
            biggest = max(counts, key=counts.get)
            if counts[biggest] < 2:
                break
            candidates = [s for s in self.stories if s.category == biggest]
            story = candidates[(n * 7919) % len(candidates)]
            story.category = key
            counts[biggest] -= 1
            counts[key] += 1

    @staticmethod
    def _editions_in_category(langs: tuple[str, ...], category) -> tuple[str, ...]:
        """The story's editions that have its category's section, plus one whose page alone names
        the category (category.named_by) when none of them does."""
        kept = [lang for lang in langs if lang in category.editions]
        if not set(kept) & set(category.named_by):
            kept.append(category.named_by[0])
        return tuple(lang for lang in LANGS if lang in kept)

    def slots(self, story: Story) -> Slots:
        return Slots(f"replica:{self.seed}:{story.index}:slots:{story.attempt}", story.minute)

    def _make_titles(self) -> None:
        seen: dict[str, set[str]] = {lang: set() for lang in LANGS}
        slugs: dict[str, set[str]] = {lang: set() for lang in LANGS}
        for story in self.stories:
            templates = texts.TITLES[CATEGORIES[story.category].topic]
            titles: dict[str, str] = {}
            for attempt in range(40):
                story.attempt = attempt
                slots = self.slots(story)
                template = templates[slots.u(SLOT_TEMPLATE, len(templates))]
                titles = {}
                # One edition at a time: most repeats show in the first, so a retry costs little.
                tail = (texts.TITLE_TAILS[slots.u(SLOT_TAIL, 997) % len(texts.TITLE_TAILS)]
                        if slots.u(SLOT_TAIL, 100) < LONG_TITLES else None)
                for lang in story.langs:
                    title = _capitalize_first(template[LANG_POS[lang]].format_map(slots.values(lang)))
                    if tail is not None:
                        title += tail[LANG_POS[lang]].format_map(slots.values(lang))
                    if lang == "en" and slots.u(SLOT_LOOKALIKE, 100) < 6:
                        title = _lookalike(title, slots.u(SLOT_LOOKALIKE_AT, 1000))
                    if title in seen[lang]:
                        break
                    titles[lang] = title
                else:
                    break
            else:
                # Combinations exhausted (huge corpora, small categories): number the repeats.
                titles = {lang: _capitalize_first(template[LANG_POS[lang]].format_map(slots.values(lang)))
                          for lang in story.langs}
                n = 2
                while any(f"{title} ({n})" in seen[lang] for lang, title in titles.items()):
                    n += 1
                titles = {lang: f"{title} ({n})" for lang, title in titles.items()}
            for lang, title in titles.items():
                seen[lang].add(title)
                base = slug = make_slug(title, lang)
                n = 1
                while slug in slugs[lang]:  # the site numbers a repeated slug: -2, -3, ...
                    n += 1
                    slug = f"{base}-{n}"
                slugs[lang].add(slug)
                story.slugs[lang] = slug
            story.titles = titles

    def _build_indexes(self) -> None:
        self.by_slug: dict[str, dict[str, int]] = {lang: {} for lang in LANGS}
        self.lang_index: dict[str, array] = {lang: array("l") for lang in LANGS}
        self.lang_neg_minute: dict[str, array] = {lang: array("q") for lang in LANGS}
        self.category_index: dict[tuple[str, str], array] = {
            (lang, key): array("l") for key, editions in self.categories.items() for lang in editions}
        for story in self.stories:
            for lang in story.langs:
                self.by_slug[lang][story.slugs[lang]] = story.index
                self.lang_index[lang].append(story.index)
                self.lang_neg_minute[lang].append(-story.minute)
                self.category_index[(lang, story.category)].append(story.index)

    # --- lookups --------------------------------------------------------------

    def segment(self, key: str, lang: str) -> str:
        return self.categories[key][lang][0]

    def category_name(self, key: str, lang: str) -> str:
        return self.categories[key][lang][1]

    def category_by_segment(self, lang: str, segment: str) -> str | None:
        for key, editions in self.categories.items():
            if lang in editions and editions[lang][0] == segment:
                return key
        return None

    def categories_of(self, lang: str) -> list[str]:
        """The keys of the categories the edition has a section for, in table order."""
        return [key for key, editions in self.categories.items() if lang in editions]

    def path(self, story: Story, lang: str, slug: str | None = None) -> str:
        """The page's one spelling, the one every link uses: current-design pages without the
        trailing slash, pages still in the 2024 design with it (as their links were written then)."""
        slash = "/" if self.layout(story.index, lang).version == "legacy" else ""
        return f"{PREFIX[lang]}{self.segment(story.category, lang)}/{slug or story.slugs[lang]}{slash}"

    def other_spelling(self, path: str) -> str:
        """The same path with its trailing slash added or removed."""
        return path[:-1] if path.endswith("/") else path + "/"

    def find(self, lang: str, segment: str, slug: str) -> Story | None:
        index = self.by_slug[lang].get(slug)
        if index is None:
            return None
        story = self.stories[index]
        return story if self.segment(story.category, lang) == segment else None

    # --- text -----------------------------------------------------------------

    @lru_cache(maxsize=2048)
    def plan(self, index: int) -> Plan:
        """The language-independent shape of a story's text, drawn once for all its editions."""
        rng = random.Random(f"replica:{self.seed}:{index}:body")
        paragraphs = tuple(tuple(rng.sample(range(len(texts.SENTENCES)), rng.randint(1, 3)))
                           for _ in range(rng.randint(2, 8)))
        tags = tuple(rng.sample(range(6), rng.randint(1, 5)))
        captions = tuple(None if rng.random() < 0.3 else rng.randrange(len(texts.CAPTIONS))
                         for _ in range(rng.choices((0, 1, 2, 3), (30, 40, 20, 10))[0]))
        furniture = []
        # Rare, as on the live site: a source or share line, mostly at the end (None: after any update
        # paragraphs too), sometimes first or in between; now and then an empty paragraph.
        if rng.random() < 0.12:
            furniture.append((rng.choice(("source", "source", "share", "subscribe")),
                              rng.choice((None, None, None, 0.0, rng.random()))))
        if rng.random() < 0.12:
            furniture.append(("empty", rng.choice((None, rng.random()))))
        opener = rng.randrange(len(texts.OPENERS)) if rng.random() < 0.25 else None
        channel = ((rng.randrange(len(texts.CHANNEL_PARAGRAPHS)), rng.random()) if rng.random() < 0.5 else None)
        figures = tuple(sorted(rng.random() for _ in captions[1:]))
        return Plan(paragraphs, tags, captions, tuple(furniture), opener, channel, figures)

    @lru_cache(maxsize=4096)
    def text(self, index: int, lang: str, revision: int = 0, renamed: bool = False) -> EditionText:
        story = self.stories[index]
        plan = self.plan(index)
        slots = self.slots(story)
        values = slots.values(lang)
        n = LANG_POS[lang]
        paragraphs = [" ".join(texts.SENTENCES[k][n].format_map(values) for k in picks) for picks in plan.paragraphs]
        if plan.channel is not None:
            which, where = plan.channel
            paragraphs.insert(1 + int(where * len(paragraphs)),
                              texts.CHANNEL_PARAGRAPHS[which][n].format_map(values))
        if plan.opener is not None:
            paragraphs.insert(0, texts.OPENERS[plan.opener][n].format_map(values))
        original = len(paragraphs)
        for r in range(1, revision + 1):
            paragraphs.append(texts.UPDATE_PARAGRAPH[n].format(N=r, N_AZORD=az_ordinal(r)))

        candidates = (slots.a, slots.b, slots.org, slots.person, slots.city,
                      texts.TOPIC_TAGS[CATEGORIES[story.category].topic])
        tags: list[str] = []
        for k in plan.tags:
            form = (_COUNTRY_FORMS[lang][0] if len(candidates[k]) == 5 else _TRIPLE[lang])
            if candidates[k][form] not in tags:
                tags.append(candidates[k][form])

        images = tuple(
            Image(_uuid(hashlib.sha1(f"{self.seed}:{index}:{k}".encode()).digest()),
                  "" if caption is None else texts.CAPTIONS[caption][n].format_map(values))
            for k, caption in enumerate(plan.captions))
        # Body figures stand between paragraphs of the original text, in the order of the images.
        figure_at = tuple(1 + int(where * (original - 1)) for where in plan.figures)
        boilerplate = []
        for kind, where in plan.furniture:
            furniture = "" if kind == "empty" else texts.FURNITURE[lang].get(kind)
            if furniture is not None:  # not every edition has every kind
                boilerplate.append((len(paragraphs) if where is None else int(where * (original + 1)), furniture))
        title = self.title(story, lang, revision, renamed)
        return EditionText(title, tuple(paragraphs), tuple(tags), images, tuple(boilerplate), figure_at)

    @lru_cache(maxsize=8192)
    def layout(self, index: int, lang: str) -> "Layout":
        """How the page of one edition is marked up: from the story's own digest (and the edition's)."""
        d = _UNPACK(hashlib.sha512(f"replica:{self.seed}:{index}:layout".encode()).digest())
        e = _UNPACK(hashlib.sha512(f"replica:{self.seed}:{index}:{lang}:layout".encode()).digest())
        version = "current" if d[0] % 100 < CURRENT_SHARE else "legacy"
        current = version == "current"
        jsonld = d[9] % 100 < 50
        meta_published = d[12] % 100 < 65
        meta_section = d[13] % 100 < 65
        hidden_date = current and d[16] % 100 < 3
        if not current and not jsonld:
            meta_section = True  # a legacy page shows no category: its breadcrumb or meta must carry it
        if hidden_date and not jsonld:
            meta_published = True  # the date is still in the page, only not visible
        embeds = ()
        if d[17] % 100 < 25:
            kinds = [EMBEDS[d[18] % len(EMBEDS)]]
            if d[19] % 2:
                second = EMBEDS[(d[18] + 1 + d[20] % (len(EMBEDS) - 1)) % len(EMBEDS)]
                kinds.append(second)
            embeds = tuple((kind, d[21 + k] / 65536) for k, kind in enumerate(kinds))
        return Layout(
            version=version,
            tags=TAG_VARIANTS[d[1] % len(TAG_VARIANTS)],
            tag_href=TAG_HREFS[d[2] % len(TAG_HREFS)],
            editions=EDITION_VARIANTS[d[3] % len(EDITION_VARIANTS)],
            captions=CAPTION_VARIANTS[d[4] % len(CAPTION_VARIANTS)],
            lazy=LAZY_VARIANTS[d[5] % len(LAZY_VARIANTS)],
            placeholder=PLACEHOLDERS[d[6] % len(PLACEHOLDERS)],
            category_tag=("a", "span")[d[7] % 2] if current else None,
            copy_url=("bare", "https")[d[8] % 2] if current else None,
            site_id=site_id(index, lang) if current else None,
            jsonld=jsonld,
            jsonld_form=("scripts", "graph")[d[10] % 2],
            date_format=DATE_FORMATS[d[11] % len(DATE_FORMATS)],
            meta_published=meta_published,
            meta_section=meta_section,
            og_image=d[14] % 100 < 70,
            canonical=d[15] % 100 < 70,
            hidden_date=hidden_date,
            embeds=embeds,
            mojibake=e[0] % 100 < MOJIBAKE_SHARE,
            **draw_unseen(d, e),
        )

    def title(self, story: Story, lang: str, revision: int = 0, renamed: bool = False) -> str:
        return story.titles[lang] + (RENAMED_SUFFIX[lang] if renamed else "") + (UPDATED_SUFFIX if revision else "")


def _uuid(digest: bytes) -> str:
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def site_id(index: int, lang: str) -> int:
    """The site's own 7-digit article id: one per edition page, newer pages higher."""
    return SITE_ID_TOP - 4 * index - LANG_POS[lang]


# --- page layouts --------------------------------------------------------------------
# Each part of an article page whose real markup is unknown comes in several plausible
# markups (pages.py renders them); a story's digest picks one of each, independently.
CURRENT_SHARE = 70     # percent of stories in the current design; the rest in the 2024 (legacy) one
MOJIBAKE_SHARE = 5     # percent of pages with one paragraph in mojibake (when one round-trips)
SITE_ID_TOP = 2_900_000
TAG_VARIANTS = ("links_div", "list_ul", "label_p")
TAG_HREFS = ("tag", "tag/", "tags")                  # /tag/<slug>, /tag/<slug>/, /tags/<slug>
EDITION_VARIANTS = ("photo_cards", "label_list", "image_links")
CAPTION_VARIANTS = ("figcaption", "div_span", "table")
LAZY_VARIANTS = ("data-src", "data-cfsrc", "srcset", "src")
PLACEHOLDERS = ("https://static.report.az/assets/img/thunk_600.webp",
                "https://static.report.az/assets/img/thunk_400.jpg",
                "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
DATE_FORMATS = ("offset", "utc", "local")            # JSON-LD datePublished: +04:00, Z, Baku wall clock
EMBEDS = ("youtube", "script", "noscript", "style", "tweet")


def draw_unseen(d: tuple[int, ...], e: tuple[int, ...]) -> dict:
    """A page's draws from the renderings pools (tests/replica/renderings.py): the story's digest `d`
    for what all its editions share, the edition's `e` for its own; words d[24:] and e[2:] are theirs."""
    from tests.replica import renderings

    def pick(pool: dict, word: int) -> str:
        return list(pool)[word % len(pool)]

    return {
        "related": pick(renderings.RELATED, d[25]) if d[24] % 100 < renderings.RELATED_SHARE else None,
        "related_at": d[26] / 65536,
        "related_count": 1 + d[27] % 3,
        "reporting_link": pick(renderings.LINKS, d[29]) if d[28] % 100 < renderings.LINK_SHARE else None,
        "gallery": pick(renderings.GALLERIES, d[30]),
        "default_image": pick(renderings.DEFAULT_IMAGES, e[2]),
        "charset": (pick(renderings.LYING_CHARSETS, e[4]) if e[3] % 100 < renderings.LYING_SHARE
                    else pick(renderings.CHARSETS, e[4])),
        "head_order": e[5] if e[6] % 2 else 0,
    }


@dataclass(frozen=True)
class Layout:
    version: str                 # "current" | "legacy"
    tags: str                    # TAG_VARIANTS
    tag_href: str                # TAG_HREFS
    editions: str                # EDITION_VARIANTS
    captions: str                # CAPTION_VARIANTS
    lazy: str                    # where <img> keeps the photo: LAZY_VARIANTS
    placeholder: str             # the src of a lazy <img>
    category_tag: str | None     # current: the head's category is an "a" or a "span"; legacy: none shown
    copy_url: str | None         # current: .copy-url[data-url] "report.az/N" ("bare") or "https://report.az/N"
    site_id: int | None
    jsonld: bool                 # NewsArticle + BreadcrumbList
    jsonld_form: str             # "scripts" (one script each) | "graph" (one script, @graph)
    date_format: str             # DATE_FORMATS
    meta_published: bool         # meta[property=article:published_time]
    meta_section: bool           # meta[property=article:section] "Energy | Report.az"
    og_image: bool               # og:image (when the story has photos)
    canonical: bool              # link[rel=canonical]
    hidden_date: bool            # no visible date (JSON-LD or article:published_time still has it)
    embeds: tuple[tuple[str, float], ...]  # (EMBEDS kind, share of the way into the body)
    mojibake: bool               # one paragraph as UTF-8 read as cp1252 (pages.mojibake_paragraph)
    # The parts drawn from tests/replica/renderings.py's pools (draw_unseen):
    related: str | None = None   # a block of links to other stories inside the body: RELATED renderer
    related_at: float = 0.0      # where in the body it stands
    related_count: int = 1       # how many stories it links
    reporting_link: str | None = None  # a paragraph of reporting that links something: LINK renderer
    gallery: str = "figures"     # how the photos after the main one are shown: GALLERY renderer
    default_image: str = "none"  # where the site's default share image shows: DEFAULT_IMAGE
    charset: str = "utf-8"       # what the page's labels say and which bytes it is: CHARSET
    head_order: int = 0          # 0: the head as rendered; else the seed of its shuffle

    def describe(self) -> dict:
        return {"version": self.version, "tags": self.tags, "tag_href": self.tag_href, "editions": self.editions,
                "captions": self.captions, "lazy": self.lazy, "placeholder": self.placeholder,
                "category_tag": self.category_tag, "copy_url": self.copy_url, "site_id": self.site_id,
                "jsonld": self.jsonld, "jsonld_form": self.jsonld_form if self.jsonld else None,
                "date_format": self.date_format if self.jsonld else None,
                "meta_published": self.meta_published, "meta_section": self.meta_section,
                "og_image": self.og_image, "canonical": self.canonical, "hidden_date": self.hidden_date,
                "embeds": [kind for kind, _ in self.embeds], "related": self.related,
                "related_count": self.related_count if self.related else 0, "reporting_link": self.reporting_link,
                "gallery": self.gallery, "default_image": self.default_image, "charset": self.charset,
                "head_order": self.head_order}


def _lookalike(title: str, choice: int) -> str:
    """Swap one Latin letter inside a word for its Cyrillic twin."""
    spots = [k for k, ch in enumerate(title) if ch in LOOKALIKES and k and title[k - 1].isalpha()]
    if not spots:
        return title
    k = spots[choice % len(spots)]
    return title[:k] + LOOKALIKES[title[k]] + title[k + 1:]


class State:
    """What changes while the replica runs: unpublished stories, edits, slug edits, late editions."""

    def __init__(self, corpus: Corpus, hidden: int = 0, late: int = 0) -> None:
        self.corpus = corpus
        self.hidden = max(0, min(hidden, corpus.size))
        self.revisions: dict[int, int] = {}
        # Slug edits: story -> language -> its new slug; and the old slugs, still recognised.
        self.renamed: dict[int, dict[str, str]] = {}
        self.old_slugs: dict[str, dict[str, int]] = {lang: {} for lang in LANGS}
        # (story, language) of the editions not published yet: the last edition (LANGS order) of
        # the `late` newest stories that have two or more.
        multi = (s for s in corpus.stories if len(s.langs) > 1)
        self.held: set[tuple[int, str]] = {(s.index, s.langs[-1]) for _, s in zip(range(max(0, late)), multi)}
        # When each story last changed (an edit, a slug edit, a late edition published), Baku wall clock:
        # what the sitemaps' <lastmod> shows beside its publication time.
        self.touched: dict[int, datetime] = {}
        self.generation = 0  # bumped on every change; caches key on it
        self.snippets: dict[tuple, str] = {}  # rendered cards, keyed by story, edition and revision
        self._reindex()

    def _reindex(self) -> None:
        """The listing indexes without the held editions (the corpus's own when none is held)."""
        corpus = self.corpus
        if not self.held:
            self.lang_index, self.lang_neg_minute = corpus.lang_index, corpus.lang_neg_minute
            self.category_index = corpus.category_index
            return
        skip: dict[str, set[int]] = {lang: set() for lang in LANGS}
        for index, lang in self.held:
            skip[lang].add(index)
        self.lang_index, self.lang_neg_minute = {}, {}
        for lang in LANGS:
            keep = [k for k, index in enumerate(corpus.lang_index[lang]) if index not in skip[lang]]
            self.lang_index[lang] = array("l", (corpus.lang_index[lang][k] for k in keep))
            self.lang_neg_minute[lang] = array("q", (corpus.lang_neg_minute[lang][k] for k in keep))
        self.category_index = {(lang, key): array("l", (i for i in index if i not in skip[lang]))
                               for (lang, key), index in corpus.category_index.items()}

    def publish(self, count: int) -> int:
        self.hidden = max(0, self.hidden - max(0, count))
        self.generation += 1
        return self.hidden

    def publish_late(self) -> int:
        """Publish every held edition; the other editions of its story now link it. How many there were."""
        count = len(self.held)
        for index, _lang in self.held:
            self.touch(index)  # the late edition appears and its siblings' pages now link it
        self.held.clear()
        self._reindex()
        self.generation += 1
        return count

    def edit(self, index: int) -> int:
        self.revisions[index] = self.revisions.get(index, 0) + 1
        self.touch(index)
        self.generation += 1
        return self.revisions[index]

    def rename(self, index: int) -> dict[str, str] | None:
        """Correct the title of every edition of story `index`, which gives each a new slug (the
        site's short link, site_id, stays). The new paths by language; None if it was renamed already."""
        if index in self.renamed:
            return None
        story = self.corpus.stories[index]
        slugs = {}
        for lang in story.langs:
            base = slug = make_slug(self.corpus.title(story, lang, renamed=True), lang)
            n = 1
            # A long title's slug is cut at 90 characters, where the correction may not show.
            while slug in self.corpus.by_slug[lang] or slug in self.old_slugs[lang]:
                n += 1
                slug = f"{base}-{n}"
            slugs[lang] = slug
            self.old_slugs[lang][story.slugs[lang]] = index
        self.renamed[index] = slugs
        self.touch(index)
        self.generation += 1
        return {lang: self.path(story, lang) for lang in story.langs}

    def touch(self, index: int) -> None:
        """Record that story `index` changed now (the replica's clock is the machine's, in Baku time)."""
        now = datetime.now(timezone.utc).astimezone(BAKU_TZ).replace(tzinfo=None, microsecond=0)
        self.touched[index] = max(now, self.corpus.stories[index].local)

    def lastmod(self, story: Story) -> datetime:
        """When the story's pages last changed: its publication, or a later edit (Baku wall clock)."""
        return self.touched.get(story.index, story.local)

    def revision(self, index: int) -> int:
        return self.revisions.get(index, 0)

    def is_renamed(self, story: Story) -> bool:
        return story.index in self.renamed

    def is_published(self, story: Story) -> bool:
        return story.index >= self.hidden

    def has_edition(self, story: Story, lang: str) -> bool:
        """A published story's edition is out unless it is held back (--late)."""
        return lang in story.langs and (story.index, lang) not in self.held

    def langs(self, story: Story) -> tuple[str, ...]:
        """The story's published editions, in LANGS order."""
        return tuple(lang for lang in story.langs if (story.index, lang) not in self.held)

    def path(self, story: Story, lang: str) -> str:
        """The page's path now, in its one spelling (a slug edit moves it)."""
        return self.corpus.path(story, lang, self.renamed.get(story.index, {}).get(lang))

    def find(self, lang: str, segment: str, slug: str) -> tuple[Story, bool] | None:
        """(story, whether `slug` is its current slug) for an article path's segment and slug."""
        corpus = self.corpus
        index = next((i for i, slugs in self.renamed.items() if slugs.get(lang) == slug), None)
        current = True
        if index is None:
            index = self.old_slugs[lang].get(slug)
            current = False
        if index is None:
            story = corpus.find(lang, segment, slug)
            return (story, True) if story is not None else None
        story = corpus.stories[index]
        return (story, current) if corpus.segment(story.category, lang) == segment else None

    def text(self, story: Story, lang: str) -> EditionText:
        return self.corpus.text(story.index, lang, self.revision(story.index), self.is_renamed(story))

    def title(self, story: Story, lang: str) -> str:
        return self.corpus.title(story, lang, self.revision(story.index), self.is_renamed(story))

    # --- listings: story indices, newest first ----------------------------------

    def latest(self, lang: str, count: int, before: datetime | None = None) -> list[Story]:
        """The newest published stories of an edition, strictly older than `before` when given."""
        index = self.lang_index[lang]
        start = bisect_left(index, self.hidden)
        if before is not None:
            # Stories at minute m are older than `before` when m*60 < its seconds.
            seconds = int((before - EPOCH).total_seconds())
            limit = -(-seconds // 60)  # ceil
            start = max(start, bisect_right(self.lang_neg_minute[lang], -limit))
        return [self.corpus.stories[i] for i in index[start:start + count]]

    def category_page(self, lang: str, key: str, page: int, per_page: int) -> tuple[list[Story], bool]:
        """One page of a category listing and whether a next page exists."""
        index = self.category_index[(lang, key)]
        start = bisect_left(index, self.hidden) + (page - 1) * per_page
        found = [self.corpus.stories[i] for i in index[start:start + per_page]]
        return found, start + per_page < len(index)

    def cumulative_category_page(self, lang: str, key: str, page: int, per_page: int) -> tuple[list[Story], bool]:
        """What /{category}/page/N shows on the live site: every card of pages 1..N, and whether a
        page N+1 would add more."""
        index = self.category_index[(lang, key)]
        start = bisect_left(index, self.hidden)
        end = start + page * per_page
        return [self.corpus.stories[i] for i in index[start:end]], end < len(index)

    def published_stories(self) -> list[Story]:
        """Every published story, newest first."""
        return self.corpus.stories[self.hidden:]

    def published_count(self, lang: str, key: str | None = None) -> int:
        index = self.lang_index[lang] if key is None else self.category_index[(lang, key)]
        return len(index) - bisect_left(index, self.hidden)

    # --- ground truth ---------------------------------------------------------------

    def truth_records(self, base_url: str) -> Iterator[dict]:
        """One record per published edition, exactly the fields newsbot.items.GROUND_TRUTH_FIELDS.

        The state is read when this is called, so a stream stays consistent if
        stories are published, edited or renamed while it is being sent.
        """
        return self._truth(base_url.rstrip("/"), self.hidden, dict(self.revisions),
                           {i: dict(slugs) for i, slugs in self.renamed.items()}, set(self.held))

    def _truth(self, base: str, hidden: int, revisions: dict[int, int], renamed: dict[int, dict[str, str]],
               held: set[tuple[int, str]]) -> Iterator[dict]:
        corpus = self.corpus
        # Paths are lower-case and spelled as the site links them, so canonical_url(base + path)
        # is the canonical root followed by the path.
        root = canonical_url(base + "/")[:-1]
        for story in corpus.stories[hidden:]:
            revision = revisions.get(story.index, 0)
            slugs = renamed.get(story.index, {})
            is_renamed = story.index in renamed
            langs = [lang for lang in story.langs if (story.index, lang) not in held]
            urls = {lang: root + corpus.path(story, lang, slugs.get(lang)) for lang in langs}
            shared_story_id = story_id(urls.values())
            local = story.local
            utc = local - timedelta(hours=4)
            for lang in langs:
                text = corpus.text(story.index, lang, revision, is_renamed)
                yield {
                    "url": urls[lang],
                    "article_id": article_id(urls[lang]),
                    "site_id": corpus.layout(story.index, lang).site_id,
                    "source": SOURCE,
                    "language": lang,
                    "title": text.title,
                    "lead": text.lead,
                    "body": text.body,
                    "word_count": word_count(text.body),
                    "published_at": f"{local:%Y-%m-%dT%H:%M:%S}+04:00",
                    "published_at_utc": f"{utc:%Y-%m-%dT%H:%M:%S}Z",
                    "category": corpus.category_name(story.category, lang),
                    "category_slug": story.category,
                    "tags": list(text.tags),
                    "images": [{"url": image.url, "caption": image.caption} for image in text.images],
                    "translations": [{"language": other, "url": urls[other],
                                      "title": corpus.title(story, other, revision, is_renamed)}
                                     for other in langs if other != lang],
                    "story_id": shared_story_id,
                }

    def truth_index(self, base_url: str) -> Iterator[tuple[int, dict]]:
        """(story index, {"url", "language"}) per published edition, the URLs as the ground truth has them."""
        root = canonical_url(base_url.rstrip("/") + "/")[:-1]
        for story in self.corpus.stories[self.hidden:]:
            for lang in self.langs(story):
                yield story.index, {"url": root + self.path(story, lang), "language": lang}

    def truth_jsonl(self, base_url: str) -> Iterator[str]:
        return (json.dumps(record, ensure_ascii=False) + "\n" for record in self.truth_records(base_url))
