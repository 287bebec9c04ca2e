"""The weight of a real page around its content: menus, sidebars, inline scripts and styles, footers.

A real report.az article page weighs ~100 KB of HTML, most of it not the article: a navigation
menu of every category, a trending bar, a sidebar of latest cards, analytics and ad loaders, a JSON
config blob, inline CSS and an SVG sprite, a footer of link lists. Parse cost grows with page weight
and Scrapy's cost per response does not, so pages without it flatter the crawler (issue 15).

Every piece is built once per edition (or once per process) and varied per page by a digest (a
rotation of the CSS and script pools, the ad slots, the config's page values), so pages are not
byte-identical templates while rendering stays a handful of joins: the replica must stay fast to
serve. None of it is content: the ground truth does not change.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random

from tests.replica import texts
from tests.replica.content import LANGS, PREFIX

CSS_RULES = 900        # the pool of inline CSS rules; a page shows a rotation of CSS_SHOWN of them
CSS_SHOWN = 440
JS_FUNCTIONS = 260     # the pool of "vendor" script functions; a page shows JS_SHOWN of them
JS_SHOWN = 170
AD_SLOTS = 6

_SELECTOR_WORDS = ("header", "menu", "nav", "news", "card", "title", "date", "photo", "footer", "social", "tag",
                   "trend", "sidebar", "banner", "ads", "logo", "search", "lang", "share", "video", "gallery",
                   "modal", "btn", "icon", "container", "row", "col", "grid", "list", "item", "link", "wrap")
_PROPERTIES = ("display:flex", "display:block", "display:none", "position:relative", "position:absolute",
               "margin:0 auto", "padding:{a}px {b}px", "font-size:{a}px", "line-height:{c}", "color:#{h}",
               "background:#{h}", "border-bottom:1px solid #{h}", "width:{p}%", "max-width:{w}px",
               "min-height:{w}px", "z-index:{a}", "opacity:.{a}", "transition:all .{a}s ease",
               "text-transform:uppercase", "font-weight:{f}", "overflow:hidden", "gap:{a}px",
               "align-items:center", "justify-content:space-between", "border-radius:{a}px")
_JS_WORDS = ("init", "load", "slot", "track", "lazy", "observe", "render", "bind", "queue", "push", "flush",
             "measure", "viewport", "consent", "banner", "refresh", "event", "scroll", "resize", "debounce")


def _rng(*key: object) -> random.Random:
    return random.Random(":".join(map(str, ("furniture", *key))))


def digest(*key: object) -> int:
    """A page's variation number: the same for the same page on every request."""
    return int.from_bytes(hashlib.sha1(":".join(map(str, key)).encode()).digest()[:8], "big")


def _fill(template: str, rng: random.Random) -> str:
    return template.format(a=rng.randint(1, 40), b=rng.randint(1, 40), c=round(rng.uniform(1, 2), 2),
                           h=f"{rng.randrange(16 ** 6):06x}", p=rng.choice((25, 33, 50, 66, 75, 100)),
                           w=rng.randint(100, 1400), f=rng.choice((400, 500, 600, 700)))


@functools.cache
def _css_pool() -> tuple[str, ...]:
    rng = _rng("css")
    rules = []
    for n in range(CSS_RULES):
        selector = ".".join(rng.sample(_SELECTOR_WORDS, 2))
        props = ";".join(_fill(rng.choice(_PROPERTIES), rng) for _ in range(rng.randint(2, 6)))
        media = n % 9 == 0
        rule = f".{selector.replace('.', '__', 1)}{{{props}}}"
        rules.append(f"@media (max-width:{rng.choice((576, 768, 992, 1200))}px){{{rule}}}" if media else rule)
    return tuple(rules)


@functools.cache
def _js_pool() -> tuple[str, ...]:
    rng = _rng("js")
    functions = []
    for n in range(JS_FUNCTIONS):
        name = f"{rng.choice(_JS_WORDS)}{rng.choice(_JS_WORDS).title()}{n}"
        a, b = rng.sample("abcdefghijklmnopqrstuvwxyz", 2)
        body = rng.choice((
            f"var {a}=document.querySelectorAll('[data-{rng.choice(_JS_WORDS)}]');for(var i=0;i<{a}.length;i++)"
            f"{{{a}[i].setAttribute('data-ready','{rng.randrange(10 ** 6)}')}}return {a}.length",
            f"return {a}&&{a}.length>{rng.randint(1, 99)}?{a}.slice(0,{rng.randint(1, 99)}):{b}||''",
            f"var {a}=Date.now();window.requestAnimationFrame(function(){{{b}=Date.now()-{a};"
            f"if({b}>{rng.randint(16, 200)})console.debug('{name}',{b})}})",
            f"try{{localStorage.setItem('rp_{name}',JSON.stringify({{v:{rng.randrange(10 ** 4)},t:Date.now()}}))}}"
            f"catch({a}){{}}",
        ))
        functions.append(f"function {name}({a},{b}){{{body}}}")
    return tuple(functions)


def _rotation(pool: tuple[str, ...], shown: int, number: int, sep: str) -> str:
    start = number % len(pool)
    picked = pool[start:start + shown]
    if len(picked) < shown:
        picked += pool[:shown - len(picked)]
    return sep.join(picked)


@functools.cache
def _sprite() -> str:
    """An inline SVG sprite of the menu and social icons, as sites ship to save requests."""
    rng = _rng("svg")
    symbols = []
    for name in ("search", "menu", "close", "arrow", "facebook", "twitter", "telegram", "youtube", "instagram",
                 "whatsapp", "linkedin", "tiktok", "photo", "video", "clock", "calendar", "share", "print"):
        path = "M" + " ".join(f"{rng.uniform(0, 24):.3f} {rng.uniform(0, 24):.3f}" + rng.choice(("L", "C", "Q", " "))
                              for _ in range(rng.randint(20, 40))) + "Z"
        symbols.append(f'<symbol id="icon-{name}" viewBox="0 0 24 24"><path d="{path}"/></symbol>')
    return f'<svg xmlns="http://www.w3.org/2000/svg" style="display:none">{"".join(symbols)}</svg>'


SOCIAL = (("facebook", "https://www.facebook.com/report.az"), ("twitter", "https://twitter.com/report_az"),
          ("telegram", "https://t.me/reportaz"), ("youtube", "https://www.youtube.com/@reportaz"),
          ("instagram", "https://www.instagram.com/report.az"))
ABOUT = {"az": (("haqqimizda", "Haqqımızda"), ("elaqe", "Əlaqə"), ("reklam", "Reklam"), ("mexfilik", "Məxfilik")),
         "en": (("about", "About us"), ("contact", "Contact"), ("advertising", "Advertising"), ("privacy", "Privacy")),
         "ru": (("o-nas", "О нас"), ("kontakty", "Контакты"), ("reklama", "Реклама"),
                ("konfidencialnost", "Конфиденциальность"))}
FOOTER_HEADINGS = {"az": ("Versiyalar", "Bölmələr", "Agentlik", "Sosial şəbəkələr"),
                   "en": ("Editions", "Sections", "Agency", "Follow us"),
                   "ru": ("Версии", "Разделы", "Агентство", "Мы в соцсетях")}
RIGHTS = {"az": "Bütün hüquqlar qorunur. Materiallardan istifadə zamanı hiperlinklə istinad mütləqdir.",
          "en": "All rights reserved. Any use of the materials requires a hyperlink to Report.az.",
          "ru": "Все права защищены. При использовании материалов гиперссылка на Report.az обязательна."}


@functools.cache
def footer(categories: tuple[tuple[str, str], ...], lang: str) -> str:
    """Link lists (editions, every category, the agency's pages, social networks), not a <nav>: a
    footer's lists are not the site's navigation menu."""
    editions, sections, agency, social = FOOTER_HEADINGS[lang]

    def column(title: str, items: list[str]) -> str:
        return (f'<div class="footer__col"><h4 class="footer__title">{title}</h4><ul class="footer__list">'
                + "".join(f"<li>{item}</li>" for item in items) + "</ul></div>")

    edition_items = [f'<a href="{PREFIX[other]}" hreflang="{other}">{texts.EDITION_LABEL[other]}</a>' for other in LANGS]
    section_items = [f'<a href="{PREFIX[lang]}{segment}">{name}</a>' for segment, name in categories]
    agency_items = [f'<a href="{PREFIX[lang]}{slug}">{label}</a>' for slug, label in ABOUT[lang]]
    social_items = [f'<a href="{url}" target="_blank" rel="noopener" aria-label="{name}">'
                    f'<svg class="icon"><use href="#icon-{name}"></use></svg></a>' for name, url in SOCIAL]
    return (f'<footer class="footer"><div class="container"><div class="footer__row">'
            f'{column(editions, edition_items)}{column(sections, section_items)}{column(agency, agency_items)}'
            f'{column(social, social_items)}</div>'
            f'<div class="footer__bottom"><p>© 2014–2026 Report.az. {RIGHTS[lang]}</p></div></div></footer>')


def styles(number: int) -> str:
    """The page's inline CSS: a critical-path block and a theme block, a rotation of one pool."""
    return (f"<style>{_rotation(_css_pool(), CSS_SHOWN, number, '')}</style>\n"
            f"<style>{_rotation(_css_pool(), 60, number // 7, chr(10))}</style>\n")


def head_scripts(lang: str, number: int, config: str) -> str:
    """Analytics, the ad loader and the app's JSON config, as inline scripts in <head>."""
    rng = random.Random(number)
    slots = [f"/2100{rng.randrange(10 ** 5):05d}/report_{lang}_{rng.choice(('top', 'side', 'inline', 'bottom'))}_{k}"
             for k in range(AD_SLOTS)]
    defines = "".join(f"googletag.defineSlot('{slot}',[[{rng.choice((300, 728, 970))},{rng.choice((90, 250, 600))}]],"
                      f"'div-gpt-ad-{number % 10 ** 9}-{k}').addService(googletag.pubads());"
                      for k, slot in enumerate(slots))
    return (f"<script async src=\"https://www.googletagmanager.com/gtag/js?id=G-RPT{number % 10 ** 6:06d}\"></script>\n"
            f"<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments)}}"
            f"gtag('js',new Date());gtag('config','G-RPT{number % 10 ** 6:06d}',{{page_lang:'{lang}',"
            f"content_group:'{number % 97}'}});</script>\n"
            f"<script>(function(m,e,t,r,i,k,a){{m[i]=m[i]||function(){{(m[i].a=m[i].a||[]).push(arguments)}};"
            f"m[i].l=1*new Date();k=e.createElement(t),a=e.getElementsByTagName(t)[0],k.async=1,k.src=r,"
            f"a.parentNode.insertBefore(k,a)}})(window,document,'script','https://mc.yandex.ru/metrika/tag.js','ym');"
            f"ym({number % 10 ** 8},'init',{{clickmap:true,trackLinks:true,accurateTrackBounce:true}});</script>\n"
            f"<script async src=\"https://securepubads.g.doubleclick.net/tag/js/gpt.js\"></script>\n"
            f"<script>window.googletag=window.googletag||{{cmd:[]}};googletag.cmd.push(function(){{{defines}"
            f"googletag.pubads().enableSingleRequest();googletag.pubads().collapseEmptyDivs();"
            f"googletag.enableServices()}});</script>\n"
            f'<script type="application/json" id="app-config">{config}</script>\n')


@functools.cache
def _config_base(categories: tuple[tuple[str, str], ...], lang: str) -> dict:
    return {"lang": lang, "editions": {other: PREFIX[other] for other in LANGS},
            "categories": [{"id": 100 + n, "slug": segment, "name": name, "url": f"{PREFIX[lang]}{segment}",
                            "color": f"#{(n * 2654435761) % 16 ** 6:06x}", "ads": n % 3 == 0}
                           for n, (segment, name) in enumerate(categories)],
            "i18n": {"latest": texts.LATEST_LABEL[lang], "all": texts.ALL_NEWS[lang],
                     "photo": texts.PHOTO_BADGE[lang], "copy": texts.COPY_LINK[lang],
                     "trending": texts.TRENDING_LABEL[lang]}}


def config(categories: tuple[tuple[str, str], ...], lang: str, number: int, kind: str) -> str:
    rng = random.Random(number)
    data = {**_config_base(categories, lang), "page": {"type": kind, "digest": f"{number:016x}",
            "experiments": {f"exp_{k}": rng.random() < 0.5 for k in range(12)},
            "adRefresh": rng.randint(30, 120)}}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def body_scripts(number: int) -> str:
    """The inline "vendor" bundle (lazy loading, consent, tracking helpers) before </body>."""
    return (f"<script>(function(){{'use strict';{_rotation(_js_pool(), JS_SHOWN, number, ';')};"
            f"window.__rp={{v:'{number % 10 ** 5}'}}}})();</script>\n")


def sprite() -> str:
    return _sprite()


def ad_box(number: int, k: int) -> str:
    return (f'<div class="ads-box ads-box--{k}"><div id="div-gpt-ad-{number % 10 ** 9}-{k}"></div>'
            f"<script>googletag.cmd.push(function(){{googletag.display('div-gpt-ad-{number % 10 ** 9}-{k}')}});"
            f"</script></div>")
