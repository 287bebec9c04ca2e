"""An offline, deterministic replica of report.az for newsbot's tests and demos.

    python -m tests.replica --port 8000 --stories 300      (see __main__.py)

Modules: texts (word banks), categories (the replica's own category table: slugs per edition and
the key an analyst expects, independent of newsbot's), content (stories, state, ground truth, page
layouts), pages (HTML/RSS with markup noise), furniture (what makes pages weigh ~100 KB as real
ones do: nav, sidebar of 20 cards, inline scripts and styles, footer lists; GET /_replica/sizes), faults (fault rules), server (Twisted resource and
control endpoints; the site map), client (start a replica subprocess and talk to it; used by
tests/conftest.py).

Each article page has one spelling, used by every link to it: no trailing slash in the current
design, a trailing slash in the legacy one; the other spelling answers as --other-spelling says
(301 by default, 404, or served). Slug edits (/_replica/rename, --renamed-old) and editions
published late (--late, /_replica/publish-late) are in server.py, and so are the sitemaps
(/sitemap-posts-archive.xml, one shard per publication day, /news-sitemap.xml; --no-sitemaps,
--numbered-shards) and the category pages, cumulative as the live site's (page N shows pages 1..N,
16 cards a page; --category-pages paged, --category-past-end 404|cap|empty, --category-pagination
numbered).

Article pages come in several layouts, picked per story from its own digest (content.Corpus.layout),
so that a crawler rule fitting one markup fails the tests. GET /_replica/layouts lists every page's
layout ({url: {...}}, URLs as in the ground truth; the keys are documented in server.py):
    version   ~70% "current" (h1.section-title, .news-detail__head .news__category + ul.news__date,
              .news-detail__main-photo, div.news-detail__desc, .copy-url[data-url] with the page's
              7-digit site id), ~30% "legacy" (2024: h1.news-title, .news-date span "7 Fevral , 2024",
              div.news-cover div.image img, div.editor-body, no head category, no .copy-url)
    tags      links_div | list_ul | label_p ("Tags:" label, commas); hrefs /tag/x, /tag/x/ or /tags/x
    editions  photo_cards (a > badge + h3) | label_list (li: language label, a) | image_links (a > img + span)
    captions  figcaption | div_span | table; lazy photos in data-src / data-cfsrc / srcset / src
    plus JSON-LD NewsArticle + BreadcrumbList on ~half the pages, article:* / og:image / canonical
    on many, ~3% of current pages without a visible date, body embeds, one mojibake paragraph on ~5%.
The ground truth stays what a browser shows whatever the layout: the h1 (not the shortened JSON-LD
headline), paragraphs of the body block only (no embeds, figures, furniture from texts.BOILERPLATE),
the main photo then the body figures in page order with their visible captions, the other editions
in LANGS order with their titles only, site_id from .copy-url (None on legacy pages).
"""
