"""The replica's HTTP server: one Twisted resource that routes, renders, caches and injects faults.

Site map (az is unprefixed; en and ru under /en/ and /ru/). The site links listings without the
trailing slash (nav, pagination); they answer with and without it. An article page has ONE spelling,
the one every link to it uses (cards, feed, infinity fragments, RSS, other editions' links,
canonical, JSON-LD): no trailing slash in the current design, a trailing slash for a page still in
the 2024 (legacy) design, as its links were written then (content.Corpus.path). The other spelling
(slash added or removed) answers as --other-spelling says: "301" (default, as a Laravel site does)
to the page's spelling, "404", or "serve" (the page itself, as the old replica did):
    /robots.txt
    /, /en/, /ru/                                    home pages (nav: feed and every category)
    /son-xeberler (+ /today), /en/latest-news, /ru/poslednie-novosti   latest-news feed; its
                                                     .loadContainer[data-url] names the infinity endpoint
    /infinity/index?date=YYYY-MM-DD HH:MM:SS&oldest=1 (and /en/..., /ru/...)  next 20 cards, or empty
                                                     (--infinity-path moves it: only data-url tells)
    /{segment}, /{segment}/page/N                    category listings, cumulative as the live site's are
                                                     reported: page N shows every card of pages 1..N, 16 a
                                                     page (page 50 = 800 cards); past the last page: 404.
                                                     The pagination links the previous and the next page
                                                     only. --category-pages paged (Replica(category_pages=
                                                     "paged")): page N shows only its own 16 cards.
                                                     --category-past-end: what a page past the last one
                                                     answers: "404" (default), "cap" (the last page again,
                                                     without a next link: every card, when cumulative) or
                                                     "empty" (a 200 listing page without cards).
                                                     --category-pagination numbered: the pagination
                                                     also links page 1, pages N-2..N+2 and the last one
    /{segment}/{slug}[/]                             article pages, in the story's layout (below); a
                                                     slug edit (/_replica/rename) moves a page, and its
                                                     old path answers as --renamed-old says: "301" to
                                                     the new path (default), or "404"
    /rss/, /en/rss/, /ru/rss/                        RSS 2.0, 50 newest items
    /sitemap-posts-archive.xml                       sitemap index (sitemaps.org 0.9): one <sitemap> per
                                                     shard, newest first: <loc> /sitemap-posts-archive/
                                                     YYYY-MM-DD.xml (a Baku publication day with pages),
                                                     <lastmod> the newest publication or change in it
    /sitemap-posts-archive/YYYY-MM-DD.xml            a shard (<urlset>): one <url> per published edition
                                                     (all three editions) of that day's stories, <loc> in
                                                     the page's one spelling (after slug edits), <lastmod>
                                                     its publication, or its story's last change
    /news-sitemap.xml                                Google News sitemap of the published editions of the
                                                     corpus' last 2 days: news:publication (news:name,
                                                     news:language), news:publication_date, news:title,
                                                     image:image/image:loc when the page has a photo
                                                     Sitemaps follow the state as listings do: hidden
                                                     stories and held (--late) editions are left out until
                                                     published; /_replica/edit, /rename and /publish-late
                                                     set the story's lastmod to the machine's clock (Baku
                                                     time). --no-sitemaps (Replica(sitemaps=False)): all
                                                     three answer 404. --numbered-shards (Replica(
                                                     numbered_shards=True)): shards are /sitemap-posts-
                                                     archive/N.xml, N the day's number from the corpus'
                                                     first day (1): names that tell no dates
    /uploads/YYYY/MM/DD/<hash>.jpg                   a tiny JPEG (photos themselves are absolute URLs on
                                                     https://static.report.az/photo/, never fetched)
Control (never faulted, not counted in hits, disallowed in robots.txt):
    /_replica/publish?count=N   reveal the N next hidden stories
    /_replica/edit?story=I      bump story I's revision (title " (updated)", one more paragraph)
    /_replica/rename?story=I    a slug edit: every edition of story I gets a corrected title (" (corrected)",
                                " (dəqiqləşdirilib)", " (уточнено)") and so a new slug and path; its site_id
                                (.copy-url) stays; its pages' canonical/JSON-LD and the other editions'
                                links name the new path; {"story": I, "paths": {lang: new path}}; 409 if
                                it was renamed already
    /_replica/publish-late      publish the editions --late K held back: for the K newest stories with
                                two or more editions, the last one (az, en, ru order) 404s, is in no
                                listing and is linked by no other edition until then; afterwards it is
                                served and linked, and its siblings' pages change (an update);
                                {"published": n}
    /_replica/sizes[?sample=N]  {"article": {count, median, p10, p90, min, max, mean}, "listing": {...}}: HTML
                                bytes of the published article pages (a spread sample of at most N, default
                                2000) and of the listing pages (home, feed, each category's first page)
    /_replica/hits[?reset=1]    {"total": n, "paths": {path: n}, "targets": {path?query: n}}
    /_replica/ground-truth      JSON Lines for the current state, URLs on the Host the client used, in
                                each page's one spelling (after slug edits; held editions left out, also
                                from their siblings' translations); category_slug is the key written
                                by hand in tests/replica/categories.py (the replica's own table)
    /_replica/layouts           JSON {url: layout} for every published article page, URLs exactly as in
                                the ground truth. A layout (content.Layout.describe + what the text adds):
        {"version": "current" | "legacy",         current: h1.section-title, .news-detail__head, div.news-detail__desc,
                                                  .copy-url; legacy (2024): h1.news-title, .news-date span,
                                                  div.editor-body, div.news-cover div.image img, no .copy-url
         "tags": "links_div" | "list_ul" | "label_p",          the tags line's markup
         "tag_href": "tag" | "tag/" | "tags",                  /tag/<slug>, /tag/<slug>/, /tags/<slug>
         "editions": "photo_cards" | "label_list" | "image_links",   the other editions' links
         "captions": "figcaption" | "div_span" | "table",      photo + caption markup
         "lazy": "data-src" | "data-cfsrc" | "srcset" | "src", "placeholder": "<src of a lazy img>",
         "category_tag": "a" | "span" | null, "copy_url": "bare" | "https" | null, "site_id": int | null,
         "jsonld": bool, "jsonld_form": "scripts" | "graph" | null,
         "date_format": "offset" | "utc" | "local" | null,    JSON-LD datePublished
         "meta_published": bool, "meta_section": bool, "og_image": bool, "canonical": bool,
         "hidden_date": bool,                                  no visible date (structured date only)
         "embeds": ["youtube" | "script" | "noscript" | "style" | "tweet", ...],
         "mojibake": bool, "opener": bool, "channel": bool,    the text's traits on this page
         "furniture": [kind, ...], "images": n}
        og_image: the page has og:image (only stories with photos do).
"""

from __future__ import annotations

import base64
import json
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from twisted.internet import reactor, task
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from tests.replica import faults as fault_rules
from tests.replica import pages, renderings
from tests.replica.content import Corpus, State

HTML = "text/html; charset=utf-8"
FEED_PATHS = {"az": (("son-xeberler",), ("son-xeberler", "today")), "en": (("latest-news",),),
              "ru": (("poslednie-novosti",),)}
# The smallest JPEG there is; the crawler never looks inside.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////"
    "////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=")
TRUTH_BATCH = 200
OTHER_SPELLING = ("301", "404", "serve")  # what an article path in its other spelling answers
RENAMED_OLD = ("301", "404")             # what the old path of a renamed article answers
SIZES_SAMPLE = 2000  # article pages /_replica/sizes measures at most (spread over the corpus)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)


def html_response(page: str, status: int = 200) -> Response:
    return Response(status, page.encode("utf-8"))


class LRU:
    """Rendered pages; keys carry the state generation, so publish/edit never serve stale pages.
    Bounded by count and by bytes: pages weigh ~100 KB, as real ones do."""

    def __init__(self, size: int, max_bytes: int = 128 * 1024 * 1024) -> None:
        self.size, self.max_bytes, self.bytes, self.data = size, max_bytes, 0, OrderedDict()

    def get(self, key):
        value = self.data.get(key)
        if value is not None:
            self.data.move_to_end(key)
        return value

    def put(self, key, value) -> None:
        old = self.data.pop(key, None)
        if old is not None:
            self.bytes -= len(old.body)
        self.data[key] = value
        self.bytes += len(value.body)
        while len(self.data) > self.size or (self.bytes > self.max_bytes and len(self.data) > 1):
            _, dropped = self.data.popitem(last=False)
            self.bytes -= len(dropped.body)


class Replica:
    """Routing and rendering, independent of Twisted so it can be called directly."""

    def __init__(self, corpus: Corpus, hidden: int = 0, rules: list[fault_rules.Rule] | None = None,
                 js_feed: bool = False, infinity_path: str = "infinity/index", other_spelling: str = "301",
                 renamed_old: str = "301", late: int = 0, sitemaps: bool = True,
                 numbered_shards: bool = False, category_pages: str = "cumulative",
                 category_past_end: str = "404", category_pagination: str = "prev-next") -> None:
        if category_pagination not in pages.CATEGORY_PAGINATION:
            raise ValueError(f"category_pagination must be one of {', '.join(pages.CATEGORY_PAGINATION)}; "
                             f"got {category_pagination!r}")
        if category_pages not in pages.CATEGORY_PAGES:
            raise ValueError(f"category_pages must be one of {', '.join(pages.CATEGORY_PAGES)}; got {category_pages!r}")
        if category_past_end not in pages.CATEGORY_PAST_END:
            raise ValueError(f"category_past_end must be one of {', '.join(pages.CATEGORY_PAST_END)}; "
                             f"got {category_past_end!r}")
        if other_spelling not in OTHER_SPELLING:
            raise ValueError(f"other_spelling must be one of {', '.join(OTHER_SPELLING)}; got {other_spelling!r}")
        if renamed_old not in RENAMED_OLD:
            raise ValueError(f"renamed_old must be one of {', '.join(RENAMED_OLD)}; got {renamed_old!r}")
        self.corpus = corpus
        self.state = State(corpus, hidden, late)
        self.other_spelling = other_spelling
        self.renamed_old = renamed_old
        self.faults = fault_rules.Faults(rules or [])
        self.js_feed = js_feed
        self.sitemaps = sitemaps  # False: both sitemaps (and the shards) answer 404
        self.numbered_shards = numbered_shards  # shards named 1.xml, 2.xml ... rather than by their date
        self.category_pages = category_pages  # "cumulative" (page N shows pages 1..N) or "paged"
        self.category_past_end = category_past_end  # what a page past the last one answers
        self.category_pagination = category_pagination  # "prev-next" links only, or "numbered" too
        # Where the feed's older batches come from: only the feed page's .loadContainer[data-url] says.
        self.infinity_path = infinity_path.strip("/")
        self.cache = LRU(2048)
        self.total = 0
        self.counted = 0  # requests a block_after rule counts: all but robots.txt (and /_replica/)
        self.paths: dict[str, int] = {}
        self.targets: dict[str, int] = {}

    # --- the site ---------------------------------------------------------------

    def page(self, path: str, query: dict[str, list[str]], base_url: str, variant: str | None = None) -> Response:
        """The normal response for a path (variant: no_body / no_date / no_title for article pages)."""
        key = (self.state.generation, path, variant, base_url, tuple(query.get("date", ())))
        cached = self.cache.get(key)
        if cached is None:
            cached = self._route(path, query, base_url, variant)
            self.cache.put(key, cached)
        return cached

    def _route(self, path: str, query: dict[str, list[str]], base_url: str, variant: str | None) -> Response:
        if path == "/robots.txt":
            return Response(200, pages.ROBOTS.encode(), "text/plain; charset=utf-8")
        if path in (pages.SITEMAP_INDEX_PATH, pages.NEWS_SITEMAP_PATH) or path.startswith(pages.SHARD_DIR):
            return self._sitemap(path, base_url)
        parts = [p for p in path.split("/") if p]
        lang = "az"
        if parts and parts[0] in ("en", "ru"):
            lang = parts.pop(0)
        state = self.state
        if not parts:
            return html_response(pages.home(state, lang))
        if parts == ["rss"]:
            return Response(200, pages.rss(state, lang, base_url).encode("utf-8"), "application/rss+xml; charset=utf-8")
        if parts == self.infinity_path.split("/"):
            before = None
            if query.get("date"):
                before = parse_date(query["date"][0])
                if before is None:
                    return html_response(pages.error_page(400), 400)
            return self._listing(path, pages.fragment(state, lang, before))
        if tuple(parts) in FEED_PATHS[lang]:
            return self._listing(path, pages.feed(state, lang, self.js_feed, self.infinity_path))
        if lang == "az" and parts[0] == "uploads" and len(parts) == 5 and parts[4].endswith(".jpg"):
            return Response(200, JPEG, "image/jpeg")
        key = self.corpus.category_by_segment(lang, parts[0])
        if key is not None:
            if len(parts) == 1 or (len(parts) == 3 and parts[1] == "page" and parts[2].isdigit()):
                number = int(parts[2]) if len(parts) == 3 else 1
                listing = pages.category(state, lang, key, max(1, number), self.category_pages,
                                         self.category_past_end, self.category_pagination)
                if listing is not None:
                    return self._listing(path, listing)
            elif len(parts) == 2:
                found = state.find(lang, parts[0], parts[1])
                if found is not None and state.is_published(found[0]) and state.has_edition(found[0], lang):
                    story, current = found
                    canonical = state.path(story, lang)
                    if not current:
                        if self.renamed_old == "301":
                            return redirect(base_url, canonical, 301)
                    elif path == canonical or self.other_spelling == "serve":
                        flags = {variant: True} if variant in fault_rules.ARTICLE_VARIANTS else {}
                        charset = renderings.ALL_CHARSETS[self.corpus.layout(story.index, lang).charset]
                        return Response(200, renderings.encode(pages.article(state, story, lang, base_url, **flags),
                                                               charset), charset.header)
                    elif self.other_spelling == "301":
                        return redirect(base_url, canonical, 301)
        return html_response(pages.not_found(lang), 404)

    def _listing(self, path: str, page: str) -> Response:
        """A listing page: UTF-8, under a header that now and then names another charset."""
        return Response(200, page.encode("utf-8"), renderings.listing_content_type(self.corpus.seed, path))

    def _sitemap(self, path: str, base_url: str) -> Response:
        if self.sitemaps:
            if path == pages.SITEMAP_INDEX_PATH:
                return xml_response(pages.sitemap_index(self.state, base_url, self.numbered_shards))
            if path == pages.NEWS_SITEMAP_PATH:
                return xml_response(pages.news_sitemap(self.state, base_url))
            day = pages.shard_day(self.state, path[len(pages.SHARD_DIR):], self.numbered_shards)
            shard = pages.sitemap_shard(self.state, day, base_url) if day is not None else None
            if shard is not None:
                return xml_response(shard)
        return html_response(pages.not_found(), 404)

    def article_path(self, path: str) -> str | None:
        """The current path of the published article page a path names in any spelling (or under
        its old slug), else None."""
        parts = [p for p in path.split("/") if p]
        lang = parts.pop(0) if parts and parts[0] in ("en", "ru") else "az"
        if len(parts) != 2 or self.corpus.category_by_segment(lang, parts[0]) is None:
            return None
        found = self.state.find(lang, parts[0], parts[1])
        if found is None or not self.state.is_published(found[0]) or not self.state.has_edition(found[0], lang):
            return None
        return self.state.path(found[0], lang)

    # --- a request, faults included ------------------------------------------------

    def respond(self, path: str, raw_query: str, base_url: str) -> tuple[Response, float]:
        """The response to a GET and how long to hold it back."""
        target = path + ("?" + raw_query if raw_query else "")
        self.total += 1
        self.paths[path] = self.paths.get(path, 0) + 1
        self.targets[target] = self.targets.get(target, 0) + 1
        ordinal = 0
        if path != "/robots.txt":
            self.counted += 1
            ordinal = self.counted
        query = parse_qs(raw_query, keep_blank_values=True)
        if fault_rules.LOOP_MARK in raw_query.split("&"):
            # The B of a redirect loop always sends the client back to A.
            back = "&".join(p for p in raw_query.split("&") if p != fault_rules.LOOP_MARK)
            return redirect(base_url, path + ("?" + back if back else ""), 302), 0.0
        rule = self.faults.pick(target, ordinal)
        if rule is None:
            return self.page(path, query, base_url), 0.0
        return self._faulty(rule, path, raw_query, query, base_url), rule.delay

    def _faulty(self, rule: fault_rules.Rule, path: str, raw_query: str, query: dict, base_url: str) -> Response:
        mode = rule.mode
        if mode is None and rule.status is not None:
            response = html_response(pages.error_page(rule.status), rule.status)
            if rule.retry_after is not None:
                response.headers["Retry-After"] = str(rule.retry_after)
            return response
        if mode is None:  # delay only
            return self.page(path, query, base_url)
        if mode == "redirect":
            location = rule.location or self.article_path(path) or canonical_target(path)
            if location == path + ("?" + raw_query if raw_query else ""):
                return self.page(path, query, base_url)
            return redirect(base_url, location, rule.status or 301)
        if mode == "redirect_loop":
            return redirect(base_url, f"{path}?{raw_query + '&' if raw_query else ''}{fault_rules.LOOP_MARK}", 302)
        if mode == "empty":
            return Response(200, b"")
        if mode == "challenge":
            return Response(200, fault_rules.CHALLENGE_PAGE.encode("utf-8"))
        normal = self.page(path, query, base_url, mode if mode in fault_rules.ARTICLE_VARIANTS else None)
        if mode in fault_rules.ARTICLE_VARIANTS or not normal.content_type.lower().startswith("text/html"):
            return normal
        # The page's own bytes through the fault, whatever its charset (renderings.CHARSETS).
        text = normal.body.decode("utf-8", "surrogateescape")
        if mode == "truncate":
            return Response(normal.status, fault_rules.truncate(text, rule.fraction).encode("utf-8", "surrogateescape"),
                            normal.content_type)
        if mode == "malformed":
            return Response(normal.status, fault_rules.malformed(text).encode("utf-8", "surrogateescape"),
                            normal.content_type)
        if mode == "wrong_charset":
            return Response(normal.status, normal.body, f"text/html; charset={rule.charset}")
        if mode in fault_rules.LEAKS:
            return Response(normal.status, fault_rules.leak(text, mode).encode("utf-8", "surrogateescape"),
                            normal.content_type)
        if mode == "photo":
            return Response(normal.status, fault_rules.photo(text, rule.src).encode("utf-8", "surrogateescape"),
                            normal.content_type)
        if mode == "nested":
            return Response(normal.status, fault_rules.nested(text, rule.depth).encode("utf-8", "surrogateescape"),
                            normal.content_type)
        if mode == "oversized":
            return Response(normal.status, fault_rules.oversized(text, rule.size))
        raise AssertionError(mode)

    # --- control ---------------------------------------------------------------------

    def layouts(self, base_url: str) -> dict[str, dict]:
        """Every published article page's layout, keyed by its ground-truth URL."""
        state = self.state
        return {record["url"]: pages.describe_layout(state, self.corpus.stories[index], record["language"])
                for index, record in state.truth_index(base_url)}

    def sizes(self, base_url: str, sample: int = SIZES_SAMPLE) -> dict[str, dict]:
        """The HTML bytes of the article pages served (a spread sample of at most `sample` of them)
        and of the listing pages (home, feed, every category's first page), as the bench records
        them. Pages are measured as served (from the cache when there) but never cached by this:
        it must not warm the cache for a measured crawl."""
        def size(path: str) -> int:
            key = (self.state.generation, path, None, base_url, ())
            cached = self.cache.get(key)
            return len((cached or self._route(path, {}, base_url, None)).body)

        paths = [record["url"][len(base_url):] for _, record in self.state.truth_index(base_url)]
        step = max(1, -(-len(paths) // max(1, sample)))
        listings = []
        for lang in ("az", "en", "ru"):
            prefix = "/" if lang == "az" else f"/{lang}/"
            listings.append(prefix)
            listings.append(prefix + "/".join(FEED_PATHS[lang][0]))
            listings += [prefix + self.corpus.segment(key, lang) for key in self.corpus.categories_of(lang)]
        return {"article": pages.size_summary([size(p) for p in paths[::step]]),
                "listing": pages.size_summary([size(p) for p in listings])}

    def control(self, name: str, query: dict[str, list[str]], reset: bool = False) -> Response:
        def number(key: str) -> int | None:
            try:
                return int(query[key][0])
            except (KeyError, ValueError, IndexError):
                return None

        if name == "publish":
            count = number("count")
            if count is None:
                return json_response({"error": "count=N required"}, 400)
            hidden = self.state.publish(count)
            return json_response({"hidden": hidden, "published": self.corpus.size - hidden})
        if name == "edit":
            index = number("story")
            if index is None or not 0 <= index < self.corpus.size:
                return json_response({"error": f"story=0..{self.corpus.size - 1} required"}, 404)
            return json_response({"story": index, "revision": self.state.edit(index)})
        if name == "rename":
            index = number("story")
            if index is None or not 0 <= index < self.corpus.size:
                return json_response({"error": f"story=0..{self.corpus.size - 1} required"}, 404)
            paths = self.state.rename(index)
            if paths is None:
                return json_response({"error": f"story {index} was renamed already"}, 409)
            return json_response({"story": index, "paths": paths})
        if name == "sizes":
            sample = number("sample")
            return json_response(self.sizes(query["_base_url"][0], sample if sample and sample > 0 else SIZES_SAMPLE))
        if name == "publish-late":
            return json_response({"published": self.state.publish_late()})
        if name == "hits":
            body = {"total": self.total, "paths": self.paths, "targets": self.targets}
            response = json_response(body)
            if "reset" in query:
                self.total, self.paths, self.targets = 0, {}, {}
            return response
        return json_response({"error": "unknown control"}, 404)


def parse_date(value: str) -> datetime | None:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    return None


def canonical_target(path: str) -> str:
    """A redirect fault's target for a path that is no article page: trailing slash, no query."""
    last = path.rsplit("/", 1)[-1]
    return path if path.endswith("/") or "." in last else path + "/"


def redirect(base_url: str, location: str, status: int) -> Response:
    absolute = location if "://" in location else base_url + location
    return Response(status, b"", HTML, {"Location": absolute})


def xml_response(text: str) -> Response:
    return Response(200, text.encode("utf-8"), "application/xml; charset=utf-8")


def json_response(body: dict, status: int = 200) -> Response:
    return Response(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")


class ReplicaResource(Resource):
    isLeaf = True

    def __init__(self, replica: Replica, quiet: bool = True) -> None:
        super().__init__()
        self.replica = replica
        self.quiet = quiet

    def render_GET(self, request: Request) -> bytes | int:
        uri = request.uri.decode("utf-8", "replace")
        parts = urlsplit(uri)
        host = (request.getHeader("host") or f"{request.getHost().host}:{request.getHost().port}")
        base_url = f"http://{host}"
        if parts.path.startswith("/_replica/"):
            name = parts.path[len("/_replica/"):].strip("/")
            if name == "ground-truth":
                return self._stream_truth(request, base_url)
            if name == "layouts":
                return self._send(request, json_response(self.replica.layouts(base_url)), uri)
            query = parse_qs(parts.query)
            query["_base_url"] = [base_url]  # sizes renders pages as this client would get them
            return self._send(request, self.replica.control(name, query), uri)
        response, delay = self.replica.respond(parts.path or "/", parts.query, base_url)
        if delay <= 0:
            return self._send(request, response, uri)
        call = reactor.callLater(delay, self._send_later, request, response, uri)
        request.notifyFinish().addErrback(lambda _: call.active() and call.cancel())
        return NOT_DONE_YET

    def _send_later(self, request: Request, response: Response, uri: str) -> None:
        request.write(self._send(request, response, uri))
        request.finish()

    def _send(self, request: Request, response: Response, uri: str) -> bytes:
        request.setResponseCode(response.status)
        request.setHeader("Content-Type", response.content_type)
        request.setHeader("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            request.setHeader(name, value)
        if not self.quiet:
            print(f"{response.status} {len(response.body):>8} {uri}", file=sys.stderr, flush=True)
        return response.body

    def _stream_truth(self, request: Request, base_url: str) -> int:
        """JSON Lines, streamed in batches so 150,000 records never sit in memory at once."""
        request.setHeader("Content-Type", "application/x-ndjson; charset=utf-8")
        lines = self.replica.state.truth_jsonl(base_url)

        def produce():
            batch = []
            for line in lines:
                batch.append(line)
                if len(batch) >= TRUTH_BATCH:
                    request.write("".join(batch).encode("utf-8"))
                    batch = []
                    yield None
            request.write("".join(batch).encode("utf-8"))
            request.finish()

        work = task.cooperate(produce())

        def gone(_failure) -> None:
            try:
                work.stop()
            except task.TaskDone:
                pass

        request.notifyFinish().addErrback(gone)
        return NOT_DONE_YET


def serve(replica: Replica, host: str, port: int, quiet: bool) -> None:
    """Listen, announce the URL on stdout (fixtures wait for that line), run until killed."""
    site = Site(ReplicaResource(replica, quiet))
    site.displayTracebacks = False
    listening = reactor.listenTCP(port, site, interface=host)
    print(f"REPLICA http://{host}:{listening.getHost().port}", flush=True)
    reactor.run()
