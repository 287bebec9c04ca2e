"""report.az's hosts, editions and URL rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urljoin, urlsplit

LANGUAGES: tuple[str, ...] = ("az", "en", "ru")
DEFAULT_BASE_URL = "https://report.az"
# Spellings of the site's own host; canonical URLs use the first.
SITE_HOSTS: tuple[str, ...] = ("report.az", "www.report.az")

# The az edition is the unprefixed default.
EDITION_PREFIX: dict[str, str] = {"az": "/", "en": "/en/", "ru": "/ru/"}

LATEST_FALLBACK_PATHS: dict[str, tuple[str, ...]] = {
    "az": ("/son-xeberler/",),
    "en": ("/en/latest-news/", "/en/son-xeberler/"),
    "ru": ("/ru/poslednie-novosti/", "/ru/son-xeberler/"),
}
# Path of the feed's infinity endpoint when the page does not name it (seen once, az only).
INFINITY_PATH = "infinity/index"

# Path segments under an edition that are never a category or an article.
NON_CATEGORY_SEGMENTS = frozenset(
    {"en", "ru", "rss", "infinity", "search", "tag", "tags", "page", "son-xeberler",
     "latest-news", "poslednie-novosti", "uploads", "static", "video", "photo", "authors", "archive"}
)
# Tag pages: /tag/<slug>, /tags/<slug>, under the edition's prefix.
TAG_SEGMENTS = frozenset({"tag", "tags"})

# Story photos live in the site's photo store (static.report.az/photo/<uuid>_850.jpg; _490 in cards: 1 source).
_STORY_PHOTO = re.compile(r"/photo/[^/]+$")
# Unconfirmed, so the fallback: an image many pages share (share image, logo, icon, placeholder) is
# named for what it is, a story's for itself (a uuid, a digest, a long number) or its upload day.
_OWN_NAME = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-|[0-9a-f]{12,}|\d{5,}", re.I)
_PATH = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?://[^/?#]*)?([^?#]*)")
_DATED_PLACE = re.compile(r"/20\d\d[/-][01]\d[/-]")
_SHARED_PLACE = re.compile(r"/(?:assets|icons?|logos?)/|\.(?:svg|ico)$", re.I)

# The short link of .copy-url[data-url]: "report.az/2844552", with or without a scheme.
_SHORT_LINK_ID = re.compile(r"(?:^|/)(\d{4,})/?$")


@dataclass(frozen=True)
class Edition:
    """One language edition of the site at a base URL (the live site or the replica)."""

    base_url: str
    language: str

    @property
    def home_url(self) -> str:
        return urljoin(self.base_url, EDITION_PREFIX[self.language])

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path)

    def latest_fallback_urls(self) -> list[str]:
        return [self.url(p) for p in LATEST_FALLBACK_PATHS[self.language]]

    def infinity_url(self, last_timestamp: str, endpoint: str | None = None) -> str:
        """The next feed batch: `endpoint` is what the feed page names (.loadContainer[data-url]);
        without it, the az path under the edition's prefix is the best guess."""
        endpoint = self.url(endpoint) if endpoint else self.url(EDITION_PREFIX[self.language] + INFINITY_PATH)
        separator = "&" if "?" in endpoint else "?"
        return f"{endpoint}{separator}date={quote(last_timestamp)}&oldest=1"

    def category_url(self, category_segment: str, page: int = 1) -> str:
        # As the site's navigation and pagination write them: no trailing slash.
        path = f"{EDITION_PREFIX[self.language]}{category_segment}"
        return self.url(path if page <= 1 else f"{path}/page/{page}")


def _parts(path: str) -> tuple[str, list[str]]:
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] in ("en", "ru"):
        return parts[0], parts[1:]
    return "az", parts


def language_of_path(path: str) -> str:
    return _parts(path)[0]


def split_article_path(path: str) -> tuple[str, str, str] | None:
    """(language, category segment, slug) of an article path, or None if it is not one."""
    language, parts = _parts(path)
    if len(parts) != 2 or parts[0] in NON_CATEGORY_SEGMENTS or parts[1] in NON_CATEGORY_SEGMENTS:
        return None
    return language, parts[0], parts[1]


def is_article_url(url: str) -> bool:
    return split_article_path(urlsplit(url).path) is not None


def is_tag_path(path: str) -> bool:
    """/tag/x, /tags/x, /en/tag/x ... : a tag page of any edition."""
    parts = _parts(path)[1]
    return len(parts) == 2 and parts[0] in TAG_SEGMENTS


def category_segment_of_listing(path: str) -> str | None:
    """The category segment of a listing path like /en/energy/ or /en/energy/page/3."""
    parts = _parts(path)[1]
    if not parts or parts[0] in NON_CATEGORY_SEGMENTS:
        return None
    if len(parts) == 1 or (len(parts) == 3 and parts[1] == "page" and parts[2].isdigit()):
        return parts[0]
    return None


def listing_page_number(url: str) -> int | None:
    """The page of a category listing a URL names: 1 for /en/energy, N for /en/energy/page/N (seen
    once) or /en/energy?page=N (unverified); None when it is no category listing."""
    parts = urlsplit(url)
    if category_segment_of_listing(parts.path) is None:
        return None
    segments = [p for p in parts.path.split("/") if p]
    if len(segments) >= 3 and segments[-2] == "page":
        return int(segments[-1])
    query = parse_qs(parts.query).get("page", [""])[0]
    return int(query) if query.isdigit() and int(query) >= 1 else 1


def site_id_of_short_link(value: str | None) -> int | None:
    """2844552 from "report.az/2844552" or "https://report.az/2844552/"; None for anything else."""
    match = _SHORT_LINK_ID.search((value or "").strip())
    return int(match[1]) if match else None


def is_story_photo(url: str) -> bool:
    """Whether an image address can be one story's own photo, not one that many pages share."""
    path = _PATH.match(url.strip())[1]
    if _STORY_PHOTO.search(path):
        return True
    name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return not _SHARED_PLACE.search(path) and (_OWN_NAME.search(name) is not None
                                                or _DATED_PLACE.search(path) is not None)


_SCHEME_HOST = re.compile(r"(https?)://([^/?#]*)", re.IGNORECASE)


class Resolver:
    """Links of one page made absolute and judged (this site's or not), urljoin only for unusual ones."""

    def __init__(self, page_url: str) -> None:
        self.page_url = page_url
        match = _SCHEME_HOST.match(page_url)
        self.scheme, self.origin = (match[1].lower(), match[0]) if match else ("https", "")
        self.hosts = {*SITE_HOSTS, (urlsplit(page_url).hostname or "").lower()}

    def absolute(self, href: str) -> str:
        if href.startswith("/") and not href.startswith("//") and self.origin:
            return self.origin + href
        if href.startswith(("http://", "https://")):
            return href
        return urljoin(self.page_url, href)

    def site_path(self, href: str) -> str | None:
        """The path of a link to this site (either host spelling of the live site, or the page's own
        host), else None."""
        url = self.absolute(href)
        match = _SCHEME_HOST.match(url)
        if not match:
            return None
        host = match[2].rsplit("@", 1)[-1].split(":", 1)[0].lower()
        if host not in self.hosts:
            return None
        return url[match.end():].split("?", 1)[0].split("#", 1)[0] or "/"
