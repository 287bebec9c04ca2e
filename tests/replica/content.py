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
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Iterator

# Identity and counting definitions shared with the crawler, so ids match by construction.
from newsbot.normalize import article_id, canonical_url, story_id, word_count
from tests.replica import texts

LANGS: tuple[str, ...] = ("az", "en", "ru")
LANG_POS = {lang: n for n, lang in enumerate(LANGS)}
PREFIX = {"az": "/", "en": "/en/", "ru": "/ru/"}
SOURCE = "report.az"
NEWEST = datetime(2026, 1, 28, 21, 6)  # Baku wall clock (UTC+04:00, no DST)
EPOCH = datetime(1970, 1, 1)
SPREAD_MINUTES = 42 * 24 * 60
UPDATED_SUFFIX = " (updated)"
CATEGORIES_JSON = Path(__file__).resolve().parents[2] / "newsbot" / "data" / "categories.json"

# Uneven on purpose: listings of different lengths, a few nearly empty categories.
CATEGORY_WEIGHTS = {
    "energy": 14, "foreign-politics": 14, "other-countries": 12, "business": 12, "domestic-politics": 10,
    "economy": 10, "region": 9, "finance": 8, "society": 6, "sports": 4, "ict": 3, "culture": 2,
}
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


@lru_cache(maxsize=1)
def category_table() -> dict[str, dict[str, tuple[str, str]]]:
    """key -> language -> (URL segment, display name), as the crawler's own table has it."""
    table = json.loads(CATEGORIES_JSON.read_text("utf-8"))["categories"]
    return {key: {lang: (seg, name) for lang, (seg, name) in editions.items()} for key, editions in table.items()}


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
# Digest slots 27.. are for choices outside the text: template, look-alike letter.
SLOT_TEMPLATE, SLOT_LOOKALIKE, SLOT_LOOKALIKE_AT = 27, 28, 29


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

    __slots__ = ("index", "minute", "category", "langs", "titles", "slugs", "attempt", "zero_pad", "noslash",
                 "noisy")

    def __init__(self, index: int, minute: int, category: str, langs: tuple[str, ...]) -> None:
        self.index, self.minute, self.category, self.langs = index, minute, category, langs
        self.titles: dict[str, str] = {}
        self.slugs: dict[str, str] = {}
        self.attempt = 0
        self.zero_pad = False   # "01 dekabr, 2024" rather than "1 dekabr, 2024"
        self.noslash = False    # links to it lack the trailing slash, as some on the real site do
        self.noisy = False      # its markup carries entities, invisible characters, NFD letters

    @property
    def local(self) -> datetime:
        return EPOCH + timedelta(minutes=self.minute)


@dataclass(frozen=True)
class Image:
    path: str
    caption: str


@dataclass(frozen=True)
class Plan:
    paragraphs: tuple[tuple[int, ...], ...]  # sentence numbers per paragraph
    tags: tuple[int, ...]                    # which of the story's entities are tags
    captions: tuple[int | None, ...]         # per image: caption template, None for no caption
    furniture: tuple[tuple[int, int | None], ...]  # (which boilerplate, position or None for the end)


@dataclass(frozen=True)
class EditionText:
    """One edition of one story at one revision, as clean text."""

    title: str
    paragraphs: tuple[str, ...]
    tags: tuple[str, ...]
    images: tuple[Image, ...]
    boilerplate: tuple[tuple[int, str], ...]  # (position among real paragraphs, furniture text)

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
        cumulative = list(accumulate(CATEGORY_WEIGHTS.get(k, 3) for k in keys))
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
            story.noslash = meta[4] % 100 < 15
            story.noisy = meta[5] % 100 < 40
            self.stories.append(story)
        self._use_every_category(keys)
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

    def slots(self, story: Story) -> Slots:
        return Slots(f"replica:{self.seed}:{story.index}:slots:{story.attempt}", story.minute)

    def _make_titles(self) -> None:
        seen: dict[str, set[str]] = {lang: set() for lang in LANGS}
        slugs: dict[str, set[str]] = {lang: set() for lang in LANGS}
        for story in self.stories:
            templates = texts.TITLES[story.category] if story.category in texts.TITLES else texts.TITLES["region"]
            titles: dict[str, str] = {}
            for attempt in range(40):
                story.attempt = attempt
                slots = self.slots(story)
                template = templates[slots.u(SLOT_TEMPLATE, len(templates))]
                titles = {}
                # One edition at a time: most repeats show in the first, so a retry costs little.
                for lang in story.langs:
                    title = _capitalize_first(template[LANG_POS[lang]].format_map(slots.values(lang)))
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
            (lang, key): array("l") for key in self.categories for lang in LANGS}
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
            if editions[lang][0] == segment:
                return key
        return None

    def path(self, story: Story, lang: str) -> str:
        return f"{PREFIX[lang]}{self.segment(story.category, lang)}/{story.slugs[lang]}/"

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
        for which in rng.sample(range(4), rng.randint(0, 3)):
            # Mostly after the text (None: after any update paragraphs too), sometimes first or in between.
            furniture.append((which, rng.choice((None, None, 0, rng.randint(0, len(paragraphs))))))
        return Plan(paragraphs, tags, captions, tuple(furniture))

    @lru_cache(maxsize=4096)
    def text(self, index: int, lang: str, revision: int = 0) -> EditionText:
        story = self.stories[index]
        plan = self.plan(index)
        slots = self.slots(story)
        values = slots.values(lang)
        n = LANG_POS[lang]
        paragraphs = [" ".join(texts.SENTENCES[k][n].format_map(values) for k in picks) for picks in plan.paragraphs]
        for r in range(1, revision + 1):
            paragraphs.append(texts.UPDATE_PARAGRAPH[n].format(N=r, N_AZORD=az_ordinal(r)))

        candidates = (slots.a, slots.b, slots.org, slots.person, slots.city,
                      texts.TOPIC_TAGS.get(story.category, texts.TOPIC_TAGS["region"]))
        tags: list[str] = []
        for k in plan.tags:
            form = (_COUNTRY_FORMS[lang][0] if len(candidates[k]) == 5 else _TRIPLE[lang])
            if candidates[k][form] not in tags:
                tags.append(candidates[k][form])

        day = story.local
        images = tuple(
            Image(f"/uploads/{day:%Y/%m/%d}/{hashlib.sha1(f'{self.seed}:{index}:{k}'.encode()).hexdigest()[:20]}.jpg",
                  "" if caption is None else texts.CAPTIONS[caption][n].format_map(values))
            for k, caption in enumerate(plan.captions))
        furniture = texts.BOILERPLATE[lang] + ("",)  # "" is an empty <p>&nbsp;</p>
        boilerplate = tuple((len(paragraphs) if where is None else where, furniture[which])
                            for which, where in plan.furniture)
        title = story.titles[lang] + (UPDATED_SUFFIX if revision else "")
        return EditionText(title, tuple(paragraphs), tuple(tags), images, boilerplate)

    def title(self, story: Story, lang: str, revision: int = 0) -> str:
        return story.titles[lang] + (UPDATED_SUFFIX if revision else "")


def _lookalike(title: str, choice: int) -> str:
    """Swap one Latin letter inside a word for its Cyrillic twin."""
    spots = [k for k, ch in enumerate(title) if ch in LOOKALIKES and k and title[k - 1].isalpha()]
    if not spots:
        return title
    k = spots[choice % len(spots)]
    return title[:k] + LOOKALIKES[title[k]] + title[k + 1:]


class State:
    """What changes while the replica runs: unpublished stories and edits."""

    def __init__(self, corpus: Corpus, hidden: int = 0) -> None:
        self.corpus = corpus
        self.hidden = max(0, min(hidden, corpus.size))
        self.revisions: dict[int, int] = {}
        self.generation = 0  # bumped on every change; caches key on it
        self.snippets: dict[tuple, str] = {}  # rendered cards, keyed by story, edition and revision

    def publish(self, count: int) -> int:
        self.hidden = max(0, self.hidden - max(0, count))
        self.generation += 1
        return self.hidden

    def edit(self, index: int) -> int:
        self.revisions[index] = self.revisions.get(index, 0) + 1
        self.generation += 1
        return self.revisions[index]

    def revision(self, index: int) -> int:
        return self.revisions.get(index, 0)

    def is_published(self, story: Story) -> bool:
        return story.index >= self.hidden

    def text(self, story: Story, lang: str) -> EditionText:
        return self.corpus.text(story.index, lang, self.revision(story.index))

    def title(self, story: Story, lang: str) -> str:
        return self.corpus.title(story, lang, self.revision(story.index))

    # --- listings: story indices, newest first ----------------------------------

    def latest(self, lang: str, count: int, before: datetime | None = None) -> list[Story]:
        """The newest published stories of an edition, strictly older than `before` when given."""
        index = self.corpus.lang_index[lang]
        start = bisect_left(index, self.hidden)
        if before is not None:
            # Stories at minute m are older than `before` when m*60 < its seconds.
            seconds = int((before - EPOCH).total_seconds())
            limit = -(-seconds // 60)  # ceil
            start = max(start, bisect_right(self.corpus.lang_neg_minute[lang], -limit))
        return [self.corpus.stories[i] for i in index[start:start + count]]

    def category_page(self, lang: str, key: str, page: int, per_page: int) -> tuple[list[Story], bool]:
        """One page of a category listing and whether a next page exists."""
        index = self.corpus.category_index[(lang, key)]
        start = bisect_left(index, self.hidden) + (page - 1) * per_page
        found = [self.corpus.stories[i] for i in index[start:start + per_page]]
        return found, start + per_page < len(index)

    def published_count(self, lang: str, key: str | None = None) -> int:
        index = self.corpus.lang_index[lang] if key is None else self.corpus.category_index[(lang, key)]
        return len(index) - bisect_left(index, self.hidden)

    # --- ground truth ---------------------------------------------------------------

    def truth_records(self, base_url: str) -> Iterator[dict]:
        """One record per published edition, exactly the fields newsbot.items.GROUND_TRUTH_FIELDS.

        The state is read when this is called, so a stream stays consistent if
        stories are published or edited while it is being sent.
        """
        return self._truth(base_url.rstrip("/"), self.hidden, dict(self.revisions))

    def _truth(self, base: str, hidden: int, revisions: dict[int, int]) -> Iterator[dict]:
        corpus = self.corpus
        # Paths are already canonical (lower-case, trailing slash), so canonical_url(base + path)
        # is the canonical root followed by the path.
        root = canonical_url(base + "/")[:-1]
        for story in corpus.stories[hidden:]:
            revision = revisions.get(story.index, 0)
            urls = {lang: root + corpus.path(story, lang) for lang in story.langs}
            shared_story_id = story_id(urls.values())
            local = story.local
            utc = local - timedelta(hours=4)
            for lang in story.langs:
                text = corpus.text(story.index, lang, revision)
                yield {
                    "url": urls[lang],
                    "article_id": article_id(urls[lang]),
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
                    "images": [{"url": base + image.path, "caption": image.caption} for image in text.images],
                    "translations": [{"language": other, "url": urls[other],
                                      "title": corpus.title(story, other, revision)}
                                     for other in story.langs if other != lang],
                    "story_id": shared_story_id,
                }

    def truth_jsonl(self, base_url: str) -> Iterator[str]:
        return (json.dumps(record, ensure_ascii=False) + "\n" for record in self.truth_records(base_url))
