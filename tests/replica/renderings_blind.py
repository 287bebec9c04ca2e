"""More renderings for the unseen parts of an article page, written blind.

Written only from shared/site/REPORT_AZ.md, shared/site/seed-article-page.txt and the interface in
tests/replica/renderings.py, without reading the crawler (newsbot/), its other tests, or git history:
they imitate what report.az and news sites generally plausibly do, not what the parser expects.
Each pool has the same renderer types as its counterpart in renderings.py.
"""

from __future__ import annotations

import hashlib
import html
import re

from tests.replica.renderings import Related, Link, Gallery, Defaults, Charset, esc, attr

SITE = "https://report.az"


def _absolute(href: str) -> str:
    """A CMS that writes internal links in full: /x/y -> https://report.az/x/y."""
    return SITE + href if href.startswith("/") else href


# --- related-article blocks inside the body -------------------------------------------------------

def _aside_picture_cards(label: str, links: list[tuple[str, str, str]], lang: str) -> list[str]:
    # An <aside> with an <h3> label and cards whose thumbnail sits in a <picture> (webp + fallback).
    def card(href: str, title: str, thumb: str) -> str:
        webp = re.sub(r"\.(jpe?g|png)$", ".webp", thumb)
        return (f'<article class="news-card news-card--inline"><a class="news-card__link" href="{attr(href)}">'
                f'<picture class="news-card__image"><source srcset="{attr(webp)}" type="image/webp">'
                f'<img src="{attr(thumb)}" alt="" loading="lazy" width="160" height="90"></picture>'
                f'<span class="news-card__title">{esc(title)}</span></a></article>')
    return [f'<aside class="read-also" role="complementary" data-lang="{attr(lang)}">'
            f'<h3 class="read-also__heading">{esc(label)}</h3>'
            + "".join(card(*link) for link in links) + "</aside>"]


def _data_widget_spans(label: str, links: list[tuple[str, str, str]], lang: str) -> list[str]:
    # A CMS widget: data attributes, nested spans, headline also in the title attribute.
    items = "".join(
        f'<span class="inline-news__item" data-position="{i}">'
        f'<a href="{attr(href)}" title="{attr(title)}" data-gtm="related-inline">'
        f'<span class="inline-news__bullet">•</span> <span class="inline-news__text">{esc(title)}</span></a></span>'
        for i, (href, title, _) in enumerate(links, 1))
    return [f'<div class="inline-news" data-widget="related" data-count="{len(links)}">'
            f'<div class="inline-news__label"><span>{esc(label)}</span></div>'
            f'<div class="inline-news__list">{items}</div></div>']


def _table_see_also(label: str, links: list[tuple[str, str, str]], lang: str) -> list[str]:
    # An editor-pasted table (old WYSIWYG habit), full URLs, "»" before each headline.
    rows = "".join(f'<tr><td style="padding:4px 8px">» <a href="{attr(_absolute(href))}" target="_blank" '
                   f'rel="noopener">{esc(title)}</a></td></tr>' for href, title, _ in links)
    return [f'<table class="table see-also" border="0" cellpadding="0" cellspacing="0" style="width:100%">'
            f'<tbody><tr><th style="text-align:left">{esc(label)}</th></tr>{rows}</tbody></table>']


def _arrow_paragraphs(label: str, links: list[tuple[str, str, str]], lang: str) -> list[str]:
    # The label opens the first link's paragraph; every further link is its own paragraph with a dash.
    (href0, title0, _), rest = links[0], links[1:]
    first = (f'<p><span style="color:#c0392b"><strong>{esc(label)}</strong></span> '
             f'<a href="{attr(href0)}"><em>{esc(title0)}</em></a></p>')
    return [first, *(f'<p>— <a href="{attr(href)}"><em>{esc(title)}</em></a></p>' for href, title, _ in rest)]


def _div_label_ordered_list(label: str, links: list[tuple[str, str, str]], lang: str) -> list[str]:
    # A label in a plain <div>, an <ol>, absolute URLs with a tracking-free rel, headlines in <b>.
    items = "".join(f'<li class="similar__item"><a class="similar__link" href="{attr(_absolute(href))}" '
                    f'rel="bookmark"><b>{esc(title)}</b></a></li>' for href, title, _ in links)
    return [f'<div class="similar" id="similar-news"><div class="similar__title">{esc(label)}</div>'
            f'<ol class="similar__list">{items}</ol></div>']


RELATED_BLIND: dict[str, Related] = {
    "aside_picture_cards": _aside_picture_cards,
    "data_widget_spans": _data_widget_spans,
    "table_see_also": _table_see_also,
    "arrow_paragraphs": _arrow_paragraphs,
    "div_label_ordered_list": _div_label_ordered_list,
}


# --- a paragraph of reporting that links something ------------------------------------------------

def _digits(words: str, n: int) -> str:
    return str(int(hashlib.sha1(words.encode()).hexdigest(), 16))[:n]


def _code(words: str, n: int) -> str:
    return hashlib.sha1(words.encode()).hexdigest()[:n]


def _ministry(before: str, words: str, after: str, article: str, lang: str) -> str:
    return (f'{before}<a href="https://mfa.gov.az/{attr(lang)}/news/{_digits(words, 4)}" target="_blank" '
            f'rel="noopener noreferrer">{words}</a>{after}')


def _x_post(before: str, words: str, after: str, article: str, lang: str) -> str:
    return (f'{before}<a href="https://x.com/presidentaz/status/{_digits(words, 19)}?s=20" '
            f'target="_blank" rel="nofollow noopener">{words}</a>{after}')


def _instagram_post(before: str, words: str, after: str, article: str, lang: str) -> str:
    return (f'{before}<a href="https://www.instagram.com/p/{_code(words, 11)}/?igsh=MXZ" '
            f'target="_blank" rel="nofollow">{words}</a>{after}')


def _titled_article(before: str, words: str, after: str, article: str, lang: str) -> str:
    title = attr(html.unescape(words))
    return f'{before}<a href="{attr(article)}" title="{title}" class="internal-link">{words}</a>{after}'


def _strong_absolute_article(before: str, words: str, after: str, article: str, lang: str) -> str:
    return f'{before}<strong><a href="{attr(_absolute(article))}" target="_blank">{words}</a></strong>{after}'


LINKS_BLIND: dict[str, Link] = {
    "ministry": _ministry,
    "x_post": _x_post,
    "instagram_post": _instagram_post,
    "titled_article": _titled_article,
    "strong_absolute_article": _strong_absolute_article,
}


# --- photos after the main one --------------------------------------------------------------------

def _owl_carousel(photos: list[tuple[str, str]]) -> str:
    # Owl Carousel with loop: two cloned items on each side, marked "cloned".
    def item(img: str, caption: str, cloned: bool = False) -> str:
        cls = "owl-item cloned" if cloned else "owl-item"
        shown = f'<p class="gallery-item__caption">{caption}</p>' if caption else ""
        return f'<div class="{cls}" style="width:850px"><div class="gallery-item">{img}{shown}</div></div>'

    head, tail = photos[:2], photos[-2:]
    items = [*(item(*p, cloned=True) for p in tail), *(item(*p) for p in photos),
             *(item(*p, cloned=True) for p in head)]
    return ('<div class="news-gallery owl-carousel owl-theme owl-loaded"><div class="owl-stage-outer">'
            f'<div class="owl-stage">{"".join(items)}</div></div>'
            '<div class="owl-nav"><button type="button" class="owl-prev" aria-label="Previous"></button>'
            '<button type="button" class="owl-next" aria-label="Next"></button></div>'
            '<div class="owl-dots disabled"></div></div>')


def _fancybox_links(photos: list[tuple[str, str]]) -> str:
    # A lightbox gallery: each photo a link (to the photo itself) with its caption below.
    def href_of(img: str) -> str:
        m = re.search(r'\bdata-src="([^"]+)"', img) or re.search(r'\ssrc="([^"]+)"', img)
        return m.group(1) if m else "#"

    return '<div class="photo-gallery" data-fancybox-group="news">' + "".join(
        f'<div class="photo-gallery__item"><a href="{href_of(img)}" data-fancybox="gallery">{img}</a>'
        + (f'<div class="photo-gallery__caption">{caption}</div>' if caption else "") + "</div>"
        for img, caption in photos) + "</div>"


def _slick_slider(photos: list[tuple[str, str]]) -> str:
    # Slick with infinite scroll: one "slick-cloned" slide on each side, aria-hidden.
    def slide(img: str, caption: str, index: int, cloned: bool = False) -> str:
        cls = "slick-slide slick-cloned" if cloned else "slick-slide" + (" slick-current slick-active" if index == 0 else "")
        shown = f"<figcaption>{caption}</figcaption>" if caption else ""
        hidden = "true" if cloned or index else "false"
        return (f'<div class="{cls}" data-slick-index="{index}" aria-hidden="{hidden}">'
                f'<figure class="slider-photo">{img}{shown}</figure></div>')

    n = len(photos)
    slides = [slide(*photos[-1], -1, cloned=True), *(slide(*p, i) for i, p in enumerate(photos)),
              slide(*photos[0], n, cloned=True)]
    return ('<div class="detail-slider slick-initialized slick-slider"><div class="slick-list draggable">'
            f'<div class="slick-track">{"".join(slides)}</div></div></div>')


GALLERIES_BLIND: dict[str, Gallery] = {
    "owl_carousel": _owl_carousel,
    "fancybox_links": _fancybox_links,
    "slick_slider": _slick_slider,
}


# --- default images no story owns -----------------------------------------------------------------

NO_IMAGE = "https://static.report.az/assets/img/no-image.png"
TOUCH_ICON = "https://report.az/apple-touch-icon.png"
LOGO_PNG = "https://report.az/assets/img/logo-512x512.png"
DEFAULT_OG = "https://report.az/images/default-og.jpg"
LAZY_THUNK = "https://report.az/assets/img/thunk_600.webp"

DEFAULT_IMAGES_BLIND: dict[str, Defaults] = {
    "no_image_placeholder": Defaults(og=NO_IMAGE, markup=NO_IMAGE),
    "touch_icon_and_logo": Defaults(og=TOUCH_ICON, json_ld=LOGO_PNG),
    "default_og_over_photo": Defaults(og=DEFAULT_OG, json_ld=LOGO_PNG, og_over_photo=True),
    "lazy_thunk_markup": Defaults(markup=LAZY_THUNK, json_ld=DEFAULT_OG),
}


# --- charset labels -------------------------------------------------------------------------------

CHARSETS_BLIND: dict[str, Charset] = {
    "quoted_header": Charset('text/html;charset="utf-8"', "<meta charset='utf-8'>"),
    "utf8_label": Charset("text/html; charset=utf8", '<meta charset="utf8">'),
    "mixed_case_http_equiv": Charset(
        "Text/HTML; Charset=UTF-8",
        "<meta http-equiv='content-type' content='text/html;charset=UTF-8'>"),
    "meta_extra_attrs": Charset("text/html", '<meta data-n-head="ssr" charset="UTF-8" />'),
}

LYING_CHARSETS_BLIND: dict[str, Charset] = {
    "header_cp1252_no_meta": Charset("text/html; charset=windows-1252", ""),
    "header_iso8859_5": Charset("text/html; charset=iso-8859-5", '<meta charset="utf-8">'),
    "header_koi8u_http_equiv": Charset(
        "text/html; charset=koi8-u", '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'),
    "bytes_cp1251_header_only": Charset("text/html; charset=windows-1251", "", "cp1251"),
    "bytes_cp1251_header_latin1": Charset(
        "text/html; charset=ISO-8859-1", "<meta http-equiv='Content-Type' content='text/html; charset=windows-1251'>",
        "cp1251"),
}
