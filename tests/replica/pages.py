"""HTML, RSS and text rendering for the replica, following shared/site/REPORT_AZ.md.

Pages carry the same markup noise the real site does (entities, non-breaking
and zero-width spaces, decomposed letters, runs of whitespace); the noise is
exactly what newsbot.normalize.clean_text undoes, so the ground truth is the
clean text from content.py. Dates use this module's own month tables.
"""

from __future__ import annotations

import html
import random
import unicodedata
from datetime import datetime
from xml.sax.saxutils import escape as xml_escape

from tests.replica import texts
from tests.replica.content import LANGS, PREFIX, State, Story, make_slug

PER_PAGE = 20          # cards per feed batch and per category page
HOME_CARDS = 12
SIDEBAR_CARDS = 10
RSS_ITEMS = 50
JS_FEED_START = "2026-01-29 00:00:00"  # later than any story: the first batch of a script-only feed

MONTHS = {
    "az": "yanvar fevral mart aprel may iyun iyul avqust sentyabr oktyabr noyabr dekabr".split(),
    "en": "January February March April May June July August September October November December".split(),
    "ru": "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split(),
}
RFC822_DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()
RFC822_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


# --- text and noise ----------------------------------------------------------------

_ENTITIES = {"“": ("&#8220;", "&ldquo;"), "”": ("&#8221;", "&rdquo;"), "«": ("&laquo;", "&#171;"),
             "»": ("&raquo;", "&#187;"), "—": ("&mdash;", "&#8212;"), "–": ("&ndash;", "&#8211;"),
             '"': ("&quot;", "&#34;"), "'": ("&#39;", "&apos;"), "%": ("&#37;", "%")}
_SPACE_NOISE = ("&nbsp;", "\u00a0", " \n    ", "&#160;", "\t ")
_INVISIBLE = ("\u200b", "&#8203;", "&shy;", "\u00ad", "\u2060", "&#x200B;", "\u200c", "\ufeff")


def esc(text: str) -> str:
    """Plain escaping for text nodes (no noise)."""
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


class Noise:
    """Markup noise for one edition of one story, the same on every request."""

    def __init__(self, key: str, enabled: bool) -> None:
        self.rng = random.Random(key)
        self.enabled = enabled

    def __call__(self, text: str, pad: bool = True) -> str:
        """`text` as HTML text content; clean_text() of what a parser reads gives `text` back.

        pad=False for a piece of a text node that touches other inline content: whitespace
        added at its edges would change the text.
        """
        if not self.enabled or not text:
            return esc(text)
        rng = self.rng
        if rng.random() < 0.3:
            # Decomposed letters (ö as o + U+0308, İ as I + U+0307, й as и + U+0306); NFC restores them.
            text = unicodedata.normalize("NFD", text)
        invisible_at = {rng.randrange(len(text)) for _ in range(rng.randint(0, 3))}
        out = ["\n  " if pad and rng.random() < 0.3 else ""]
        previous = ""
        for k, ch in enumerate(text):
            if k in invisible_at and previous.isalpha() and ch.isalpha():
                out.append(rng.choice(_INVISIBLE))  # inside a word
            if ch == " ":
                out.append(rng.choice(_SPACE_NOISE) if rng.random() < 0.12 else " ")
            elif ch == "&":
                out.append("&amp;")
            elif ch == "<":
                out.append("&lt;")
            elif ch == ">":
                out.append("&gt;")
            elif ch in _ENTITIES and rng.random() < 0.6:
                out.append(rng.choice(_ENTITIES[ch]))
            else:
                out.append(ch)
            previous = ch
        out.append("  \n" if pad and rng.random() < 0.3 else "")
        return "".join(out)


def inline_markup(paragraph: str, name: str, lang: str, noise: Noise) -> str:
    """A paragraph with the person it names in <strong> or a tag link, as the site's editors do.

    The markup touches the neighbouring text ("<a>Name</a>, said"): the clean text is
    what a browser shows, with no space added at the tags.
    """
    at = paragraph.find(name)
    if at < 0 or noise.rng.random() < 0.5:
        return noise(paragraph)
    before, after = paragraph[:at], paragraph[at + len(name):]
    tag = (("<strong>", "</strong>") if noise.rng.random() < 0.5
           else (f'<a href="{PREFIX[lang]}tag/{make_slug(name)}/">', "</a>"))
    return (f"{noise(before, pad=False) if before else ''}{tag[0]}{noise(name, pad=False)}{tag[1]}"
            f"{noise(after, pad=False) if after else ''}")


def noise_for(state: State, story: Story, lang: str) -> Noise:
    key = f"replica:{state.corpus.seed}:{story.index}:{lang}:{state.revision(story.index)}:noise"
    return Noise(key, story.noisy)


# --- dates -----------------------------------------------------------------------

def date_text(story: Story, lang: str) -> str:
    """"28 January, 2026" / "28 yanvar, 2026" / "28 января, 2026"; some stories show "01 dekabr"."""
    local = story.local
    day = f"{local.day:02d}" if story.zero_pad else str(local.day)
    return f"{day} {MONTHS[lang][local.month - 1]}, {local.year}"


def time_text(story: Story) -> str:
    return f"{story.local:%H:%M}"


def data_timestamp(story: Story) -> str:
    return f"{story.local:%Y-%m-%d %H:%M:%S}"


def rfc822(moment: datetime) -> str:
    return (f"{RFC822_DAYS[moment.weekday()]}, {moment.day:02d} {RFC822_MONTHS[moment.month - 1]} "
            f"{moment.year} {moment:%H:%M:%S} +0400")


# --- page chrome --------------------------------------------------------------

_STYLE = (".index-post-block{min-height:120px;border-bottom:1px solid #ddd}"
          ".news-detail__desc p{margin:0 0 1em}body{font-family:sans-serif}")


def layout(state: State, lang: str, title: str, main: str, head: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n{head}<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"{header(state, lang)}\n<main class=\"container\">\n{main}\n</main>\n"
            f'<footer class="footer"><p>© 2026 Report.az</p></footer>\n</body>\n</html>\n')


def header(state: State, lang: str) -> str:
    corpus = state.corpus
    links = [f'<a href="{texts.LATEST_PATH[lang]}">{esc(texts.LATEST_LABEL[lang])}</a>']
    for key in corpus.categories:
        links.append(f'<a href="{PREFIX[lang]}{corpus.segment(key, lang)}/">{esc(corpus.category_name(key, lang))}</a>')
    switcher = "".join(f'<a href="{PREFIX[other]}" hreflang="{other}">{other.upper()}</a>' for other in LANGS)
    return (f'<header class="header"><a class="logo" href="{PREFIX[lang]}">Report.az</a>\n'
            f'<nav class="header-menu">{"".join(links)}</nav>\n'
            f'<div class="lang-switcher">{switcher}</div></header>')


def href(state: State, story: Story, lang: str) -> str:
    path = state.corpus.path(story, lang)
    return path.rstrip("/") if story.noslash else path


def card(state: State, story: Story, lang: str, sidebar: bool = False) -> str:
    """The teaser shared by the feed, the infinity fragment, listings and the sidebar."""
    # Every article page repeats the sidebar's cards: render each card once per revision.
    key = (story.index, lang, state.revision(story.index), sidebar)
    cached = state.snippets.get(key)
    if cached is None:
        if len(state.snippets) > 50_000:
            state.snippets.clear()
        cached = state.snippets[key] = _render_card(state, story, lang, sidebar)
    return cached


def _render_card(state: State, story: Story, lang: str, sidebar: bool) -> str:
    corpus = state.corpus
    text = state.text(story, lang)
    noise = noise_for(state, story, lang)
    title = noise(text.title)
    category = esc(corpus.category_name(story.category, lang))
    if sidebar:
        badge = f'<span class="news__badge">{texts.PHOTO_BADGE[lang]}</span>' if text.images else ""
        inner = (f'<ul class="news__date"><li>{time_text(story)}</li></ul>{badge}'
                 f'<h2 class="news__title">{title}</h2><span class="news__category">{category}</span>')
    else:
        image = (f'<div class="news__img"><img src="{text.images[0].path}" alt=""></div>' if text.images else "")
        inner = (f'{image}<h2 class="news__title">{title}</h2><span class="news__category">{category}</span>'
                 f'<ul class="news__date"><li>{date_text(story, lang)}</li><li>{time_text(story)}</li></ul>')
    return (f'<div class="index-post-block" data-timestamp="{data_timestamp(story)}">'
            f'<a class="news__item" href="{href(state, story, lang)}">{inner}</a></div>')


def cards(state: State, stories: list[Story], lang: str) -> str:
    return "\n".join(card(state, s, lang) for s in stories)


# --- pages -------------------------------------------------------------------------

def home(state: State, lang: str) -> str:
    latest = state.latest(lang, HOME_CARDS)
    main = (f'<section class="home-latest"><h2 class="section-title">{esc(texts.LATEST_LABEL[lang])}</h2>\n'
            f'{cards(state, latest, lang)}\n'
            f'<a class="all-news" href="{texts.LATEST_PATH[lang]}">{esc(texts.ALL_NEWS[lang])}</a></section>')
    return layout(state, lang, texts.SITE_TITLE[lang], main)


_FEED_SCRIPT = """<script>
(function () {
  // Infinite scroll: fetch older cards from the endpoint in data-infinity.
  var box = document.querySelector('.infinity-container');
  var busy = false, done = false;
  function lastStamp() {
    var all = box.querySelectorAll('.index-post-block');
    return all.length ? all[all.length - 1].getAttribute('data-timestamp') : '%(start)s';
  }
  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 400;
  }
  function load() {
    if (busy || done) return;
    busy = true;
    var url = box.getAttribute('data-infinity') + '?date=' + encodeURIComponent(lastStamp()) + '&oldest=1';
    fetch(url, {credentials: 'same-origin'})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (fragment) {
        busy = false;
        if (!fragment.trim()) { done = true; return; }
        box.insertAdjacentHTML('beforeend', fragment);
        if (nearBottom()) load();  // the page is not tall enough to scroll yet
      })
      .catch(function () { busy = false; });
  }
  window.addEventListener('scroll', function () { if (nearBottom()) load(); });
  if (!box.querySelector('.index-post-block')) load();
})();
</script>"""


def feed(state: State, lang: str, js_only: bool) -> str:
    """The latest-news feed: the first batch in HTML, or none when the feed is script-only."""
    first = "" if js_only else cards(state, state.latest(lang, PER_PAGE), lang)
    main = (f'<section class="news-feed"><h1 class="section-title">{esc(texts.LATEST_LABEL[lang])}</h1>\n'
            f'<div class="infinity-container" data-infinity="{PREFIX[lang]}infinity/index">\n{first}\n</div>\n'
            f"</section>\n{_FEED_SCRIPT % {'start': JS_FEED_START}}")
    return layout(state, lang, texts.LATEST_LABEL[lang], main)


def fragment(state: State, lang: str, before: datetime | None) -> str:
    """The infinity endpoint: the next batch of cards older than `before`, or nothing."""
    return cards(state, state.latest(lang, PER_PAGE, before), lang)


def category(state: State, lang: str, key: str, page: int) -> str | None:
    """A category listing page, or None past the last page."""
    corpus = state.corpus
    found, has_next = state.category_page(lang, key, page, PER_PAGE)
    if page > 1 and not found:
        return None
    base = f"{PREFIX[lang]}{corpus.segment(key, lang)}/"
    links = []
    if page > 1:
        links.append(f'<a rel="prev" class="prev" href="{base if page == 2 else f"{base}page/{page - 1}"}">‹</a>')
    if has_next:
        links.append(f'<a rel="next" class="next" href="{base}page/{page + 1}">›</a>')
    name = corpus.category_name(key, lang)
    main = (f'<section class="news-list"><h1 class="section-title">{esc(name)}</h1>\n{cards(state, found, lang)}\n'
            f'<div class="pagination">{"".join(links)}</div></section>')
    return layout(state, lang, name, main)


def article(state: State, story: Story, lang: str, *, no_body: bool = False, no_date: bool = False,
            no_title: bool = False) -> str:
    corpus = state.corpus
    text = state.text(story, lang)
    noise = noise_for(state, story, lang)
    segment = corpus.segment(story.category, lang)
    name = corpus.category_name(story.category, lang)

    parts = [f'<div class="news-detail">\n<div class="news-detail__head">'
             f'<a class="news__category" href="{PREFIX[lang]}{segment}/">{esc(name)}</a>']
    if not no_date:
        parts.append(f'<ul class="news__date"><li>{noise(date_text(story, lang))}</li><li>{time_text(story)}</li></ul>')
    parts.append("</div>")
    if not no_title:
        parts.append(f'<h1 class="section-title">{noise(text.title)}</h1>')
    if not no_body:
        person = corpus.slots(story).values(lang)["P"]
        paragraphs = [f"<p>{inline_markup(p, person, lang, noise)}</p>" for p in text.paragraphs]
        # Furniture goes in from the back so earlier positions stay valid.
        for where, furniture in sorted(text.boilerplate, key=lambda b: -b[0]):
            paragraphs.insert(where, f"<p>{noise(furniture)}</p>" if furniture else "<p>&nbsp;</p>")
        parts.append('<div class="news-detail__desc">\n' + "\n".join(paragraphs) + "\n</div>")
    tags = "".join(f'<a href="{PREFIX[lang]}tag/{make_slug(t)}/">{noise(t)}</a>' for t in text.tags)
    parts.append(f'<div class="news-detail__tags">{tags}</div>')
    if text.images:
        figures = "".join(
            f'<figure><img src="{image.path}" alt="{attr(image.caption)}">'
            f'<figcaption>{noise(image.caption)}</figcaption></figure>' for image in text.images)
        parts.append(f'<div class="news-detail__photos">{figures}</div>')
    others = [other for other in story.langs if other != lang]
    if others:
        badge = f'<span class="news__badge">{texts.PHOTO_BADGE[lang]}</span>' if text.images else ""
        links = "".join(
            f'<a class="news__item" href="{href(state, story, other)}">{badge}'
            f'<h2 class="news__title">{noise_for(state, story, other)(state.title(story, other))}</h2></a>'
            for other in others)
        parts.append(f'<div class="news-detail__other-langs">{links}</div>')
    parts.append("</div>")

    sidebar = "\n".join(card(state, s, lang, sidebar=True) for s in state.latest(lang, SIDEBAR_CARDS))
    main = ("\n".join(parts) + f'\n<aside class="latest-news"><h3>{esc(texts.LATEST_LABEL[lang])}</h3>\n{sidebar}\n'
            f'<a href="{texts.LATEST_PATH[lang]}">{esc(texts.ALL_NEWS[lang])}</a></aside>')
    head = (f'<meta property="og:title" content="{attr(text.title)}">\n<meta property="og:type" content="article">\n'
            f'<meta property="article:section" content="{attr(name)}">\n')
    return layout(state, lang, f"{text.title} | Report.az", main, head)


def rss(state: State, lang: str, base_url: str) -> str:
    corpus = state.corpus
    items = []
    for story in state.latest(lang, RSS_ITEMS):
        text = state.text(story, lang)
        link = base_url + corpus.path(story, lang)
        items.append(
            f"<item><title>{xml_escape(text.title)}</title><link>{xml_escape(link)}</link>"
            f'<guid isPermaLink="true">{xml_escape(link)}</guid><pubDate>{rfc822(story.local)}</pubDate>'
            f"<category>{xml_escape(corpus.category_name(story.category, lang))}</category>"
            f"<description>{xml_escape(text.lead)}</description></item>")
    newest = state.latest(lang, 1)
    built = rfc822(newest[0].local) if newest else rfc822(datetime(2026, 1, 28))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>{xml_escape(texts.SITE_TITLE[lang])}</title><link>{xml_escape(base_url + PREFIX[lang])}</link>"
            f"<description>{xml_escape(texts.SITE_TITLE[lang])}</description><language>{lang}</language>"
            f"<lastBuildDate>{built}</lastBuildDate>\n" + "\n".join(items) + "\n</channel></rss>\n")


ROBOTS = "User-agent: *\nDisallow: /search/\nDisallow: /_replica/\n"


def not_found(lang: str = "az") -> str:
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>404</title></head>'
            f'<body><h1>404 — {esc(texts.NOT_FOUND[lang])}</h1><a href="{PREFIX[lang]}">Report.az</a></body></html>\n')


def error_page(status: int) -> str:
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{status}</title></head>'
            f"<body><h1>{status}</h1><p>The server could not handle the request.</p></body></html>\n")
