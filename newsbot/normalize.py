"""Small pure functions that turn what a page shows into clean field values."""

from __future__ import annotations

import functools
import hashlib
import html
import json
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import ftfy

from newsbot.site.clock import BAKU, DATE, NUMERIC_DATE, TIME
from newsbot.site.furniture import rule_for as furniture_rule
from newsbot.site.urls import SITE_HOSTS
from newsbot.site.words import LETTERS, MONTHS


# A regex, not str.translate: translate with a table is far slower on paragraphs of non-ASCII text.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]+")
_SPACES = re.compile(r"[\s\u00a0\u2007\u202f]+")


def clean_text(value: str | None) -> str:
    """Text as published, but NFC, entities decoded, invisible characters gone, whitespace collapsed."""
    if not value:
        return ""
    # The parser has decoded entities once; a second pass undoes the CMS's double escaping
    # ("&amp;quot;" shown as a literal "&quot;"), which is never what the reporter wrote.
    text = _INVISIBLE.sub("", html.unescape(value))
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


# Joins the values clean_texts cleans in one pass: not whitespace, so no rule below crosses it, and
# never in page text (newsbot.html drops NULs before parsing, as parsel does).
_JOIN = "\x00"


def clean_texts(values: list[str]) -> list[str]:
    """clean_text of each value, in one pass over their joined text: a page's paragraphs cost one
    run of each rule instead of one per paragraph."""
    values = [v or "" for v in values]
    if len(values) < 2 or any(_JOIN in v for v in values):
        return [clean_text(v) for v in values]
    return [v.strip() for v in clean_text(_JOIN.join(values)).split(_JOIN)]


def repair_mojibake_all(values: list[str]) -> list[str]:
    """repair_mojibake of each value; one search tells that none of them needs it (the usual case)."""
    if not _looks_misread(_JOIN.join(v or "" for v in values)):
        return [v or "" for v in values]
    return [repair_mojibake(v) for v in values]


# The charsets UTF-8 is commonly mis-read as (REPORT_AZ.md: the server's charset is unreliable).
MISREADINGS = ("latin-1", "sloppy-windows-1252", "sloppy-windows-1251", "koi8-r")
# Every character the editions write (their letters and combining marks, ASCII, typography, markup's
# spaces and invisible characters, the NUL that joins a page's values): UTF-8 read as another charset
# leaves others in any title or paragraph (Ã, Ð, ™, Ђ, ѓ, box drawings...).
_WRITTEN = "".join(sorted(
    LETTERS | set(string.printable) | {_JOIN} | set("«»“”„‘’…—–№°·©\u00a0\u00ad\u2007\u202f\u200b\u200c\u200d\u2060\ufeff")))
_NOT_WRITTEN = "[^" + re.escape(_WRITTEN) + "\u0300-\u036f]"


def _written_misreadings() -> str:
    """The sequences a misreading can leave that are all characters the editions write ("Д°" for İ,
    "Р°" for а): the letter a lead byte became, then what its continuation bytes became, per charset,
    derived from the codecs. Not a no-break space or soft hyphen after a letter: real text is full of
    both, and a misread title or paragraph shows other signs."""
    import ftfy.bad_codecs  # noqa: F401  (registers the sloppy-windows codecs)

    def klass(characters: set[str]) -> str:
        return "[" + re.escape("".join(sorted(characters))) + "]"

    def chars(first: int, last: int, encoding: str) -> set[str]:
        return set(bytes(range(first, last + 1)).decode(encoding))

    # Each sequence is found at its last character, a lookbehind for the rest: the search skips to the
    # few characters that can end one instead of trying every sequence at every character.
    ends, before = set(), []
    for encoding in MISREADINGS:
        follows = chars(0x80, 0xBF, encoding) & set(_WRITTEN) - set("\u00a0\u00ad")
        ends |= follows
        before.append(f"(?<={klass(chars(0xC2, 0xDF, encoding) & LETTERS)}{klass(follows)})")
        before.append(f"(?<={klass(chars(0xE0, 0xEF, encoding) & LETTERS)}{klass(follows)}{klass(follows)})")
    return f"{klass(ends)}(?:{'|'.join(before)})"


# What a misread text holds: a character the editions never write, or a sequence of written ones a
# misreading makes. Two searches: each alone skips quickly to where it could match, one of both cannot.
_SIGNS = (re.compile(_NOT_WRITTEN), re.compile(_written_misreadings()))


def _within_a_word(fixed: str, value: str) -> bool:
    """Whether a character the decoding made touches a letter: a lone sign of a misreading is no evidence
    ("С…" is "х" read as cp1251, and as likely a word cut short), one within a word is ("CafÃ©")."""
    return any(c not in value and (fixed[i - 1:i].isalpha() or fixed[i + 1:i + 2].isalpha())
               for i, c in enumerate(fixed))


def _looks_misread(text: str) -> bool:
    return any(sign.search(text) for sign in _SIGNS)


def _signs_of_misreading(text: str) -> int:
    return sum(len(sign.findall(text)) for sign in _SIGNS)


def repair_mojibake(value: str | None) -> str:
    """Text that went through a wrong charset, decoded back; clean text unchanged. ftfy decides first;
    as it wants more evidence than a short title gives and knows no KOI8-R, a text wholly misread as
    one of MISREADINGS is then decoded back when that leaves fewer signs of a misreading."""
    if not value or not _looks_misread(value):
        return value or ""
    fixed = ftfy.fix_encoding(value)
    if fixed != value:
        return fixed
    signs = _signs_of_misreading(value)
    for encoding in MISREADINGS:
        try:
            fixed = value.encode(encoding).decode("utf-8")
        except UnicodeError:
            continue
        # A combining mark with nothing to combine with is no text anyone wrote: the bytes only
        # happened to decode (Cyrillic "М…" read back as cp1251 makes a lone U+0305).
        if _signs_of_misreading(fixed) < signs and (signs > 1 or _within_a_word(fixed, value)) and not any(
                unicodedata.category(c).startswith("M") and (i == 0 or not fixed[i - 1].isalpha())
                for i, c in enumerate(fixed)):
            return fixed
    return value


def display_text(value: str | None) -> str:
    """One text as the reader sees it: mojibake repaired, then cleaned. A listing card's title and the
    article's own are compared this way, so a title that differs only by how it was decoded is the same."""
    return clean_text(repair_mojibake(value))


_SLASHES = re.compile(r"/{2,}")
_TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|yclid|msclkid|_ga|_gl|mc_cid|mc_eid|igshid|ref|from)$", re.I)


@functools.lru_cache(maxsize=8192)  # a story's URLs recur on every edition page, card and feed
def canonical_url(url: str) -> str:
    """One spelling per link: https on report.az, no www, no tracking parameters, no fragment; the path
    as the site wrote it (with or without a trailing slash), as the other may get a redirect or a 404."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower() or "https", (parts.hostname or "").lower()
    if host in SITE_HOSTS:
        scheme, host = "https", SITE_HOSTS[0]
    netloc = host if parts.port in (None, 80, 443) else f"{host}:{parts.port}"
    path = _SLASHES.sub("/", parts.path or "/")
    # Most links carry no query: skip parsing and re-encoding one.
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING_PARAMS.match(k)]) if parts.query else ""
    return urlunsplit((scheme, netloc, path, query, ""))


# The path of an absolute URL: a regex, as urlsplit is slower and the store keys every link by it.
_ABSOLUTE_PATH = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*([^?#]*)")


def url_key(url: str) -> str:
    """What identifies a page whatever the spelling of its link: the path without its trailing
    slash (and without doubled slashes), so /x/y and /x/y/, on any host or scheme, are one page."""
    url = url.strip()
    match = _ABSOLUTE_PATH.match(url)
    path = match[1] if match else urlsplit(url).path
    if "//" in path:
        path = _SLASHES.sub("/", path)
    return path.rstrip("/") or "/"


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def article_id(url: str) -> str:
    """The id a URL starts out with, a hash of its url_key; an article whose slug is edited keeps the
    id it was first stored under (docs/schema.md, Identity)."""
    return _short_hash(url_key(url))


def story_id(edition_urls: Iterable[str]) -> str:
    """The id a page proposes for its story, from the smallest url_key among its own URL and the
    editions it links; the store may give another (docs/schema.md, Identity)."""
    keys = {url_key(u) for u in edition_urls if u}
    return _short_hash(min(keys)) if keys else ""


def parse_site_datetime(date_text: str | None, time_text: str | None = None) -> datetime | None:
    """A Baku-time datetime from the site's "28 January, 2026" / "28 yanvar, 2026" /
    "28 января, 2026" (or "28.01.2026") and "16:35"; None when it cannot be read."""
    date_text = clean_text(date_text).casefold()
    match = DATE.search(date_text)
    if match:
        day, month, year = int(match[1]), MONTHS.get(match[2]), int(match[3])
    else:
        numeric = NUMERIC_DATE.search(date_text)
        if not numeric:
            return None
        day, month, year = int(numeric[1]), int(numeric[2]), int(numeric[3])
    time_match = TIME.search(clean_text(time_text)) or TIME.search(date_text[match.end():] if match else "")
    hour, minute, second = (int(time_match[1]), int(time_match[2]), int(time_match[3] or 0)) if time_match else (0, 0, 0)
    try:
        return datetime(year, month or 0, day, hour, minute, second, tzinfo=BAKU)
    except (TypeError, ValueError):
        return None


def parse_timestamp(value: str | None) -> datetime | None:
    """A card's data-timestamp ("2026-01-28 16:35:00", Baku local) or an ISO string with offset."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BAKU)


def iso_local(moment: datetime | None) -> str:
    return moment.astimezone(BAKU).isoformat() if moment else ""


def iso_utc(moment: datetime | None) -> str:
    # isoformat, not strftime: cheaper, and called twice per article.
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()[:-6] + "Z" if moment else ""


def utc_now_iso() -> str:
    return iso_utc(datetime.now(timezone.utc))


def word_count(text: str) -> int:
    return len(re.findall(r"\w+(?:[-'’]\w+)*", text))


def content_hash(fields: dict[str, Any]) -> str:
    """Hash of what an edit can change, so a later crawl can tell an update from a duplicate."""
    payload = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_TRANSLIT = str.maketrans({
    "ə": "e", "ğ": "g", "ı": "i", "ö": "o", "ü": "u", "ç": "c", "ş": "s",
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
})


def slugify(text: str) -> str:
    """An ASCII key for a name newsbot has no mapping for."""
    ascii_text = unicodedata.normalize("NFKD", clean_text(text).casefold().translate(_TRANSLIT))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


# --- the item loader's processors (newsbot.items declares which field uses which) ----------------

def each(*functions: Callable[[Any], Any]) -> Callable[[list[Any]], list[Any]]:
    """MapCompose for plain one-value functions (a None result drops the value), without the loader
    context and list flattening that cost MapCompose more per call than these functions do."""
    def apply(values: list[Any]) -> list[Any]:
        out = []
        for value in values:
            for function in functions:
                value = function(value)
                if value is None:
                    break
            else:
                out.append(value)
        return out
    return apply


def texts(values: list[str]) -> list[str]:
    """A field's text values (a page's paragraphs), repaired and cleaned in one pass over them all."""
    return clean_texts(repair_mojibake_all(values))


def real_paragraphs(values: list[str], loader_context: dict) -> list[str]:
    """Drops known page furniture; what was dropped is left in the context, once per rule."""
    rules = [furniture_rule(v) for v in values]
    loader_context["furniture"] = Counter(r for r in rules if r)
    return [v for v, rule in zip(values, rules) if rule is None]


def unique(values: list) -> list:
    """Each non-empty value once, where it first appears (compared by repr: records are dicts)."""
    return list({repr(value): value for value in values if value}.values())


def positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def tag_text(tag: str) -> str:
    return tag.lstrip("#").strip()


def photo(value: tuple[str, str]) -> dict[str, str]:
    url, caption = value
    return {"url": url.strip(), "caption": display_text(caption)}


def edition_link(value: tuple[str, str, str]) -> dict[str, str]:
    language, url, title = value
    return {"language": language, "url": canonical_url(url), "title": display_text(title)}
