"""scrapy stats: what the store holds, per day, edition and category, and how full each field is."""

from __future__ import annotations

import argparse
import json
from typing import Any

from scrapy.commands import ScrapyCommand

from newsbot.commands.common import NewsbotCommand
from newsbot.site.categories import is_known_key
from newsbot.store import StoreError

BREAKDOWNS = {"day": "Per publication day (Baku)", "edition": "Per edition", "category": "Per category"}


def table(headers: tuple[str, str], rows: list[tuple[Any, Any]]) -> str:
    """Two columns as plain text: keys left-aligned, values right-aligned."""
    cells = [headers, *((str(key) if key != "" else "(none)", str(value)) for key, value in rows)]
    left, right = max(len(k) for k, _ in cells), max(len(v) for _, v in cells)
    return "\n".join(f"{key:<{left}}  {value:>{right}}" for key, value in cells)


def identity_report(summary: dict[str, Any]) -> dict[str, Any]:
    """The store's identity summary as the report shows it: learned and unknown category slugs
    (unknown: neither the packaged table nor a learned mapping gives them a key), and alias counts."""
    learned = [{"language": language, "slug": slug, "key": key} for language, slug, key in summary["learned"]]
    taught = {c["key"] for c in learned}
    unknown = [{"language": language, "slug": slug, "articles": count}
               for language, slug, count in summary["categories"]
               if slug and not is_known_key(slug) and slug not in taught]
    return {
        "categories": {"learned": learned, "unknown": unknown},
        "identity": {"articles renamed (slug edited)": summary["renamed_articles"],
                     "article ids re-keyed or merged": summary["article_aliases"],
                     "story ids merged into another": summary["story_aliases"]},
    }


class Command(NewsbotCommand, ScrapyCommand):
    usage = "[--by day|edition|category] [--json]"
    summary = "Count stored articles per day, edition and category, and show field fill rates"
    description = ("Summarise the store (NEWSBOT_DB, or --db: SQLite or PostgreSQL): article counts per Baku "
                   "publication day, "
                   "edition and category (all three, or the one chosen with --by), and the fill rate of every "
                   "item field (the share of articles where it is non-empty).")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--by", choices=tuple(BREAKDOWNS), help="only this breakdown (default: all)")
        parser.add_argument("--json", action="store_true", help="print JSON instead of tables")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        _, path = self.store_config(opts)
        breakdowns = [opts.by] if opts.by else list(BREAKDOWNS)
        try:
            with self.read_store(path) as store:
                report = {
                    "database": store.name,
                    "schema_version": store.schema_version,
                    "articles": store.count_articles(),
                    "stories": store.count_stories(),
                    **{f"by_{by}": dict(store.count_by(by)) for by in breakdowns},
                    "fill_rate": store.fill_rates(),
                    **identity_report(store.identity_summary()),
                }
        except StoreError as exc:
            self.fail(str(exc))
            return
        if opts.json:
            print(json.dumps(report, ensure_ascii=False, indent=2))
            return
        sections = [f"{report['articles']} articles in {report['stories']} stories "
                    f"({report['database']}, schema version {report['schema_version']})"]
        for by in breakdowns:
            sections.append(f"{BREAKDOWNS[by]}\n" + table((by, "articles"), list(report[f"by_{by}"].items())))
        sections.append("Fill rate\n" + table(("field", "filled"), [
            (field, f"{rate:.1%}") for field, rate in report["fill_rate"].items()]))
        for title, kind, column in (("Category slugs learned from a linked edition", "learned", "key"),
                                    ("Category slugs no table or linked edition knows", "unknown", "articles")):
            rows = [(f"{c['language']}/{c['slug']}", c[column]) for c in report["categories"][kind]]
            sections.append(f"{title}\n" + (table(("edition/slug", column), rows) if rows else "(none)"))
        sections.append("Identity\n" + table(("of identity", "count"), list(report["identity"].items())))
        print("\n\n".join(sections))
