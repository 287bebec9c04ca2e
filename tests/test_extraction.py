"""Article extraction on saved pages (fundus-style fixtures) and properties of the normalisers."""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from lxml import etree
from parsel import Selector

from newsbot import site
from newsbot.listing import Card, parse_cards
from newsbot.site import categories
from newsbot.items import BY_NAME
from newsbot.html import parse_html
from newsbot.loaders import extract_article
from newsbot.site.clock import BAKU
from newsbot.normalize import (
    article_id,
    canonical_url,
    clean_text,
    iso_local,
    repair_mojibake,
    iso_utc,
    parse_site_datetime,
    slugify,
    story_id,
    url_key,
)

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
PAGES = sorted(p.stem for p in FIXTURES.glob("*.html"))


@pytest.mark.parametrize("name", PAGES)
def test_fixture_page_gives_expected_item(name: str) -> None:
    expected = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    extraction = extract_article((FIXTURES / f"{name}.html").read_text("utf-8"), expected["url"],
                                 crawled_at="2026-01-28T17:00:00Z")
    assert extraction.problems == expected["problems"]
    assert extraction.markup == expected["markup"]
    if expected["item"] is None:
        assert extraction.item is None
        assert extraction.failed_selectors, "a dropped page must name the selector that failed"
        return
    item = dict(extraction.item)
    assert item.pop("crawled_at") == "2026-01-28T17:00:00Z"
    assert item == expected["item"]


def test_the_source_that_answered_each_field_is_one_of_its_declared_sources() -> None:
    seen: dict[str, set[str]] = {}
    for name in PAGES:
        expected = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
        extraction = extract_article((FIXTURES / f"{name}.html").read_text("utf-8"), expected["url"])
        for field_name, source in extraction.sources.items():
            assert source in (*BY_NAME[field_name].sources, ""), (name, field_name, source)
            seen.setdefault(field_name, set()).add(source)
    assert {"canonical", "response"} <= seen["url"] and {"markup", "meta"} <= seen["category"]


def test_every_markup_version_has_a_fixture() -> None:
    versions = {json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))["markup"] for name in PAGES}
    missing = {m.version for m in site.MARKUPS} - versions
    assert not missing, f"markup versions without a saved page in {FIXTURES}: {sorted(missing)}"


def test_fixtures_cover_every_edition_and_the_awkward_cases() -> None:
    expectations = [json.loads((FIXTURES / f"{name}.json").read_text("utf-8")) for name in PAGES]
    items = [e["item"] for e in expectations if e["item"]]
    assert {i["language"] for i in items} >= {"az", "en", "ru"}
    problems = {p for e in expectations for p in e["problems"]}
    assert {"missing_body", "missing_title", "unparsable_date", "unknown_category"} <= problems
    assert any(i["translations"] == [] for i in items), "a story in one edition only"
    assert any(i["published_at"].endswith("T00:00:00+04:00") for i in items), "midnight"
    assert any(i["site_id"] for i in items) and any(i["site_id"] is None for i in items)


def test_sidebar_dates_and_titles_are_not_the_articles() -> None:
    expected = json.loads((FIXTURES / "az_leading_zero_midnight.json").read_text("utf-8"))
    item = extract_article((FIXTURES / "az_leading_zero_midnight.html").read_text("utf-8"), expected["url"]).item
    assert item["published_at"] == "2024-12-01T00:00:00+04:00"
    assert "Başqa xəbər" not in item["body"]


def test_story_id_is_the_same_from_every_edition() -> None:
    ru = json.loads((FIXTURES / "ru_all_editions.json").read_text("utf-8"))["item"]
    edition_urls = [ru["url"]] + [t["url"] for t in ru["translations"]]
    for own in edition_urls:
        others = [u for u in edition_urls if u != own]
        assert story_id([own, *others]) == ru["story_id"]
        assert story_id(reversed([own, *others])) == ru["story_id"]


def test_old_card_markup_is_parsed_not_crashed_on() -> None:
    html = """<section class="news-feed-page">
      <div class="news-item infinity-item" data-timestamp="2019-05-01 10:00:00">
        <a class="title" href="/en/energy/old-story">Old <b>story</b></a></div></section>"""
    cards = parse_cards(Selector(text=html), "https://report.az/en/latest-news/")
    assert [(c.url, c.title, c.timestamp) for c in cards] == [
        ("https://report.az/en/energy/old-story", "Old story", "2019-05-01 10:00:00")]


def test_older_design_listing_cards_are_read() -> None:
    # 2024's design: .news-block .title .feed-news-title (REPORT_AZ.md). Its link and title queries
    # have two parts each; a query applied to only the last part once made these cards vanish.
    html = """<div class="news-list">
      <div class="news-block" data-timestamp="2024-03-01 09:15:00"><div class="title">
        <a href="/en/energy/older-story/"><span class="feed-news-title">Older <i>story</i></span></a></div></div>
      <div class="news-block"><a class="title" href="/en/region/second-older/">Second older</a></div></div>"""
    cards = parse_cards(Selector(text=html), "https://report.az/en/energy/")
    assert [(c.url, c.title, c.timestamp) for c in cards] == [
        ("https://report.az/en/energy/older-story/", "Older story", "2024-03-01 09:15:00"),
        ("https://report.az/en/region/second-older/", "Second older", "")]


def test_cards_as_they_really_are() -> None:
    html = """<div class="loadContainer" data-url="/infinity/index">
      <div class="col-md-3 index-post-block" data-timestamp="2026-01-13 18:27:00">
      <a href="/biznes-xeberleri/baku-electronics-yeni-kampaniya" class="news__item" target="_blank">
      <h2 class="news__title ">Baku Electronics yeni kampaniya</h2><span class="news__category">Biznes</span>
      <ul class="news__date"><li>13 yanvar, 2026</li><li>18:27</li></ul></a></div></div>"""
    page = Selector(text=html)
    assert parse_cards(page, "https://report.az/son-xeberler") == [Card(
        "https://report.az/biznes-xeberleri/baku-electronics-yeni-kampaniya", "Baku Electronics yeni kampaniya",
        "2026-01-13 18:27:00", "Biznes")]
    assert site.feed_endpoint(page) == "/infinity/index"
    assert site.Edition("https://report.az", "az").infinity_url("2026-01-13 18:27:00", "/infinity/index") == (
        "https://report.az/infinity/index?date=2026-01-13%2018%3A27%3A00&oldest=1")


# --- the body: every real paragraph, furniture by exact phrasing only ---------------------

CITING = {
    "az": ("Nazirlik Telegram kanalında bildirib ki, yol martın 1-dək bağlı olacaq.",
           "Şirkət Facebook səhifəsində yazıb ki, kampaniya davam edir.",
           "Ən son xəbərləri nazirlik WhatsApp kanalında paylaşır."),
    "en": ("The ministry said on its Telegram channel that the road would stay closed.",
           "Follow-up talks were announced on the company's Facebook page.",
           "Share prices rose after the bank posted its results on its WhatsApp channel."),
    "ru": ("Министерство сообщило в своем Telegram-канале, что дорога будет закрыта.",
           "Подписывайтесь на обновления, призвал мэр в своем Telegram-канале жителей города.",
           "Как сообщает Report, компания поделилась результатами в WhatsApp."),
}


def article_page(body: str, extra: str = "", head: str = "") -> str:
    return (f'<html><head>{head}</head><body><header><nav><a href="/en/latest-news">Latest News</a></nav></header>'
            f'<main><article><ul class="news__date"><li>28 January, 2026</li><li>16:35</li></ul>'
            f'<h1 class="section-title">A title</h1><div class="news-detail__desc">{body}</div>{extra}</article>'
            f'<aside><div class="index-post-block"><a href="/en/energy/other" class="news__item">'
            f'<h2 class="news__title">Sidebar</h2></a></div></aside></main><footer>©</footer></body></html>')


@pytest.mark.parametrize("language", ["az", "en", "ru"])
def test_reporting_that_cites_channels_is_kept_in_every_language(language: str) -> None:
    paragraphs = CITING[language]
    html = article_page("".join(f"<p>{p}</p>" for p in paragraphs))
    extraction = extract_article(html, f"https://report.az/{'' if language == 'az' else language + '/'}energy/x")
    assert extraction.item["body"].split("\n\n") == list(paragraphs)
    assert not extraction.furniture


# Other articles of the edition a body points to, in each language: (label, [(path, headline)]).
RELATED = {
    "az": ("Həmçinin oxuyun:", [("/energetika/neft-qiymeti-bahalasib", "Neftin qiyməti bahalaşıb"),
                                ("/siyasi-xeberler/prezident-qebul-edib", "Prezident nümayəndə heyətini qəbul edib")]),
    "en": ("Read also", [("/en/energy/oil-prices-rise", "Oil prices rise"),
                         ("/en/finance/central-bank-keeps-rate", "Central Bank keeps its rate at 7%")]),
    "ru": ("Читайте также:", [("/ru/energetika/neft-podorozhala", "Нефть подорожала"),
                              ("/ru/finansy/centrobank-sohranil-stavku", "Центробанк сохранил ставку")]),
}


def _related(language: str, shape: str) -> str:
    label, links = RELATED[language]
    a = [f'<a href="{path}">{title}</a>' for path, title in links]
    return {
        "labelled paragraph": f"<p><strong>{label}</strong> {a[0]}</p>",
        "labelled box with a list": f'<div class="box"><h4>{label}</h4><ul>{"".join(f"<li>{x}</li>" for x in a)}</ul></div>',
        "bare list of headlines": f'<ul>{"".join(f"<li>{x}</li>" for x in a)}</ul>',
        "label paragraph before a list": f'<p>{label}</p><div>{"<br>".join(a)}</div>',
        "quote box with thumbnails": (f'<blockquote>{label} ' + " | ".join(
            f'<a href="{path}"><img src="https://static.report.az/photo/t{n}_490.jpg"></a>{x}'
            for n, ((path, _), x) in enumerate(zip(links, a))) + "</blockquote>"),
        "loose text in the body": f"{label} {a[1]}<br><br>",
    }[shape]


RELATED_SHAPES = ("labelled paragraph", "labelled box with a list", "bare list of headlines",
                  "label paragraph before a list", "quote box with thumbnails", "loose text in the body")


@pytest.mark.parametrize("shape", RELATED_SHAPES)
@pytest.mark.parametrize("language", ["az", "en", "ru"])
def test_a_block_that_only_points_to_other_articles_is_not_the_story(language: str, shape: str) -> None:
    reporting = CITING[language]
    body = f"<p>{reporting[0]}</p>{_related(language, shape)}<p>{reporting[1]}</p>"
    url = f"https://report.az/{'' if language == 'az' else language + '/'}energy/x"
    extraction = extract_article(article_page(body), url)
    assert extraction.item["body"].split("\n\n") == list(reporting[:2])
    assert extraction.furniture["related"] >= 1
    assert extraction.item["images"] == [], "a linked thumbnail is the other article's"


# Reporting that links something keeps its words and the link's: a channel, a document, another article.
LINKED_REPORTING = {
    "az": ('Nazirlik <a href="https://t.me/energyministry">Telegram kanalında</a> bildirib ki, yol bağlı olacaq.',
           'Qərarın <a href="/uploads/2026/01/qerar.pdf">tam mətni</a> nazirliyin saytında dərc olunub.',
           'Daha əvvəl <a href="/energetika/neft-qiymeti-bahalasib">neftin qiymətinin bahalaşdığı</a> bildirilmişdi.'),
    "en": ('The ministry said on its <a href="https://t.me/energyministry">Telegram channel</a> that the road would close.',
           'The <a href="https://report.az/uploads/2026/01/decree.pdf">full text of the decree</a> is online.',
           'Earlier, Report <a href="/en/energy/oil-prices-rise">wrote that oil prices had risen</a> for a week.'),
    "ru": ('Министерство сообщило в <a href="https://t.me/energyministry">своем Telegram-канале</a>, что дорогу закроют.',
           '<a href="/uploads/2026/01/ukaz.pdf">Полный текст указа</a> опубликован на сайте министерства.',
           'Ранее Report сообщал, что <a href="/ru/energetika/neft-podorozhala">нефть подорожала</a> за неделю.'),
}


@pytest.mark.parametrize("language", ["az", "en", "ru"])
def test_reporting_that_links_a_channel_a_document_or_an_article_is_kept(language: str) -> None:
    paragraphs = LINKED_REPORTING[language]
    url = f"https://report.az/{'' if language == 'az' else language + '/'}energy/x"
    extraction = extract_article(article_page("".join(f"<p>{p}</p>" for p in paragraphs)), url)
    assert extraction.item["body"].split("\n\n") == [clean_text(Selector(text=p).xpath("string()").get())
                                                     for p in paragraphs]
    assert not extraction.furniture


def test_known_furniture_is_dropped_and_counted_by_rule() -> None:
    furniture = ["Sosial şəbəkələrdə paylaşın", "Mənbə: APA", "Источник: Report", "&nbsp;",
                 site.FURNITURE_PHRASINGS["subscription"][0] + ":"]
    html = article_page("<p>Real reporting.</p>" + "".join(f"<p>{f}</p>" for f in furniture))
    extraction = extract_article(html, "https://report.az/en/energy/x")
    assert extraction.item["body"] == "Real reporting."
    assert extraction.furniture == {"share_prompt": 1, "source_line": 2, "empty": 1, "subscription": 1}
    assert site.furniture_rule("Sources say the talks will continue.") is None
    assert site.furniture_rule("Source: the ministry said on Monday that the bridge. Will reopen.") is None


def test_embeds_are_removed_and_inline_text_joins_as_a_browser_shows_it() -> None:
    body = ('<p>Report<b>-a</b> <a href="/en/tag/socar">SOCAR</a>, today.</p>'
            '<p><iframe src="https://www.youtube.com/embed/x"></iframe></p><script>var x = "not text";</script>'
            '<noscript>Enable JS</noscript><style>p{}</style>'
            '<blockquote class="twitter-tweet"><p>Tweet text</p></blockquote>'
            '<blockquote><p>A quote from the minister.</p></blockquote>'
            'Loose text before a break<br><br>and after it.<div>A paragraph in a div.</div>')
    extraction = extract_article(article_page(body), "https://report.az/en/energy/x")
    assert extraction.item["body"].split("\n\n") == [
        "Report-a SOCAR, today.", "A quote from the minister.", "Loose text before a break", "and after it.",
        "A paragraph in a div."]
    assert extraction.item["tags"] == [], "a tag link inside a paragraph is not the tags line"


def test_markup_nested_a_hundred_thousand_deep_is_read() -> None:
    # Deeper than libxml2 parses a page (html.MAX_DEPTH), so built by hand: blocks in blocks, and
    # inline markup in inline markup inside the last paragraph.
    root = parse_html(article_page("<div></div><p>Loose <b></b> after the nesting.</p>").encode("utf-8"))
    blocks, inline = [root.find(".//div[@class='news-detail__desc']/div")], [root.find(".//b")]
    for _ in range(100_000):  # every element kept alive: lxml frees each dropped proxy by a walk up the tree
        blocks.append(etree.SubElement(blocks[-1], "div"))
        inline.append(etree.SubElement(inline[-1], "i"))
    blocks[-1].text, inline[-1].text = "A paragraph at the bottom of the nesting.", "text"
    extraction = extract_article(Selector(root=root), "https://report.az/en/energy/x")
    assert extraction.item["body"].split("\n\n") == ["A paragraph at the bottom of the nesting.",
                                                      "Loose text after the nesting."]


def test_a_page_nested_past_the_parsers_depth_is_dropped_not_cut_short() -> None:
    nested = "<div>" * 100_000 + "<p>Deep.</p>" + "</div>" * 100_000
    extraction = extract_article(article_page(f"<p>A first paragraph.</p>{nested}<p>The last one.</p>"),
                                 "https://report.az/en/energy/x")
    assert extraction.item is None and extraction.problems == ["too_deep"]


def test_mojibake_inside_the_page_is_repaired() -> None:
    text = "Nazir «Çin şirkəti ilə» görüşüb — привет"
    broken = text.encode("utf-8").decode("cp1252", errors="strict") if False else text.encode("utf-8").decode(
        "latin-1")
    extraction = extract_article(article_page(f"<p>{broken}</p>"), "https://report.az/energy/x")
    assert extraction.item["body"] == text
    assert repair_mojibake(text) == text


# --- structural rules: parts whose real markup is unknown -----------------------------------

TAG_LINES = {
    "links in a div": '<div class="x"><a href="/en/tag/socar">SOCAR</a><a href="/en/tag/citic">CITIC</a></div>',
    "a list": '<ul><li><a href="/en/tags/socar">#SOCAR</a></li><li><a href="/en/tags/citic">#CITIC</a></li></ul>',
    "a labelled line": '<p>Tags: <a href="https://report.az/en/tag/socar/">SOCAR</a>, '
                       '<a href="https://report.az/en/tag/citic/">CITIC</a></p>',
    "inside the body block": None,
}


@pytest.mark.parametrize("shape", TAG_LINES)
def test_tags_are_links_to_tag_pages_after_the_title(shape: str) -> None:
    line = TAG_LINES[shape]
    trending = '<div><a href="/en/tag/wuf13">WUF13</a></div>'
    line = line and line + '<div><a href="/ru/tag/socar">SOCAR на русском</a></div>'  # another edition's tag page
    if line is None:
        html = article_page('<p>Text.</p><p>Tags: <a href="/en/tag/socar">SOCAR</a>, <a href="/en/tag/citic">CITIC</a>'
                            '</p>')
    else:
        html = article_page("<p>Text.</p>", extra=line)
    html = html.replace("<main><article>", f"<main>{trending}<article>")
    item = extract_article(html, "https://report.az/en/energy/x").item
    assert item["tags"] == ["SOCAR", "CITIC"]
    assert item["body"] == "Text."


EDITION_LINKS = {
    "cards with a badge": ('<div><a href="/energetika/az-slug"><span>Photo</span><h3>Az başlıq</h3></a>'
                           '<a href="/ru/energetika/ru-slug"><span>Фото</span><h3>Русский заголовок</h3></a></div>'),
    "labelled list": ('<ul><li>AZ: <a href="https://www.report.az/energetika/az-slug">Az başlıq</a></li>'
                      '<li>RU: <a href="https://report.az/ru/energetika/ru-slug/">Русский заголовок</a></li></ul>'),
    "image link then title link": ('<a href="/energetika/az-slug"><img src="/photo/a_490.jpg" alt="Az başlıq"></a>'
                                   '<a href="/energetika/az-slug">Az başlıq</a>'
                                   '<a href="/ru/energetika/ru-slug"><img src="/photo/r_490.jpg"></a>'
                                   '<a href="/ru/energetika/ru-slug"><span>RU</span> Русский заголовок</a>'),
}


@pytest.mark.parametrize("shape", EDITION_LINKS)
def test_other_editions_are_links_to_an_article_of_another_edition(shape: str) -> None:
    html = article_page("<p>Text.</p>", extra=EDITION_LINKS[shape])
    item = extract_article(html, "https://report.az/en/energy/x").item
    # Canonical host and scheme, the path as the link wrote it (the labelled list's ru link has a slash).
    ru_slash = "/" if shape == "labelled list" else ""
    assert [(t["language"], t["url"], t["title"]) for t in item["translations"]] == [
        ("az", "https://report.az/energetika/az-slug", "Az başlıq"),
        ("ru", f"https://report.az/ru/energetika/ru-slug{ru_slash}", "Русский заголовок")]
    assert item["images"] == [], "another edition's thumbnail is not this article's photo"


def test_navigation_sidebar_and_footer_links_are_never_other_editions() -> None:
    html = article_page("<p>Text.</p>").replace(
        "<footer>©</footer>", '<footer><a href="/ru/energetika/ru-slug">RU story</a></footer>').replace(
        '<nav>', '<nav><a href="/energetika/az-slug">AZ story</a>')
    item = extract_article(html, "https://report.az/en/energy/x").item
    assert item["translations"] == []
    hreflang = '<link rel="alternate" hreflang="ru" href="https://report.az/ru/energetika/ru-slug">'
    item = extract_article(article_page("<p>Text.</p>", head=hreflang), "https://report.az/en/energy/x").item
    assert item["translations"] == [{"language": "ru", "url": "https://report.az/ru/energetika/ru-slug",
                                      "title": ""}]


PHOTOS = {
    "figure": '<figure><img src="https://static.report.az/photo/a_850.jpg"><figcaption>A caption</figcaption></figure>',
    "wrapper with a span": ('<div class="p"><img data-src="https://static.report.az/photo/a_850.jpg" '
                            'src="https://static.report.az/assets/thunk_400.jpg"><span>A caption</span></div>'),
    "wrapper with a caption block": ('<div><div><img srcset="https://static.report.az/photo/a_490.jpg 490w, '
                                     'https://static.report.az/photo/a_850.jpg 850w" src="data:image/gif;base64,R0l">'
                                     '</div><div>A caption</div></div>'),
    "lazy cloudflare": ('<div><img data-cfsrc="https://static.report.az/photo/a_850.jpg" src="data:,">'
                        '<p>A caption</p></div>'),
}


@pytest.mark.parametrize("shape", PHOTOS)
def test_photos_take_the_real_url_and_the_shown_caption(shape: str) -> None:
    html = article_page("<p>Text one.</p>" + PHOTOS[shape] + "<p>Text two.</p>")
    item = extract_article(html, "https://report.az/en/energy/x").item
    assert item["images"] == [{"url": "https://static.report.az/photo/a_850.jpg", "caption": "A caption"}]
    assert item["body"] == "Text one.\n\nText two."


def test_og_image_only_fills_a_gap_and_a_placeholder_is_never_an_image() -> None:
    og = '<meta property="og:image" content="https://static.report.az/photo/og_850.jpg">'
    item = extract_article(article_page("<p>T.</p>", head=og), "https://report.az/en/energy/x").item
    assert item["images"] == [{"url": "https://static.report.az/photo/og_850.jpg", "caption": ""}]
    shown = '<div class="news-detail__main-photo"><img data-src="/photo/main_850.jpg" src="/thunk_600.webp"></div>'
    item = extract_article(article_page("<p>T.</p>", extra=shown, head=og), "https://report.az/en/energy/x").item
    assert item["images"] == [{"url": "https://report.az/photo/main_850.jpg", "caption": ""}]
    only_placeholder = '<div><img src="https://static.report.az/assets/img/thunk_600.webp"></div>'
    item = extract_article(article_page("<p>T.</p>", extra=only_placeholder), "https://report.az/en/energy/x").item
    assert item["images"] == []


# Shared images: a default share image, a logo, an icon. Named for what they are, or kept with the
# site's assets; never one story's own photo.
SHARED_IMAGES = ("https://static.report.az/assets/img/og-default.jpg", "https://report.az/images/logo.png",
                 "https://report.az/favicon.ico", "https://cdn.report.az/share/report-default-1200x630.jpg",
                 "/img/no-photo.svg")


@pytest.mark.parametrize("shared", SHARED_IMAGES)
def test_an_image_many_stories_share_is_never_the_photo_wherever_it_is(shared: str) -> None:
    url = "https://report.az/en/energy/x"
    og = f'<meta property="og:image" content="{shared}">'
    ld = json_ld(image={"@type": "ImageObject", "url": shared})
    for head in (og, ld, og + ld):
        assert extract_article(article_page("<p>T.</p>", head=head), url).item["images"] == []
    shown = f'<div class="news-detail__main-photo"><img src="{shared}"></div>'
    assert extract_article(article_page(f'<p>T.</p><p><img src="{shared}" alt=""></p>', extra=shown),
                           url).item["images"] == []
    # A page with its own photo gives that one, and structured data pointing at the default changes nothing.
    photo = '<figure><img src="https://static.report.az/photo/1f0e8c6a-2b3d-4c5e-8f9a-0b1c2d3e4f5a_850.jpg"></figure>'
    assert [i["url"] for i in extract_article(article_page(photo + "<p>T.</p>", head=og + ld), url).item[
        "images"]] == ["https://static.report.az/photo/1f0e8c6a-2b3d-4c5e-8f9a-0b1c2d3e4f5a_850.jpg"]


@pytest.mark.parametrize("photo", ["https://static.report.az/photo/a_850.jpg",
                                   "https://report.az/uploads/2026/01/28/x.jpg",
                                   "https://cdn.example.net/i/9f86d081884c7d659a2feaa0c55ad015_850.jpg",
                                   "https://report.az/media/2844552.jpg"])
def test_a_story_photo_is_where_story_photos_live_or_named_for_itself(photo: str) -> None:
    assert site.is_story_photo(photo)
    og = f'<meta property="og:image" content="{photo}">'
    assert extract_article(article_page("<p>T.</p>", head=og), "https://report.az/en/energy/x").item["images"] == [
        {"url": photo, "caption": ""}]


GALLERIES = {
    "swiper with clones": (
        '<div class="swiper"><div class="swiper-wrapper">'
        '<div class="swiper-slide swiper-slide-duplicate"><img data-src="https://static.report.az/photo/c_850.jpg"></div>'
        '<div class="swiper-slide"><img data-src="https://static.report.az/photo/a_850.jpg"></div>'
        '<div class="swiper-slide"><img data-src="https://static.report.az/photo/b_850.jpg"></div>'
        '<div class="swiper-slide"><img data-src="https://static.report.az/photo/c_850.jpg"></div>'
        '<div class="swiper-slide swiper-slide-duplicate"><img data-src="https://static.report.az/photo/a_850.jpg">'
        "</div></div></div>"),
    "grid of figures": "".join(
        f'<figure class="gallery-item"><img src="https://static.report.az/photo/{n}_850.jpg"></figure>' for n in "abc"),
    "lazy loader of its own": "".join(
        f'<div class="slide"><img data-lazy="https://static.report.az/photo/{n}_850.jpg" src="data:,"></div>'
        for n in "abc"),
}


@pytest.mark.parametrize("shape", GALLERIES)
def test_a_gallery_gives_all_its_photos_in_page_order_once(shape: str) -> None:
    """Once each, and a looping slider's clone of its last slide (before the first) is not its first photo."""
    html = article_page("<p>Text one.</p>" + GALLERIES[shape] + "<p>Text two.</p>")
    item = extract_article(html, "https://report.az/en/energy/x").item
    urls = [i["url"] for i in item["images"]]
    assert urls == [f"https://static.report.az/photo/{n}_850.jpg" for n in "abc"]
    assert item["body"] == "Text one.\n\nText two."


# --- structured data: fills gaps, never overrides what the page shows ---------------------------

def json_ld(**fields) -> str:
    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", **fields})}</script>'


def test_json_ld_fills_a_missing_date_and_a_disagreement_keeps_the_visible_one() -> None:
    undated = article_page("<p>T.</p>").replace('<ul class="news__date"><li>28 January, 2026</li><li>16:35</li></ul>',
                                                "")
    for published in ("2026-01-28T16:35:00+04:00", "2026-01-28T12:35:00Z", "2026-01-28 16:35:00"):
        extraction = extract_article(undated.replace("<head>", "<head>" + json_ld(datePublished=published)),
                                     "https://report.az/en/energy/x")
        assert extraction.item["published_at"] == "2026-01-28T16:35:00+04:00", published
        assert extraction.sources["published_at"] == "json-ld" and extraction.problems == []
    meta = '<meta property="article:published_time" content="2026-01-28T16:35:00+04:00">'
    assert extract_article(undated.replace("<head>", "<head>" + meta),
                           "https://report.az/en/energy/x").item["published_at"] == "2026-01-28T16:35:00+04:00"
    disagreeing = article_page("<p>T.</p>", head=json_ld(datePublished="2026-01-28T18:00:00+04:00"))
    extraction = extract_article(disagreeing, "https://report.az/en/energy/x")
    assert extraction.item["published_at"] == "2026-01-28T16:35:00+04:00"
    assert extraction.problems == ["date_disagrees"]


def test_visible_title_wins_over_a_truncated_headline_and_json_ld_fills_a_missing_one() -> None:
    long_title = "A" * 60 + " " + "b" * 60
    page = article_page("<p>T.</p>", head=json_ld(headline=long_title[:109] + "…")).replace("A title", long_title)
    assert extract_article(page, "https://report.az/en/energy/x").item["title"] == long_title
    untitled = article_page("<p>T.</p>", head=json_ld(headline="From JSON-LD")).replace(
        '<h1 class="section-title">A title</h1>', "")
    assert extract_article(untitled, "https://report.az/en/energy/x").item["title"] == "From JSON-LD"


def test_category_from_the_head_then_the_breadcrumb_then_article_section() -> None:
    crumbs = ('<script type="application/ld+json">{"@type": "BreadcrumbList", "itemListElement": ['
              '{"position": 1, "name": "Home", "item": "https://report.az/en"}, '
              '{"position": 2, "name": "Foreign policy", "item": "https://report.az/en/foreign-politics"}]}</script>')
    section = '<meta property="article:section" content="Energy | Report.az">'
    url = "https://report.az/en/foreign-politics/x"
    assert extract_article(article_page("<p>T.</p>", head=crumbs + section), url).item["category"] == "Foreign policy"
    item = extract_article(article_page("<p>T.</p>", head=section), "https://report.az/en/energy/x").item
    assert (item["category"], item["category_slug"]) == ("Energy", "energy")
    head = '<div class="news-detail__head"><a class="news__category" href="/en/region">Region</a></div>'
    page = article_page("<p>T.</p>", head=crumbs).replace("<article>", f"<article>{head}")
    assert extract_article(page, url).item["category"] == "Region"


@pytest.mark.parametrize("short_link, expected", [
    ("report.az/2844552", 2844552), ("https://report.az/2844552", 2844552), ("http://report.az/2844552/", 2844552),
    ("report.az/en/energy/x", None), ("", None)])
def test_site_id_is_the_number_of_the_short_link(short_link: str, expected: int | None) -> None:
    page = article_page("<p>T.</p>", extra=f'<span class="copy-url" data-url="{short_link}">Copy</span>')
    assert extract_article(page, "https://report.az/en/energy/x").item["site_id"] == expected


FIRST = "The first paragraph of a story on a page whose design newsbot has never seen."
SECOND = "The second paragraph, as long as a real one, so that structure can tell it is the text."


def test_a_page_of_no_known_generation_is_read_by_structure_and_counted() -> None:
    html = ('<html><body><header><h1>Report.az</h1></header><div class="wrap"><h1>Unknown design</h1>'
            f'<div class="text"><p>{FIRST}</p><p>{SECOND}</p></div>'
            '<p class="tags">Tags: <a href="/en/tag/x">x</a></p></div>'
            '<aside><p>Sidebar text that is long enough to look like a paragraph of reporting, or longer.</p></aside>'
            '</body></html>')
    extraction = extract_article(html, "https://report.az/en/energy/x")
    assert extraction.markup == site.UNKNOWN_VERSION
    assert (extraction.item["title"], extraction.item["body"], extraction.item["tags"]) == (
        "Unknown design", f"{FIRST}\n\n{SECOND}", ["x"])
    # Without enough reporting on it, a page of no known generation has no body, rather than a made-up one.
    thin = html.replace(FIRST, "Short.").replace(SECOND, "Also short.")
    assert extract_article(thin, "https://report.az/en/energy/x").problems == ["missing_body"]


# --- dates -------------------------------------------------------------------
EN = "January February March April May June July August September October November December".split()
AZ = "yanvar fevral mart aprel may iyun iyul avqust sentyabr oktyabr noyabr dekabr".split()
RU = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split()

moments = st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=BAKU))


@given(moment=moments, months=st.sampled_from([EN, AZ, RU]), leading_zero=st.booleans())
def test_site_dates_round_trip_in_every_language(moment: datetime, months: list[str], leading_zero: bool) -> None:
    day = f"{moment.day:02d}" if leading_zero else str(moment.day)
    parsed = parse_site_datetime(f"{day} {months[moment.month - 1]}, {moment.year}", f"{moment:%H:%M}")
    assert parsed == moment
    assert iso_local(parsed) == moment.strftime("%Y-%m-%dT%H:%M:00+04:00")
    assert iso_utc(parsed) == (moment - timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:00Z")


@given(st.text(max_size=30))
def test_unreadable_dates_give_none_never_raise(text: str) -> None:
    result = parse_site_datetime(text, text)
    assert result is None or result.tzinfo is not None


def test_the_older_designs_dates_are_read() -> None:
    assert parse_site_datetime("7 Fevral , 2024", "18:27") == datetime(2024, 2, 7, 18, 27, tzinfo=BAKU)
    assert parse_site_datetime("13 yanvar, 2026", "18:27") == datetime(2026, 1, 13, 18, 27, tzinfo=BAKU)


def test_impossible_date_is_none() -> None:
    assert parse_site_datetime("31 fevral, 2026", "10:00") is None
    assert parse_site_datetime("28 Smarch, 2026", "10:00") is None


# --- text --------------------------------------------------------------------
@given(st.text())
def test_clean_text_is_idempotent_nfc_and_trimmed(text: str) -> None:
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert unicodedata.is_normalized("NFC", cleaned)
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned and "\u00a0" not in cleaned and "\u200b" not in cleaned


@given(st.lists(st.sampled_from(["Ə", "ə", "İ", "ş", "ç", "ğ", "ı", "ö", "ü", "с", "«", "»", "—", "a", " ", "\u00a0",
                                 "\u200b", "&amp;", "&nbsp;", "\n"]), max_size=40))
def test_clean_text_undoes_the_noise_of_real_pages(parts: list[str]) -> None:
    noisy = "".join(parts)
    decomposed = unicodedata.normalize("NFD", noisy)
    assert clean_text(decomposed) == clean_text(noisy)
    assert "&amp;" not in clean_text(noisy) and "&nbsp;" not in clean_text(noisy)


# --- URLs and ids --------------------------------------------------------------
@given(slug=st.from_regex(r"[a-z0-9]+(-[a-z0-9]+){0,5}", fullmatch=True), prefix=st.sampled_from(["", "en/", "ru/"]),
       host=st.sampled_from(["http://report.az", "https://www.report.az", "https://REPORT.az:443"]),
       slash=st.booleans(), tracking=st.sampled_from(["", "?utm_source=fb&utm_medium=x", "?fbclid=abc", "#share"]))
def test_spellings_of_one_article_share_url_key_and_id(slug, prefix, host, slash, tracking) -> None:
    url = f"{host}/{prefix}energy/{slug}{'/' if slash else ''}{tracking}"
    # The path stays as written (the site may answer the other spelling with a 301 or a 404) ...
    assert canonical_url(url) == f"https://report.az/{prefix}energy/{slug}{'/' if slash else ''}"
    # ... but both spellings are one page.
    assert url_key(url) == f"/{prefix}energy/{slug}"
    assert article_id(url) == article_id(f"https://report.az/{prefix}energy/{slug}/")
    assert article_id(url) == article_id(f"https://report.az/{prefix}energy/{slug}")


def test_article_id_ignores_host_so_replica_and_site_agree() -> None:
    assert article_id("http://127.0.0.1:8123/en/energy/x/") == article_id("https://report.az/en/energy/x")


def test_category_table_keys_are_english_with_real_slugs_and_unique_segments() -> None:
    table = categories.all_categories()
    for language in site.LANGUAGES:
        segments = [c.segment for c in table if c.language == language]
        assert len(segments) == len(set(segments))
    # A key may lack an edition whose slug nobody has seen (ru foreign-politics): never a guess.
    assert categories.segments_for("foreign-politics") == {"az": "xarici-siyaset", "en": "foreign-politics"}
    assert categories.segments_for("business") == {"az": "biznes-xeberleri", "en": "business", "ru": "biznes"}
    assert categories.segments_for("other-countries")["ru"] == "drugie-strany"
    assert categories.lookup("az", "maliyye-xeberleri").key == "finance"
    assert categories.lookup("az", "qarabag").key == categories.lookup("en", "nagorno-karabakh").key
    assert categories.lookup("az", "xarici-siyaset").key == "foreign-politics"
    assert categories.lookup("en", "", "Foreign policy").key == "foreign-politics"
    assert categories.lookup("ru", "vneshnyaya-politika") is None  # a slug guessed once, now gone
    assert categories.lookup("ru", "nonexistent") is None


def _page_with_editions(own: str, editions: list[str]) -> str:
    links = "".join(f'<a href="{href}" class="other-lang-news"><h3>Title {n}</h3></a>' for n, href in enumerate(editions))
    return (f'<div class="news-detail"><h1 class="section-title">Title</h1><div class="news-detail__head">'
            f'<ul class="news__date"><li>28 yanvar, 2026</li><li>16:35</li></ul></div>'
            f'<div class="news-detail__desc"><p>Body text of the story.</p></div>'
            f'<div class="news-detail__other-langs">{links}</div></div>')


@pytest.mark.parametrize("own,editions,key,known", [
    # az slug unknown, its en edition's known: the known key.
    ("/siyaset/x", ["/en/politics/y"], "politics", True),
    # A known key wins over the en edition's unknown slug.
    ("/en/sport-news/y", ["/idman-xeberleri/x"], "sports", True),
    # The table knows every az slug of REPORT_AZ, each under an English key.
    ("/futbol-xeberleri/x", ["/en/football/y", "/ru/futbol/z"], "football", True),
    ("/ru/zdravookhranenie/z", ["/sehiyye-xeberler/x"], "health", True),
    ("/hadise/x", [], "incidents", True),
    # Nothing known: the en slug, else the ru one, else the page's own.
    ("/medeniyyet/x", ["/en/culture/y", "/ru/kultura/z"], "culture", False),
    ("/medeniyyet/x", ["/ru/kultura/z"], "kultura", False),
    ("/ask/x", [], "ask", False),
])
def test_category_slug_is_one_key_for_the_story_from_its_linked_editions(own, editions, key, known) -> None:
    extraction = extract_article(_page_with_editions(own, editions), "https://report.az" + own)
    assert extraction.item["category_slug"] == key
    assert ("unknown_category" in extraction.problems) == (not known)
    assert [t["url"] for t in extraction.item["translations"]] == ["https://report.az" + e for e in editions]


def test_slugify_makes_ascii_keys_from_any_edition() -> None:
    assert slugify("Xarici siyasət") == "xarici-siyaset"
    assert slugify("Внешняя политика") == "vneshnyaya-politika"
    assert slugify("  Other  countries ") == "other-countries"


def test_line_breaks_inside_a_paragraph_separate_words() -> None:
    html = """<div><ul class="news__date"><li>28 January, 2026</li><li>16:35</li></ul>
      <h1 class="section-title">Title</h1><div class="news-detail__desc">
      <p>The meeting was held in Baku.<br>A memorandum was signed.</p><p>By <a href="#">SOCAR</a>, today.</p></div></div>"""
    item = extract_article(html, "https://report.az/en/energy/x/").item
    assert item["body"] == "The meeting was held in Baku. A memorandum was signed.\n\nBy SOCAR, today."


def test_a_field_read_source_by_source_has_one_reader_per_declared_source_tried_in_the_declared_order(monkeypatch):
    import dataclasses

    from newsbot import evidence
    from newsbot.items import BY_NAME

    assert evidence._READERS and all(set(readers) == set(BY_NAME[name].sources)
                                     for name, readers in evidence._READERS.items())
    page = evidence.Page(parse_html((FIXTURES / "en_seed_current.html").read_bytes()), "https://report.az/en/x")
    assert page.read("category") == ("Energy", "markup")
    # Declared the other way round, the meta tag answers first: the declaration is the order that runs.
    meta_first = dataclasses.replace(BY_NAME["category"], sources=("meta", "breadcrumb", "markup"))
    monkeypatch.setitem(evidence.BY_NAME, "category", meta_first)
    assert page.read("category") == ("Energy", "meta")  # its "Energy | Report.az", cut at the site name
