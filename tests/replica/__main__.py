"""python -m tests.replica: serve the report.az replica, or write its ground truth.

    python -m tests.replica --port 8000 --stories 300
    python -m tests.replica --port 0 --stories 60 --hidden 10 --faults '[{"match": "^/en/", "status": 503}]'
    python -m tests.replica --stories 300 --ground-truth truth.jsonl --base-url http://127.0.0.1:8000

`--check-seeds N` checks the crawler's extraction on N seeds' pages, field by field (tests/replica/check.py).
Serving prints one line, "REPLICA http://127.0.0.1:PORT", once the socket listens
(--port 0 picks a free port). --ground-truth writes the JSON Lines for the initial
state (after --hidden) and exits without serving; a running replica serves the
current state at /_replica/ground-truth. Fault rules: see tests/replica/faults.py; URL
spellings, slug edits and late editions (--other-spelling, --renamed-old, --late), the sitemaps
(/sitemap-posts-archive.xml, its day shards, /news-sitemap.xml; --no-sitemaps) and the cumulative
category pages (--category-pages, --category-past-end, --category-pagination): server.py.
"""

from __future__ import annotations

import argparse
import sys

from tests.replica.content import Corpus
from tests.replica.faults import load_rules
from tests.replica.server import Replica, serve


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.replica", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--stories", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hidden", type=int, default=0, metavar="K",
                        help="the K newest stories are not yet published (see /_replica/publish)")
    parser.add_argument("--faults", default=None, metavar="FILE_OR_JSON", help="fault rules (tests/replica/faults.py)")
    parser.add_argument("--js-feed", action="store_true", help="feed pages carry no cards; a script loads them")
    parser.add_argument("--infinity-path", default="infinity/index", metavar="PATH",
                        help="the feed's endpoint for older cards, under each edition's prefix (named in "
                             ".loadContainer[data-url])")
    parser.add_argument("--other-spelling", choices=("301", "404", "serve"), default="301",
                        help="what an article path with its trailing slash added or removed answers (default 301 "
                             "to the page's one spelling, as a Laravel site does)")
    parser.add_argument("--renamed-old", choices=("301", "404"), default="301",
                        help="what the old path of a renamed article (/_replica/rename) answers (default 301)")
    parser.add_argument("--late", type=int, default=0, metavar="K",
                        help="the last edition of the K newest stories with 2+ editions is not published yet "
                             "(see /_replica/publish-late)")
    parser.add_argument("--no-sitemaps", action="store_true",
                        help="/sitemap-posts-archive.xml, its shards and /news-sitemap.xml answer 404 (server.py "
                             "describes the sitemaps)")
    parser.add_argument("--numbered-shards", action="store_true",
                        help="name the sitemap shards by day number (/sitemap-posts-archive/N.xml), not by date")
    parser.add_argument("--category-pages", choices=("cumulative", "paged"), default="cumulative",
                        help="category page N shows every card of pages 1..N (default, as the live site's are "
                             "reported to) or only its own 16 cards")
    parser.add_argument("--category-past-end", choices=("404", "cap", "empty"), default="404",
                        help="what a category page past the last one answers: 404 (default), the last page again "
                             "without a next link (cap: every card, when cumulative), or a page without cards")
    parser.add_argument("--category-pagination", choices=("prev-next", "numbered"), default="prev-next",
                        help="what a category page's pagination links: the previous and next pages (default), or "
                             "also page 1, pages N-2..N+2 and the last page")
    parser.add_argument("--ground-truth", metavar="PATH", help="write the ground truth JSON Lines ('-' for stdout) and exit")
    parser.add_argument("--base-url", help="the base URL the ground truth uses (default http://HOST:PORT)")
    parser.add_argument("--quiet", action="store_true", help="no access log on stderr")
    parser.add_argument("--check-seeds", type=int, metavar="N",
                        help="render every article page of N replicas (seeds --seed .. --seed+N-1, --stories "
                             "stories each) in process, extract each as a crawl does, print every field that "
                             "differs from the ground truth, and exit 1 if any does")
    args = parser.parse_args(argv)
    if args.stories < 1:
        parser.error("--stories must be at least 1")
    if args.ground_truth and not args.base_url and args.port == 0:
        parser.error("--ground-truth needs --base-url or a fixed --port")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.check_seeds is not None:
        from tests.replica.check import check_seeds
        return check_seeds(range(args.seed, args.seed + max(1, args.check_seeds)), args.stories, sys.stdout)
    rules = load_rules(args.faults)
    replica = Replica(Corpus(args.stories, args.seed), hidden=args.hidden, rules=rules, js_feed=args.js_feed,
                      infinity_path=args.infinity_path, other_spelling=args.other_spelling,
                      renamed_old=args.renamed_old, late=args.late,
                      sitemaps=not args.no_sitemaps, numbered_shards=args.numbered_shards,
                      category_pages=args.category_pages, category_past_end=args.category_past_end,
                      category_pagination=args.category_pagination)
    if args.ground_truth:
        base_url = args.base_url or f"http://{args.host}:{args.port}"
        if args.ground_truth == "-":
            sys.stdout.writelines(replica.state.truth_jsonl(base_url))
        else:
            with open(args.ground_truth, "w", encoding="utf-8") as out:
                out.writelines(replica.state.truth_jsonl(base_url))
        return 0
    serve(replica, args.host, args.port, args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
