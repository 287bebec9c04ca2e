"""Pools of renderings for the parts of an article page whose real markup nobody here has seen.

Each page draws one rendering per part from its pool, reproducibly from the corpus seed
(content.draw_unseen), so a replica of many stories holds combinations no test was written against
and a new seed holds new ones. A rendering only changes markup: what a browser shows is the ground
truth, whichever rendering carries it. Every pool is a dict name -> renderer; adding a rendering is
adding an entry (tests/test_replica.py checks each one occurs and reads back to the ground truth).

Sources: shared/site/REPORT_AZ.md ("Article pages": photos on static.report.az/photo/, related
stories, the other editions' links; "Blocking and encoding": the server's charset is unreliable).
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable
from dataclasses import dataclass


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


# --- related-article blocks inside the body: not the story ---------------------------------------

RELATED_SHARE = 50  # percent of stories whose body carries one
RELATED_LABELS = {
    "az": ("Həmçinin oxuyun:", "Oxşar xəbərlər", "Bu mövzuda"),
    "en": ("Read also:", "Related", "Also read"),
    "ru": ("Читайте также:", "По теме", "Читайте также"),
}

# A renderer: (label, [(href, headline, thumbnail url)], language) -> the HTML blocks it adds to the body.
Related = Callable[[str, list[tuple[str, str, str]], str], list[str]]


def _labelled_paragraph(label: str, links: list[tuple[str, str, str]], lang: str) -> list[str]:
    return [f"<p><strong>{esc(label)}</strong> " + ", ".join(
        f'<a href="{attr(href)}">{esc(title)}</a>' for href, title, _ in links) + "</p>"]


def _box_with_list(label: str, links: list[tuple[str, str, str]], lang: str) -> list[str]:
    items = "".join(f'<li><a href="{attr(href)}" target="_blank">{esc(title)}</a></li>' for href, title, _ in links)
    return [f'<div class="related-news"><h4 class="related-news__title">{esc(label)}</h4><ul>{items}</ul></div>']


def _bare_headlines(label: str, links: list[tuple[str, str, str]], lang: str) -> list[str]:
    return ["<ul>" + "".join(f'<li><a href="{attr(href)}">{esc(title)}</a></li>' for href, title, _ in links) + "</ul>"]


def _label_then_links(label: str, links: list[tuple[str, str, str]], lang: str) -> list[str]:
    return [f"<p><b>{esc(label.rstrip(':'))}</b></p>",
            "<p>" + "<br>".join(f'<a href="{attr(href)}">{esc(title)}</a>' for href, title, _ in links) + "</p>"]


def _thumbnail_cards(label: str, links: list[tuple[str, str, str]], lang: str) -> list[str]:
    cards = "".join(f'<a class="read-more__item" href="{attr(href)}"><img src="{attr(thumb)}" alt="">'
                    f'<span>{esc(title)}</span></a>' for href, title, thumb in links)
    return [f'<blockquote class="read-more"><span class="read-more__label">{esc(label)}</span>{cards}</blockquote>']


RELATED: dict[str, Related] = {
    "labelled_paragraph": _labelled_paragraph,
    "box_with_list": _box_with_list,
    "bare_headlines": _bare_headlines,
    "label_then_links": _label_then_links,
    "thumbnail_cards": _thumbnail_cards,
}


# --- a paragraph of reporting that links something: the story, link text and all ----------------

LINK_SHARE = 40
# A renderer: (the paragraph's escaped text before the linked words, the linked words, after, a site
# article's href, language) -> the paragraph's inner HTML.
Link = Callable[[str, str, str, str, str], str]

LINKS: dict[str, Link] = {
    "channel": lambda before, words, after, article, lang: (
        f'{before}<a href="https://t.me/report_az" target="_blank" rel="nofollow">{words}</a>{after}'),
    "document": lambda before, words, after, article, lang: (
        f'{before}<a href="/uploads/2026/01/{hashlib.sha1(words.encode()).hexdigest()[:8]}.pdf">{words}</a>{after}'),
    "article": lambda before, words, after, article, lang: f'{before}<a href="{attr(article)}">{words}</a>{after}',
}


# --- photos after the main one: figures between paragraphs, or one gallery ----------------------

# A renderer: ([(img HTML, caption text as HTML)]) -> the gallery's HTML; "figures" is no gallery
# (pages.py puts each photo before its paragraph).
Gallery = Callable[[list[tuple[str, str]]], str]


def _swiper(photos: list[tuple[str, str]]) -> str:
    # A looping slider repeats its last slide before the first and its first after the last, as clones.
    def slide(img: str, caption: str, clone: bool = False) -> str:
        cls = "swiper-slide swiper-slide-duplicate" if clone else "swiper-slide"
        shown = f'<div class="swiper-slide__caption">{caption}</div>' if caption else ""
        return f'<div class="{cls}">{img}{shown}</div>'

    slides = [slide(*photos[-1], clone=True), *(slide(*p) for p in photos), slide(*photos[0], clone=True)]
    return (f'<div class="swiper gallery-slider"><div class="swiper-wrapper">{"".join(slides)}</div>'
            '<div class="swiper-button-prev"></div><div class="swiper-button-next"></div></div>')


def _grid(photos: list[tuple[str, str]]) -> str:
    return '<div class="gallery-grid">' + "".join(
        f'<figure class="gallery-grid__item">{img}' + (f"<figcaption>{caption}</figcaption>" if caption else "")
        + "</figure>" for img, caption in photos) + "</div>"


GALLERIES: dict[str, Gallery | None] = {
    "figures": None,
    "swiper": _swiper,
    "grid": _grid,
}


# --- the site's default share image, and other images no story owns -----------------------------

SHARE_IMAGE = "https://static.report.az/assets/img/report-share.jpg"
LOGO = "https://report.az/assets/img/logo.svg"


@dataclass(frozen=True)
class Defaults:
    """Where a page shows an image that is not its story's: og:image, JSON-LD image, the markup."""

    og: str = ""            # og:image of a page without photos
    json_ld: str = ""       # NewsArticle.image of a page without photos
    markup: str = ""        # an <img> in the main-photo slot of a page without photos
    og_over_photo: bool = False  # og:image of a page WITH photos is the default, not its photo


DEFAULT_IMAGES: dict[str, Defaults] = {
    "none": Defaults(),
    "og": Defaults(og=SHARE_IMAGE),
    "json_ld": Defaults(json_ld=SHARE_IMAGE),
    "both": Defaults(og=SHARE_IMAGE, json_ld=LOGO),
    "markup": Defaults(markup=SHARE_IMAGE, og=SHARE_IMAGE),
    "og_over_photo": Defaults(og=SHARE_IMAGE, og_over_photo=True),
}


# --- charset labels: what the header and <meta> say, and which bytes the page is -----------------

@dataclass(frozen=True)
class Charset:
    header: str           # the Content-Type header
    meta: str             # the page's own declaration ("" for none)
    encoding: str = "utf-8"  # the bytes (characters it lacks written as numeric references)


CHARSETS: dict[str, Charset] = {
    "utf-8": Charset("text/html; charset=utf-8", '<meta charset="utf-8">'),
    "header_only": Charset("text/html; charset=UTF-8", ""),
    "meta_only": Charset("text/html", '<meta charset="UTF-8">'),
    "http_equiv": Charset("text/html", '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'),
}
LYING_SHARE = 16  # percent of article pages whose labels lie, or whose bytes are not UTF-8
LYING_CHARSETS: dict[str, Charset] = {
    "header_cp1251": Charset("text/html; charset=windows-1251", '<meta charset="utf-8">'),
    "header_latin1": Charset("text/html; charset=iso-8859-1", ""),
    "header_koi8": Charset("text/html; charset=koi8-r", '<meta charset="utf-8">'),
    "meta_cp1251": Charset("text/html", '<meta charset="windows-1251">'),
    "bytes_cp1251": Charset("text/html; charset=windows-1251", '<meta charset="windows-1251">', "cp1251"),
    "bytes_cp1251_header_utf8": Charset("text/html; charset=utf-8", '<meta charset="windows-1251">', "cp1251"),
}
ALL_CHARSETS = {**CHARSETS, **LYING_CHARSETS}
# Listing pages (feed, its fragments, category pages) whose header lies about their UTF-8 bytes.
LISTING_LIE_SHARE = 8
LISTING_LIES = ("text/html; charset=windows-1251", "text/html; charset=iso-8859-1", "text/html; charset=koi8-r")


def listing_content_type(seed: int, path: str) -> str:
    """The Content-Type header a listing page gets: usually the truth, now and then a lie."""
    word = int.from_bytes(hashlib.sha1(f"replica:{seed}:{path}:charset".encode()).digest()[:4], "big")
    return LISTING_LIES[word // 100 % len(LISTING_LIES)] if word % 100 < LISTING_LIE_SHARE else CHARSETS["utf-8"].header


def encode(page: str, charset: Charset) -> bytes:
    return page.encode(charset.encoding, errors="xmlcharrefreplace")


# Renderings written blind, from REPORT_AZ.md and this module's interface alone (renderings_blind.py):
# the pools draw from them as from the ones above.
from tests.replica import renderings_blind as _blind  # noqa: E402  (it imports this module's types)

RELATED.update(_blind.RELATED_BLIND)
LINKS.update(_blind.LINKS_BLIND)
GALLERIES.update(_blind.GALLERIES_BLIND)
DEFAULT_IMAGES.update(_blind.DEFAULT_IMAGES_BLIND)
CHARSETS.update(_blind.CHARSETS_BLIND)
LYING_CHARSETS.update(_blind.LYING_CHARSETS_BLIND)
ALL_CHARSETS = {**CHARSETS, **LYING_CHARSETS}
