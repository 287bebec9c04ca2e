"""Fault injection for the replica (--faults).

--faults takes a JSON list of rules, or the path of a file holding one. A rule:

    {"match": "<regex>",      searched (re.search) in the request target, path + "?" + query
     "rate": 0.3,             share of matching targets that fail (default 1); a stable hash of
                              the target decides (sha1(target)[:8] / 16**8 < rate), so the same
                              targets fail on every run
     "times": 2,              each matching target fails only on its first K hits, then is served
                              normally (default: always)
     "block_after": 40,       the rule applies only to requests after the replica's first N: every
                              request but robots.txt and /_replica/ counts, in arrival order
                              (robots.txt is never blocked); its effect is 403 unless it says
                              another; "match" may be left out (every path)
     ...one effect...}

Effects:
    "status": 500 | 503 | 404        an error page with that status
    "status": 429, "retry_after": 5  ... with a Retry-After header (seconds)
    "delay": 2.5                     answer after that many seconds (timer, the server stays
                                     responsive); may be combined with any other effect
    "mode": "truncate"               the page cut short (no closing tags): article pages inside the
                                     body text (div.news-detail__desc or, legacy, div.editor-body),
                                     other pages halfway; "fraction": 0..1 cuts there
    "mode": "malformed"              stray and unclosed tags, missing </p> and </li>, garbage text,
                                     no </body></html>; the article is still all there
    "mode": "no_body"                article page without its body block (and JSON-LD articleBody)
    "mode": "no_date"                article page without any date of the article: no visible date,
                                     no JSON-LD datePublished, no article:published_time (the
                                     sidebar cards keep their own times)
    "mode": "no_title"               article page without its h1 (and without og:title and the
                                     JSON-LD headline)
    "mode": "no_translations"        article page without the links to the story's other editions
    "mode": "no_tags"                article page without its tags line
    "mode": "no_images"              article page without its photos (main photo, body figures,
                                     og:image, JSON-LD image)
    "mode": "redirect"               301 to the canonical target, query dropped: an article page's
                                     one spelling (content.Corpus.path), else the path with a
                                     trailing slash; "status": 302 for a temporary one, "location"
                                     for a fixed target; an already canonical target is served normally
    "mode": "redirect_loop"          302 to target?replica_loop=1, which redirects back: A->B->A...
    "mode": "wrong_charset"          Content-Type says charset=iso-8859-1 ("charset" names another
                                     one); the body is the page's own bytes
    "mode": "oversized"              the page padded with an HTML comment to "size" bytes
                                     (default 20,000,000)
    "mode": "empty"                  200 with an empty body
    "mode": "leak_paragraph"         article page with LEAKED_PARAGRAPH first in its body block:
                                     furniture no rule of a crawler knows, on every page
    "mode": "leak_image"             article page with the photo LEAKED_IMAGE first in its body block
                                     (a share image or logo taken for a photo)
    "mode": "photo"                  article page with one more photo first in its body block, at
                                     "src" (default BAD_PHOTO: a space in its host, which no URL
                                     allows)
    "mode": "nested"                 article page with its first body paragraph inside "depth" nested
                                     <div>s (default 1,000); the article is still all there
    "mode": "challenge"              200 with a Cloudflare-like "Just a moment..." interstitial
                                     (cf-chl script and form, no site markup), as a WAF answers a
                                     client it suspects

A site-wide block, as report.az's WAF gives (403 after 40 requests; challenge pages on articles):
    [{"block_after": 40}]
    [{"match": "<article path regex>", "mode": "challenge"}]

Rules are tried in order; the first one that matches, is selected by its rate and
still has hits left applies. Control paths under /_replica/ never fail.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARTICLE_VARIANTS = frozenset({"no_body", "no_date", "no_title", "no_translations", "no_tags", "no_images"})
LEAKS = frozenset({"leak_paragraph", "leak_image"})
MODES = frozenset({"truncate", "malformed", "redirect", "redirect_loop", "wrong_charset", "oversized",
                   "empty", "challenge", "nested", "photo"}) | ARTICLE_VARIANTS | LEAKS
LOOP_MARK = "replica_loop=1"
DEFAULT_OVERSIZE = 20_000_000
DEFAULT_DEPTH = 1_000
BAD_PHOTO = "https://static report.az/photo/2026/01/01/5e0c1b7a-9d2f-4c41-8a4e-2f6b1d3c9e70.jpg"
_KEYS = {"match", "rate", "times", "status", "retry_after", "delay", "mode", "location", "fraction", "size",
         "block_after", "charset", "depth", "src"}
BLOCK_STATUS = 403
# What Cloudflare's JavaScript challenge looks like to a client without a browser (trimmed).
CHALLENGE_PAGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow"><meta name="viewport" content="width=device-width,initial-scale=1">
<style>*{box-sizing:border-box;margin:0;padding:0}html{line-height:1.15}body{display:flex}</style>
</head><body><div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">report.az</h1>
<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<noscript><div id="challenge-error-title"><div class="h2"><span>Enable JavaScript and cookies to continue</span></div></div></noscript>
<div id="challenge-body-text" class="core-msg spacer">report.az needs to review the security of your connection before proceeding.</div>
<form id="challenge-form" action="/?__cf_chl_f_tk=Rf0lXc1EZlh7gmYn" method="POST" enctype="application/x-www-form-urlencoded">
<input type="hidden" name="md" value="zK5Ovd3dyGC3nOGhsWnZJh0Y"></form></div></div>
<script>(function(){window._cf_chl_opt={cvId: '3',cZone: "report.az",cType: 'managed',cRay: '8f1a2b3c4d5e6f70'};
var cpo=document.createElement('script');cpo.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8f1a2b3c4d5e6f70';
document.getElementsByTagName('head')[0].appendChild(cpo);}());</script>
<div class="footer" role="contentinfo"><div class="footer-inner"><div class="text-center" id="footer-text">Performance &amp;
security by <a rel="noopener noreferrer" href="https://www.cloudflare.com" target="_blank">Cloudflare</a></div></div></div>
</body></html>
"""


@dataclass(frozen=True)
class Rule:
    index: int
    pattern: re.Pattern
    rate: float = 1.0
    times: int | None = None
    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    mode: str | None = None
    location: str | None = None
    fraction: float | None = None
    size: int = DEFAULT_OVERSIZE
    block_after: int | None = None
    charset: str = "iso-8859-1"  # what a wrong_charset answer's header names
    depth: int = DEFAULT_DEPTH
    src: str = BAD_PHOTO


def load_rules(spec: str | list | None) -> list[Rule]:
    """Rules from a JSON list, JSON text, or the path of a JSON file."""
    if spec is None or spec == "":
        return []
    if isinstance(spec, str):
        text = spec.strip()
        spec = json.loads(text if text.startswith("[") else Path(text).read_text("utf-8"))
    if not isinstance(spec, list):
        raise ValueError("faults must be a JSON list of rules")
    return [_rule(n, raw) for n, raw in enumerate(spec)]


def _rule(index: int, raw: dict[str, Any]) -> Rule:
    unknown = set(raw) - _KEYS
    block_after = None if raw.get("block_after") is None else int(raw["block_after"])
    if unknown or ("match" not in raw and block_after is None):
        raise ValueError(f"fault rule {index}: needs 'match'; unknown keys {sorted(unknown)}")
    mode = raw.get("mode")
    if mode is not None and mode not in MODES:
        raise ValueError(f"fault rule {index}: unknown mode {mode!r}")
    status = raw.get("status")
    if block_after is not None and mode is None and status is None and not raw.get("delay"):
        status = BLOCK_STATUS
    if mode is None and status is None and not raw.get("delay"):
        raise ValueError(f"fault rule {index}: needs an effect (status, delay or mode)")
    if mode is not None and status is not None and mode != "redirect":
        raise ValueError(f"fault rule {index}: 'status' goes with 'mode' only for redirects")
    return Rule(
        index=index,
        pattern=re.compile(raw.get("match", "")),
        rate=float(raw.get("rate", 1.0)),
        times=None if raw.get("times") is None else int(raw["times"]),
        status=None if status is None else int(status),
        retry_after=raw.get("retry_after"),
        delay=float(raw.get("delay", 0.0)),
        mode=mode,
        location=raw.get("location"),
        fraction=None if raw.get("fraction") is None else float(raw["fraction"]),
        charset=str(raw.get("charset", "iso-8859-1")),
        size=int(raw.get("size", DEFAULT_OVERSIZE)),
        depth=int(raw.get("depth", DEFAULT_DEPTH)),
        src=str(raw.get("src", BAD_PHOTO)),
        block_after=block_after,
    )


def selected(target: str, rate: float) -> bool:
    """Whether a target falls in a rule's rate: the same answer on every run."""
    if rate >= 1:
        return True
    return int(hashlib.sha1(target.encode("utf-8")).hexdigest()[:8], 16) / 16 ** 8 < rate


class Faults:
    """The rules and, per rule and target, how many times each has matched."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self.counts: dict[tuple[int, str], int] = {}

    def pick(self, target: str, ordinal: int = 0) -> Rule | None:
        """The rule for a target; `ordinal` is the request's number among those a block counts
        (0 for one it does not count: robots.txt)."""
        for rule in self.rules:
            if rule.block_after is not None and (ordinal == 0 or ordinal <= rule.block_after):
                continue
            if not rule.pattern.search(target) or not selected(target, rule.rate):
                continue
            key = (rule.index, target)
            self.counts[key] = hits = self.counts.get(key, 0) + 1
            if rule.times is not None and hits > rule.times:
                continue
            return rule
        return None


# --- page transformations --------------------------------------------------------

BODY_BLOCKS = ('<div class="news-detail__desc">', '<div class="editor-body">')  # current, legacy design


def body_start(page: str) -> int:
    """Where an article page's body block starts, in either design; -1 if it has none."""
    return max(page.find(block) for block in BODY_BLOCKS)


LEAKED_PARAGRAPH = "Read the most important news of the day first on our website and in the mobile application."
LEAKED_IMAGE = "/uploads/2026/01/01/report-share-default.jpg"


def leak(page: str, mode: str) -> str:
    """An article page with the same paragraph or photo first in its body block; other pages as they are."""
    if mode == "leak_paragraph":
        return first_in_body(page, f"<p>{LEAKED_PARAGRAPH}</p>")
    return photo(page, LEAKED_IMAGE)


def photo(page: str, src: str) -> str:
    """An article page with a photo at `src` first in its body block; other pages as they are."""
    return first_in_body(page, f'<figure class="photo"><img src="{html.escape(src)}" alt=""></figure>')


def first_in_body(page: str, extra: str) -> str:
    for block in BODY_BLOCKS:
        start = page.find(block)
        if start >= 0:
            return page[:start + len(block)] + extra + page[start + len(block):]
    return page


def truncate(page: str, fraction: float | None) -> str:
    """Cut a page short; an article inside its body text, so the paragraphs never close."""
    start = body_start(page)
    if fraction is None and start >= 0:
        end = page.find("</div>", start)
        return page[:start + (end - start) * 3 // 5]
    return page[:int(len(page) * (0.5 if fraction is None else fraction))]


def malformed(page: str) -> str:
    """Broken markup a browser (and lxml) still recovers the article from."""
    start = body_start(page)
    if start >= 0:
        end = page.find("</div>", start)
        # Paragraphs never closed.
        page = page[:start] + page[start:end].replace("</p>", "") + page[end:]
    page = page.replace("</li>", "", 4)
    garbage = ('<div class="ad-banner"><span><b>Reklam</div></span> <<>> &&& <br/ >< /div> </table>'
               '<div class="promo"><p>Promo <i>unclosed\n')
    page = page.replace("<body>", "<body>\n" + garbage, 1)
    page = page.replace('<aside class="latest-news">', '</td></tr><aside class="latest-news"><div><span>', 1)
    return page.replace("</body>\n</html>", "")


def nested(page: str, depth: int) -> str:
    """An article page with its first body paragraph `depth` <div>s deep; other pages as they are."""
    start = body_start(page)
    first = page.find("<p", start) if start >= 0 else -1
    end = page.find("</p>", first) if first >= 0 else -1
    if end < 0:
        return page
    end += len("</p>")
    return page[:first] + "<div>" * depth + page[first:end] + "</div>" * depth + page[end:]


def oversized(page: str, size: int) -> bytes:
    body = page.encode("utf-8", "surrogateescape")
    pad = max(0, size - len(body))
    comment = b"<!-- " + b"x" * max(0, pad - 9) + b" -->\n"
    cut = body.rfind(b"</body>")
    cut = len(body) if cut < 0 else cut
    return body[:cut] + comment + body[cut:]
