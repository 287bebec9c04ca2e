"""HTML, RSS and text rendering for the replica, following shared/site/REPORT_AZ.md.

Pages carry the same markup noise the real site does (entities, non-breaking
and zero-width spaces, decomposed letters, runs of whitespace); the noise is
exactly what newsbot.normalize.clean_text undoes, so the ground truth is the
clean text from content.py. Dates use this module's own month tables.
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import re
import unicodedata
from datetime import date, datetime, timedelta
from xml.sax.saxutils import escape as xml_escape

from tests.replica import furniture, renderings, texts
from tests.replica.content import LANG_POS, LANGS, PREFIX, EditionText, Layout, State, Story, make_slug

PER_PAGE = 20          # cards per feed batch
CATEGORY_PER_PAGE = 16  # cards a category page adds: /{category}/page/N shows pages 1..N (cumulative)
# How category pages are numbered (--category-pages): "cumulative", as the live site's are reported to
# be (page N shows every card of pages 1..N), or "paged" (page N shows only its own 16 cards).
CATEGORY_PAGES = ("cumulative", "paged")
# What a page past the last one answers (--category-past-end): "404"; "cap", the last page again
# (a cumulative page then shows every card, as a LIMIT 16·N query does), without a next link; or
# "empty", a 200 listing page without cards or a next link.
CATEGORY_PAST_END = ("404", "cap", "empty")
# What the pagination of a category page links (--category-pagination): "prev-next" only (as the
# sources show), or "numbered": also the first page, pages N-2..N+2 and the last one, as many sites
# do ("1 … 4 5 [6] 7 8 … 50").
CATEGORY_PAGINATION = ("prev-next", "numbered")
NEWS_SITEMAP_DAYS = 2   # the Google News sitemap lists the articles of the corpus' last 2 days
SITEMAP_INDEX_PATH = "/sitemap-posts-archive.xml"
NEWS_SITEMAP_PATH = "/news-sitemap.xml"
SHARD_DIR = "/sitemap-posts-archive/"  # + YYYY-MM-DD.xml: one shard per Baku publication day
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
IMAGE_NS = "http://www.google.com/schemas/sitemap-image/1.1"
NEWS_NAME = "Report.az"
HOME_CARDS = 12
SIDEBAR_CARDS = 20
RSS_ITEMS = 50
HEADLINE_MAX = 110     # JSON-LD headline length
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
# The furniture (tests/replica/furniture.py) gives pages the weight of real ones; the sidebar,
# nav and footer of an edition are the same on every page of one state, so they are built once
# per state generation.

_STYLE = (".index-post-block{min-height:120px;border-bottom:1px solid #ddd}"
          ".news-detail__desc p,.editor-body p{margin:0 0 1em}body{font-family:sans-serif}")


def _edition_categories(state: State, lang: str) -> tuple[tuple[str, str], ...]:
    corpus = state.corpus
    return tuple((corpus.segment(key, lang), esc(corpus.category_name(key, lang))) for key in corpus.categories_of(lang))


def _chrome(state: State, lang: str) -> dict[str, str]:
    key = ("chrome", state.generation, lang)
    found = state.snippets.get(key)
    if found is None:
        categories = _edition_categories(state, lang)
        cards_html = "\n".join(card(state, s, lang) for s in state.latest(lang, SIDEBAR_CARDS))
        found = state.snippets[key] = {
            "header": header(state, lang),
            "sidebar": (f'<aside class="latest-news"><h3>{esc(texts.LATEST_LABEL[lang])}</h3>\n{cards_html}\n'
                        f'<a href="{texts.LATEST_PATH[lang]}">{esc(texts.ALL_NEWS[lang])}</a></aside>'),
            "footer": furniture.footer(categories, lang),
            "categories": categories,
        }
    return found


def layout(state: State, lang: str, title: str, main: str, head: str = "", *, number: int = 0,
           kind: str = "page", meta_charset: str = '<meta charset="utf-8">') -> str:
    """A whole page around `main`: head scripts and styles, header, trending bar, the sidebar of
    latest cards beside the main column, footer. `number` varies the furniture per page."""
    chrome = _chrome(state, lang)
    config = furniture.config(chrome["categories"], lang, number, kind)
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n{meta_charset}\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n{head}<style>{_STYLE}</style>\n"
            f"{furniture.styles(number)}{furniture.head_scripts(lang, number, config)}</head>\n<body>\n"
            f"{furniture.sprite()}\n{chrome['header']}\n{trending(lang, number)}\n"
            f'<main class="container"><div class="row"><div class="col-lg-8">{furniture.ad_box(number, 0)}\n{main}\n'
            f"{furniture.ad_box(number, 1)}</div>\n{chrome['sidebar']}</div>\n</main>\n"
            f"{furniture.body_scripts(number)}{chrome['footer']}\n</body>\n</html>\n")


def header(state: State, lang: str) -> str:
    corpus = state.corpus
    links = [f'<a href="{texts.LATEST_PATH[lang]}">{esc(texts.LATEST_LABEL[lang])}</a>']
    for key in corpus.categories_of(lang):
        links.append(f'<a href="{PREFIX[lang]}{corpus.segment(key, lang)}">{esc(corpus.category_name(key, lang))}</a>')
    switcher = "".join(f'<a href="{PREFIX[other]}" hreflang="{other}">{other.upper()}</a>' for other in LANGS)
    return (f'<header class="header"><a class="logo" href="{PREFIX[lang]}">Report.az</a>\n'
            f'<form class="search" action="{PREFIX[lang]}search"><input type="search" name="query">'
            f'<button type="submit"><svg class="icon"><use href="#icon-search"></use></svg></button></form>\n'
            f'<nav class="header-menu">{"".join(links)}</nav>\n'
            f'<div class="lang-switcher">{switcher}</div></header>')


def trending(lang: str, number: int = 0) -> str:
    """The trending-tags bar at the top of every page: tag links that are no article's tags."""
    tags = texts.TRENDING[lang]
    start = number % len(tags)
    links = " ".join(f'<a href="{PREFIX[lang]}tag/{make_slug(t)}">{esc(t)}</a>' for t in tags[start:] + tags[:start])
    return (f'<div class="trending-tags"><span class="trending-tags__label">{esc(texts.TRENDING_LABEL[lang])}</span> '
            f"{links}</div>")


def href(state: State, story: Story, lang: str) -> str:
    """How the site links to an article, wherever the link stands: the page's one spelling (no trailing
    slash in the current design, the slash of the 2024 one), after any slug edit."""
    return state.path(story, lang)


def card(state: State, story: Story, lang: str) -> str:
    """The teaser shared by the feed, the infinity fragment, listings and the sidebar (the same markup
    everywhere, as on the live site: a sidebar card is a listing card)."""
    # Every page repeats the sidebar's cards: render each card once per revision.
    key = (story.index, lang, state.revision(story.index), state.is_renamed(story))
    cached = state.snippets.get(key)
    if cached is None:
        if len(state.snippets) > 50_000:
            state.snippets.clear()
        cached = state.snippets[key] = _render_card(state, story, lang)
    return cached


def _render_card(state: State, story: Story, lang: str) -> str:
    corpus = state.corpus
    text = state.text(story, lang)
    noise = noise_for(state, story, lang)
    title = noise(text.title)
    category = esc(corpus.category_name(story.category, lang))
    image = (f'<div class="news__img"><img src="{text.images[0].card_url}" alt="{attr(text.title)}"></div>'
             if text.images else "")
    inner = (f'{image}<h2 class="news__title ">{title}</h2><span class="news__category">{category}</span>'
             f'<ul class="news__date"><li>{date_text(story, lang)}</li><li>{time_text(story)}</li></ul>')
    return (f'<div class="col-md-3 index-post-block" data-timestamp="{data_timestamp(story)}">'
            f'<a href="{href(state, story, lang)}" class="news__item" target="_blank">{inner}</a></div>')


def cards(state: State, stories: list[Story], lang: str) -> str:
    return "\n".join(card(state, s, lang) for s in stories)


# --- pages -------------------------------------------------------------------------

def home(state: State, lang: str) -> str:
    latest = state.latest(lang, HOME_CARDS)
    main = (f'<section class="home-latest"><h2 class="section-title">{esc(texts.LATEST_LABEL[lang])}</h2>\n'
            f'{cards(state, latest, lang)}\n'
            f'<a class="all-news" href="{texts.LATEST_PATH[lang]}">{esc(texts.ALL_NEWS[lang])}</a></section>')
    return layout(state, lang, texts.SITE_TITLE[lang], main, number=furniture.digest(lang, "home"), kind="home")


_FEED_SCRIPT = """<script>
(function () {
  // Infinite scroll: fetch older cards from the endpoint the container's data-url names.
  var box = document.querySelector('.loadContainer');
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
    var url = box.getAttribute('data-url') + '?date=' + encodeURIComponent(lastStamp()) + '&oldest=1';
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


def feed(state: State, lang: str, js_only: bool, endpoint: str = "infinity/index") -> str:
    """The latest-news feed: the first batch in HTML, or none when the feed is script-only.
    `endpoint` is the infinity path under the edition's prefix, named in .loadContainer[data-url]."""
    first = "" if js_only else cards(state, state.latest(lang, PER_PAGE), lang)
    main = (f'<section class="news-feed"><h1 class="section-title">{esc(texts.LATEST_LABEL[lang])}</h1>\n'
            f'<div class="row loadContainer" data-url="{PREFIX[lang]}{endpoint}">\n{first}\n</div>\n'
            f"</section>\n{_FEED_SCRIPT % {'start': JS_FEED_START}}")
    return layout(state, lang, texts.LATEST_LABEL[lang], main, number=furniture.digest(lang, "feed"), kind="feed")


def fragment(state: State, lang: str, before: datetime | None) -> str:
    """The infinity endpoint: the next batch of cards older than `before`, or nothing."""
    return cards(state, state.latest(lang, PER_PAGE, before), lang)


def category(state: State, lang: str, key: str, page: int, numbering: str = "cumulative",
             past_end: str = "404", pagination: str = "prev-next") -> str | None:
    """A category listing page, or None for a 404. Cumulative by default, as the live site's are
    reported to be: page N shows every card of pages 1..N, CATEGORY_PER_PAGE a page; "paged": only
    its own cards. Past the last page: as `past_end` says (CATEGORY_PAST_END); the pagination links
    as `pagination` says (CATEGORY_PAGINATION)."""
    corpus = state.corpus
    last = max(1, -(-state.published_count(lang, key) // CATEGORY_PER_PAGE))
    if page > last and past_end == "404":
        return None
    if page > last and past_end == "empty":
        found, has_next = [], False
    else:
        shown = min(page, last)
        pick = state.cumulative_category_page if numbering == "cumulative" else state.category_page
        found, has_next = pick(lang, key, shown, CATEGORY_PER_PAGE)
    base = f"{PREFIX[lang]}{corpus.segment(key, lang)}"
    links = []
    if page > 1:
        links.append(f'<a rel="prev" class="prev" href="{base if page == 2 else f"{base}/page/{page - 1}"}">‹</a>')
    if pagination == "numbered":
        numbers = sorted({1, *range(max(1, page - 2), min(last, page + 2) + 1), last})
        links += [f'<a href="{base if n == 1 else f"{base}/page/{n}"}">{n}</a>' for n in numbers if n != page]
    if has_next:
        links.append(f'<a rel="next" class="next" href="{base}/page/{page + 1}">›</a>')
    name = corpus.category_name(key, lang)
    main = (f'<section class="news-list"><h1 class="section-title">{esc(name)}</h1>\n{cards(state, found, lang)}\n'
            f'<div class="pagination">{"".join(links)}</div></section>')
    return layout(state, lang, name, main, number=furniture.digest(lang, key, page), kind="category")


# --- sitemaps (sitemaps.org protocol; Google News and image extensions) ---------------

def w3c(moment: datetime) -> str:
    """W3C datetime in Baku time, as <lastmod> and news:publication_date carry it."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}+04:00"


def shard_path(state: State, day: date, numbered: bool = False) -> str:
    """A day shard's path: named by its date, or (numbered) by its day number from the corpus'
    first day, a name that tells a crawler nothing about the shard's dates."""
    if numbered:
        return f"{SHARD_DIR}{(day - state.corpus.stories[-1].local.date()).days + 1}.xml"
    return f"{SHARD_DIR}{day:%Y-%m-%d}.xml"


def shard_day(state: State, name: str, numbered: bool = False) -> date | None:
    """The day a shard file name (YYYY-MM-DD.xml, or N.xml when numbered) stands for, or None."""
    stem = name[:-len(".xml")] if name.endswith(".xml") else ""
    try:
        if numbered:
            return state.corpus.stories[-1].local.date() + timedelta(days=int(stem) - 1) if stem.isdigit() else None
        return datetime.strptime(stem, "%Y-%m-%d").date()
    except ValueError:
        return None


def _published_editions(state: State, stories) -> list[tuple[Story, str]]:
    return [(story, lang) for story in stories for lang in state.langs(story)]


def shard_days(state: State) -> dict[date, list[Story]]:
    """{Baku publication day: [published stories of that day, newest first]}, newest day first."""
    days: dict = {}
    for story in state.published_stories():
        if state.langs(story):
            days.setdefault(story.local.date(), []).append(story)
    return days


def sitemap_index(state: State, base_url: str, numbered: bool = False) -> str:
    """/sitemap-posts-archive.xml: one <sitemap> per day shard, its <lastmod> the newest
    publication or edit among the shard's pages."""
    entries = []
    for day, stories in shard_days(state).items():
        lastmod = max(state.lastmod(story) for story in stories)
        entries.append(f"<sitemap><loc>{xml_escape(base_url + shard_path(state, day, numbered))}</loc>"
                       f"<lastmod>{w3c(lastmod)}</lastmod></sitemap>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">\n'
            + "\n".join(entries) + "\n</sitemapindex>\n")


def sitemap_shard(state: State, day: date, base_url: str) -> str | None:
    """One day's shard: a <url> per published edition, <loc> in the page's one spelling; None for a
    day without published pages."""
    stories = shard_days(state).get(day)
    if not stories:
        return None
    urls = [f"<url><loc>{xml_escape(base_url + href(state, story, lang))}</loc>"
            f"<lastmod>{w3c(state.lastmod(story))}</lastmod></url>"
            for story, lang in _published_editions(state, stories)]
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n'
            + "\n".join(urls) + "\n</urlset>\n")


def news_sitemap(state: State, base_url: str) -> str:
    """/news-sitemap.xml: the published editions of the corpus' last NEWS_SITEMAP_DAYS days."""
    stories = state.published_stories()
    recent = []
    if stories:
        cutoff = stories[0].local - timedelta(days=NEWS_SITEMAP_DAYS)
        recent = [s for s in stories if s.local > cutoff]
    urls = []
    for story, lang in _published_editions(state, recent):
        text = state.text(story, lang)
        image = (f"<image:image><image:loc>{xml_escape(text.images[0].url)}</image:loc></image:image>"
                 if text.images else "")
        urls.append(f"<url><loc>{xml_escape(base_url + href(state, story, lang))}</loc>"
                    f"<news:news><news:publication><news:name>{NEWS_NAME}</news:name>"
                    f"<news:language>{lang}</news:language></news:publication>"
                    f"<news:publication_date>{w3c(story.local)}</news:publication_date>"
                    f"<news:title>{xml_escape(text.title)}</news:title></news:news>{image}</url>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}" '
            f'xmlns:image="{IMAGE_NS}">\n' + "\n".join(urls) + "\n</urlset>\n")


# --- article pages -------------------------------------------------------------------
# The layout of a page (content.Layout) picks one markup for each part whose real markup is
# unknown; the ground truth is what a browser shows, whichever markup carries it.

def legacy_date_text(story: Story, lang: str) -> str:
    """The 2024 design: "7 Fevral , 2024" (capital month, a space before the comma)."""
    local = story.local
    day = f"{local.day:02d}" if story.zero_pad else str(local.day)
    month = MONTHS[lang][local.month - 1]
    month = ("İ" + month[1:] if lang == "az" and month[0] == "i" else month[0].upper() + month[1:])
    return f"{day} {month} , {local.year}"


def headline(title: str) -> str:
    """JSON-LD headline: at most 110 characters (Google's guideline), cut with an ellipsis."""
    return title if len(title) <= HEADLINE_MAX else title[:HEADLINE_MAX - 1].rstrip() + "…"


def structured_date(story: Story, fmt: str) -> str:
    local = story.local
    if fmt == "utc":
        return f"{local - timedelta(hours=4):%Y-%m-%dT%H:%M:%S}Z"
    if fmt == "local":
        return f"{local:%Y-%m-%d %H:%M:%S}"
    return f"{local:%Y-%m-%dT%H:%M:%S}+04:00"


def to_mojibake(text: str) -> str:
    """UTF-8 bytes read as Windows-1252, as a browser trusting a wrong charset shows them."""
    import ftfy.bad_codecs  # noqa: F401  (registers sloppy-windows-1252: undefined bytes stay C1 controls)
    return text.encode("utf-8").decode("sloppy-windows-1252")


def mojibake_paragraph(text: EditionText, page_layout: Layout, index: int) -> int | None:
    """Which paragraph a mojibake page garbles: the first (from a story-chosen start) that ftfy repairs.

    Repairs means ftfy.fix_text and ftfy.fix_encoding both give the paragraph back, also after
    whitespace normalisation (clean_text) of the garbled text; other paragraphs are never garbled.
    """
    if not page_layout.mojibake:
        return None
    count = len(text.paragraphs)
    for k in range(count):
        n = (index + k) % count
        if repairable(text.paragraphs[n]):
            return n
    return None


def repairable(original: str) -> bool:
    import ftfy
    from newsbot.normalize import clean_text
    broken = to_mojibake(original)
    return (broken != original and ftfy.fix_text(broken) == original and ftfy.fix_encoding(broken) == original
            and ftfy.fix_encoding(clean_text(broken)) == original)


def _img(url: str, page_layout: Layout, alt: str) -> str:
    lazy, placeholder = page_layout.lazy, page_layout.placeholder
    alt = attr(alt)
    if lazy == "data-src":
        return f'<img class="lazyload" src="{placeholder}" data-src="{url}" alt="{alt}">'
    if lazy == "data-cfsrc":
        return (f'<img data-cfsrc="{url}" src="{placeholder}" alt="{alt}" style="display:none;visibility:hidden;">'
                f'<noscript><img src="{url}" alt="{alt}"></noscript>')
    if lazy == "srcset":
        return f'<img src="{placeholder}" srcset="{url} 850w" sizes="(max-width: 850px) 100vw, 850px" alt="{alt}">'
    return f'<img src="{url}" alt="{alt}">'


def captioned(img: str, caption: str, variant: str, noise: Noise) -> str:
    """A photo and its caption (none when the caption is empty) in one of the caption markups."""
    shown = noise(caption) if caption else ""
    if variant == "figcaption":
        return f'<figure class="photo">{img}' + (f"<figcaption>{shown}</figcaption>" if caption else "") + "</figure>"
    if variant == "div_span":
        return (f'<div class="photo-item">{img}'
                + (f'<span class="photo-item__caption">{shown}</span>' if caption else "") + "</div>")
    rows = f'<tr><td class="image-caption__text">{shown}</td></tr>' if caption else ""
    return f'<table class="image-caption"><tbody><tr><td>{img}</td></tr>{rows}</tbody></table>'


def tags_line(state: State, story: Story, lang: str, text: EditionText, page_layout: Layout, noise: Noise) -> str:
    style = page_layout.tag_href
    segment, slash = ("tags", "") if style == "tags" else ("tag", "/" if style == "tag/" else "")
    links = [f'<a href="{PREFIX[lang]}{segment}/{make_slug(t)}{slash}">{noise(t, pad=False)}</a>' for t in text.tags]
    if page_layout.tags == "links_div":
        return f'<div class="news-detail__tags">{" ".join(links)}</div>'
    if page_layout.tags == "list_ul":
        return '<ul class="tags-list">' + "".join(f"<li>{link}</li>" for link in links) + "</ul>"
    return (f'<p class="tags-line"><strong>{esc(texts.TAGS_LABEL[lang])}</strong> ' + ", ".join(links) + "</p>")


def edition_links(state: State, story: Story, lang: str, text: EditionText, page_layout: Layout,
                  photos: bool) -> str:
    """The story's other editions, each a link showing that edition's title (in LANGS order)."""
    others = [other for other in state.langs(story) if other != lang]
    if not others:
        return ""
    badge = texts.PHOTO_BADGE[lang]
    items = []
    for other in others:
        link = href(state, story, other)
        title = noise_for(state, story, other)(state.title(story, other))
        if page_layout.editions == "photo_cards":
            mark = f'<span class="news__badge">{badge}</span>' if photos else ""
            items.append(f'<a href="{link}" class="other-lang-news">{mark}<h3 class="other-lang-news__title">'
                         f"{title}</h3></a>")
        elif page_layout.editions == "label_list":
            items.append(f'<li><span class="article-langs__label">{esc(texts.EDITION_LABEL[other])}:</span> '
                         f'<a href="{link}" hreflang="{other}">{title}</a></li>')
        else:
            # A story without photos (or the no_images variant) shows no picture here either.
            picture = (f'<img src="{text.images[0].card_url}" alt="{attr(state.title(story, other))}">'
                       f'<span class="photo-badge">{badge}</span>' if photos else "")
            items.append(f'<a class="lang-version" href="{link}">{picture}'
                         f'<span class="lang-version__title">{title}</span></a>')
    if page_layout.editions == "label_list":
        return '<ul class="article-langs">' + "".join(items) + "</ul>"
    cls = "news-detail__other-langs" if page_layout.editions == "photo_cards" else "lang-versions"
    return f'<div class="{cls}">' + "".join(items) + "</div>"


def embed(kind: str, state: State, story: Story, lang: str) -> str:
    values = state.corpus.slots(story).values(lang)
    code = hashlib.sha1(f"{state.corpus.seed}:{story.index}:{kind}".encode()).hexdigest()
    if kind == "youtube":
        return (f'<p><iframe width="560" height="315" src="https://www.youtube.com/embed/{code[:11]}" '
                f'title="YouTube video player" frameborder="0" allowfullscreen></iframe></p>')
    if kind == "script":
        return ('<script>window.adsbygoogle = window.adsbygoogle || []; '
                "(adsbygoogle).push({slot: 'report-inline'}); document.write('<p>Reklam</p>');</script>")
    if kind == "noscript":
        return (f'<noscript>{esc(texts.NOSCRIPT[lang])}</noscript>'
                f'<noscript><img src="https://mc.yandex.ru/watch/{int(code[:6], 16)}" alt=""></noscript>')
    if kind == "style":
        return "<style>.news-detail__desc iframe, .editor-body iframe {max-width: 100%; border: 0}</style>"
    tweet = texts.TWEETS[int(code[:2], 16) % len(texts.TWEETS)][LANG_POS[lang]].format_map(values)
    handle = "".join(ch for ch in values["P"] if ch.isascii() and ch.isalpha()) or "report_az"
    return (f'<blockquote class="twitter-tweet"><p lang="{lang}" dir="ltr">{esc(tweet)}</p>&mdash; '
            f'{esc(values["P"])} (@{handle}) <a href="https://twitter.com/{handle}/status/{int(code[:15], 16)}">'
            f"{date_text(story, 'en')}</a></blockquote>"
            '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>')


def _json_ld(data: dict) -> str:
    body = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'<script type="application/ld+json">{body}</script>\n'


def related_stories(state: State, story: Story, lang: str) -> list[tuple[str, str, str]]:
    """(href, title, thumbnail) of the older stories a page's related block links (the next ones in
    the corpus with this edition), as many as its layout draws; none without a related block."""
    page_layout = state.corpus.layout(story.index, lang)
    if page_layout.related is None:
        return []
    found = []
    for other in state.corpus.stories[story.index + 1:story.index + 12]:
        if state.has_edition(other, lang) and len(found) < page_layout.related_count:
            images = state.text(other, lang).images
            thumb = images[0].card_url if images else renderings.SHARE_IMAGE
            found.append((href(state, other, lang), state.title(other, lang), thumb))
    return found


def related_blocks(state: State, story: Story, lang: str) -> list[str]:
    """The HTML blocks of a page's related-stories block, in its layout's rendering."""
    links = related_stories(state, story, lang)
    if not links:
        return []
    page_layout = state.corpus.layout(story.index, lang)
    labels = renderings.RELATED_LABELS[lang]
    label = labels[int(page_layout.related_at * 1000) % len(labels)]
    return renderings.RELATED[page_layout.related](label, links, lang)


def linked_paragraph(text: EditionText, page_layout: Layout, garbled: int | None) -> int | None:
    """Which paragraph of reporting carries a link in its text (never the lead, nor a garbled one)."""
    if page_layout.reporting_link is None or len(text.paragraphs) < 2:
        return None
    n = 1 + int(page_layout.related_at * 7) % (len(text.paragraphs) - 1)
    return None if n == garbled else n


def reporting_link(state: State, story: Story, lang: str, paragraph: str) -> str:
    """A paragraph whose middle words link something (a channel, a document, another story); the
    words stay the paragraph's."""
    words = paragraph.split(" ")
    first, last = len(words) // 3, max(len(words) // 3 + 1, 2 * len(words) // 3)
    before, linked, after = " ".join(words[:first]), " ".join(words[first:last]), " ".join(words[last:])
    other = state.corpus.stories[(story.index + 1) % len(state.corpus.stories)]
    article_href = href(state, other, lang) if state.has_edition(other, lang) else href(state, story, lang)
    render = renderings.LINKS[state.corpus.layout(story.index, lang).reporting_link]
    return render(esc(before + " " if before else ""), esc(linked), esc(" " + after if after else ""),
                  article_href, lang)


def describe_layout(state: State, story: Story, lang: str) -> dict:
    """What /_replica/layouts says about one page."""
    text = state.text(story, lang)
    page_layout = state.corpus.layout(story.index, lang)
    plan = state.corpus.plan(story.index)
    kinds = {"": "empty", **{v: k for k, v in texts.FURNITURE[lang].items()}}
    return {**page_layout.describe(),
            "related_blocks": [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in related_blocks(state, story, lang)],
            "mojibake": mojibake_paragraph(text, page_layout, story.index) is not None,
            "opener": plan.opener is not None, "channel": plan.channel is not None,
            "furniture": [kinds[f] for _, f in text.boilerplate], "images": len(text.images),
            "og_image": page_layout.og_image and bool(text.images)}


def article(state: State, story: Story, lang: str, base_url: str = "", *, no_body: bool = False,
            no_date: bool = False, no_title: bool = False, no_translations: bool = False, no_tags: bool = False,
            no_images: bool = False) -> str:
    """An article page in its layout; the no_* flags are the fault variants (faults.ARTICLE_VARIANTS)."""
    corpus = state.corpus
    text = state.text(story, lang)
    page_layout = corpus.layout(story.index, lang)
    noise = noise_for(state, story, lang)
    segment = corpus.segment(story.category, lang)
    name = corpus.category_name(story.category, lang)
    current = page_layout.version == "current"
    photos = bool(text.images) and not no_images
    title_html = noise(text.title)
    alt_title = text.title

    defaults = renderings.DEFAULT_IMAGES[page_layout.default_image]
    # The main photo: the first image (or, on a page without photos, the site's default image).
    main_photo = ""
    if not photos and defaults.markup:
        img = f'<img src="{defaults.markup}" alt="{attr(alt_title)}">'
        main_photo = (f'<div class="news-detail__main-photo">{img}</div>' if current
                      else f'<div class="news-cover"><div class="image">{img}</div></div>')
    if photos:
        image = text.images[0]
        img = _img(image.url, page_layout, alt_title)
        if not current:
            img = f'<div class="image">{img}</div>'
        main_photo = captioned(img, image.caption, page_layout.captions, noise)
        main_photo = (f'<div class="news-detail__main-photo">{main_photo}</div>' if current
                      else f'<div class="news-cover">{main_photo}</div>')

    # The body block: paragraphs with figures, embeds and furniture between them.
    body_html = ""
    if not no_body:
        person = corpus.slots(story).values(lang)["P"]
        garbled = mojibake_paragraph(text, page_layout, story.index)
        count = len(text.paragraphs)
        linked = linked_paragraph(text, page_layout, garbled)
        before: dict[int, list[str]] = {}
        gallery = renderings.GALLERIES[page_layout.gallery]
        rest = text.images[1:] if photos else ()
        if gallery is not None and rest:
            before.setdefault(text.figure_at[0], []).append(
                gallery([(_img(image.url, page_layout, ""), noise(image.caption)) for image in rest]))
        else:
            for n, image in enumerate(rest):
                img = _img(image.url, page_layout, "")
                before.setdefault(text.figure_at[n], []).append(
                    captioned(img, image.caption, page_layout.captions, noise))
        related = related_blocks(state, story, lang)
        if related:
            before.setdefault(1 + int(page_layout.related_at * (count - 1)), []).extend(related)
        for kind, where in page_layout.embeds:
            before.setdefault(1 + int(where * (count - 1)), []).append(embed(kind, state, story, lang))
        for where, phrasing in text.boilerplate:
            before.setdefault(min(where, count), []).append(
                f"<p>{noise(phrasing)}</p>" if phrasing else "<p>&nbsp;</p>")
        blocks = []
        for n in range(count + 1):
            blocks += before.get(n, ())
            if n < count:
                paragraph = text.paragraphs[n]
                if n == garbled:
                    blocks.append(f"<p>{esc(to_mojibake(paragraph))}</p>")
                elif n == linked:
                    blocks.append(f"<p>{reporting_link(state, story, lang, paragraph)}</p>")
                else:
                    blocks.append(f"<p>{inline_markup(paragraph, person, lang, noise)}</p>")
        cls = "news-detail__desc" if current else "editor-body"
        body_html = f'<div class="{cls}">\n' + "\n".join(blocks) + "\n</div>"

    show_date = not no_date and not page_layout.hidden_date
    parts = []
    if current:
        parts.append('<div class="news-detail">')
        if not no_title:
            parts.append(f'<h1 class="section-title">{title_html}</h1>')
        tag = page_layout.category_tag
        category_html = (f'<a class="news__category" href="{PREFIX[lang]}{segment}">{esc(name)}</a>' if tag == "a"
                         else f'<span class="news__category">{esc(name)}</span>')
        date_html = (f'<ul class="news__date"><li>{noise(date_text(story, lang))}</li><li>{time_text(story)}</li></ul>'
                     if show_date else "")
        parts.append(f'<div class="news-detail__head">{category_html}{date_html}</div>')
        short = f"report.az/{page_layout.site_id}"
        data_url = short if page_layout.copy_url == "bare" else f"https://{short}"
        parts.append(f'<div class="copy-url" data-url="{data_url}"><span>{esc(texts.COPY_LINK[lang])}</span></div>')
    else:
        parts.append('<article class="news-page">')
        if not no_title:
            parts.append(f'<h1 class="news-title">{title_html}</h1>')
        if show_date:
            parts.append(f'<div class="news-date"><span>{noise(legacy_date_text(story, lang))}</span>'
                         f"<span>{time_text(story)}</span></div>")
    if main_photo:
        parts.append(main_photo)
    if body_html:
        parts.append(body_html)
    if not no_tags and text.tags:
        parts.append(tags_line(state, story, lang, text, page_layout, noise))
    if not no_translations:
        links = edition_links(state, story, lang, text, page_layout, photos)
        if links:
            parts.append(links)
    parts.append("</div>" if current else "</article>")

    main = "\n".join(parts)

    # The head: OpenGraph, article:*, canonical and JSON-LD, as the page's layout has them.
    page_url = base_url + href(state, story, lang)
    head = [] if no_title else [f'<meta property="og:title" content="{attr(text.title)}">']
    head.append('<meta property="og:type" content="article">')
    if photos and page_layout.og_image:
        shown = defaults.og if defaults.og_over_photo else text.images[0].url
        head.append(f'<meta property="og:image" content="{shown}">')
    elif not photos and defaults.og:
        head.append(f'<meta property="og:image" content="{defaults.og}">')
    if page_layout.meta_published and not no_date:
        fmt = page_layout.date_format if page_layout.date_format != "local" else "offset"
        head.append(f'<meta property="article:published_time" content="{structured_date(story, fmt)}">')
    if page_layout.meta_section:
        head.append(f'<meta property="article:section" content="{attr(name)} | Report.az">')
    if page_layout.canonical:
        head.append(f'<link rel="canonical" href="{attr(page_url)}">')
    if page_layout.jsonld:
        news: dict = {"@context": "https://schema.org", "@type": "NewsArticle"}
        if not no_title:
            news["headline"] = headline(text.title)
        if not no_date:
            news["datePublished"] = structured_date(story, page_layout.date_format)
        if not no_body:
            news["description"] = text.lead
            news["articleBody"] = " ".join(text.paragraphs)
        if photos:
            news["image"] = ([image.url for image in text.images] if page_layout.jsonld_form == "graph"
                             else {"@type": "ImageObject", "url": text.images[0].url})
        elif defaults.json_ld:
            news["image"] = {"@type": "ImageObject", "url": defaults.json_ld}
        news["inLanguage"] = lang
        news["mainEntityOfPage"] = {"@type": "WebPage", "@id": page_url}
        news["publisher"] = {"@type": "Organization", "name": "Report.az"}
        crumbs = [{"@type": "ListItem", "position": 1, "name": texts.HOME_LABEL[lang], "item": base_url + PREFIX[lang]},
                  {"@type": "ListItem", "position": 2, "name": name, "item": f"{base_url}{PREFIX[lang]}{segment}"}]
        if not no_title:
            crumbs.append({"@type": "ListItem", "position": 3, "name": text.title})
        trail = {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": crumbs}
        if page_layout.jsonld_form == "graph":
            del news["@context"], trail["@context"]
            head.append(_json_ld({"@context": "https://schema.org", "@graph": [news, trail]}).rstrip("\n"))
        else:
            head += [_json_ld(news).rstrip("\n"), _json_ld(trail).rstrip("\n")]
    if page_layout.head_order:
        random.Random(page_layout.head_order).shuffle(head)
    number = furniture.digest(corpus.seed, story.index, lang, state.revision(story.index))
    return layout(state, lang, "Report.az" if no_title else f"{text.title} | Report.az", main,
                  "".join(line + "\n" for line in head), number=number, kind="article",
                  meta_charset=renderings.ALL_CHARSETS[page_layout.charset].meta)


def size_summary(sizes: list[int]) -> dict:
    """How heavy pages are (/_replica/sizes, the bench): count, median, p10, p90, min, max and mean of a list of byte counts (nearest-rank quantiles)."""
    if not sizes:
        return {"count": 0}
    ordered = sorted(sizes)

    def rank(q: float) -> int:
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]

    return {"count": len(ordered), "median": rank(0.5), "p10": rank(0.1), "p90": rank(0.9), "min": ordered[0],
            "max": ordered[-1], "mean": round(sum(ordered) / len(ordered))}


def rss(state: State, lang: str, base_url: str) -> str:
    corpus = state.corpus
    items = []
    for story in state.latest(lang, RSS_ITEMS):
        text = state.text(story, lang)
        link = base_url + href(state, story, lang)
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
