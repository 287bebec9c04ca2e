"""`scrapy reextract`: today's extraction over the raw-page archive, into the store through its
revision path, with no request: after a site redesign is fixed in newsbot/site/, the archived pages are
read again (docs/archive.md, `scrapy reextract`, has the report and the exit statuses)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from scrapy.commands import ScrapyCommand

from newsbot.archive import INSTALL_HINT
from newsbot.commands.common import NewsbotCommand, usage_error
from newsbot.items import PAGE_FIELDS


@dataclass
class Report:
    files: int = 0
    records: int = 0           # whole response records read
    reextracted: int = 0       # articles (newest record each) within the filters, written to the store
    changed: int = 0           # a new revision
    unchanged: int = 0
    inserted: int = 0          # not in the store before
    stale: int = 0             # the store holds a later crawl of the article: left alone
    slug_edits: int = 0
    superseded: int = 0        # records of an article with a newer record in the archive
    filtered_out: int = 0      # articles outside --since/--until/--lang
    skipped: Counter = field(default_factory=Counter)  # reason -> records that gave no article
    fields: Counter = field(default_factory=Counter)   # field -> articles whose new revision changed it
    differences_not_stored: Counter = field(default_factory=Counter)  # outside the hash: docs/archive.md

    def as_dict(self) -> dict[str, Any]:
        return {name: dict(sorted(value.items())) if isinstance(value, Counter) else value
                for name, value in vars(self).items()}

    def text(self) -> str:
        skipped = sum(self.skipped.values())
        lines = [
            f"Read {self.records} page records from {self.files} archive file(s); "
            f"skipped {skipped} ({_counts(self.skipped) or 'none'}); {self.superseded} superseded by a newer record",
            f"Re-extracted {self.reextracted} articles ({self.filtered_out} outside the filters): "
            f"{self.changed} changed (new revision), {self.unchanged} unchanged, "
            f"{self.inserted} not in the store (inserted), {self.stale} stale (crawled again since)",
            f"Changed fields: {_counts(self.fields) or 'none'}",
        ]
        if self.differences_not_stored:
            lines.append(f"Differences outside content_hash, not stored: {_counts(self.differences_not_stored)}")
        return "\n".join(lines)


def _counts(counter: Counter) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def extract_page(page: Any) -> tuple[dict[str, Any] | None, str]:
    """(item, "") for an archived page that is an article today, else (None, why not): read as the
    crawl reads it (the response type and charset its bytes prove, newsbot.loaders.read_article),
    then validated."""
    from scrapy.http import Headers, TextResponse
    from scrapy.responsetypes import responsetypes

    from newsbot.html import with_charset
    from newsbot.loaders import read_article
    from newsbot.normalize import iso_utc
    from newsbot.pipelines.validate import problems

    if page.status != 200:
        return None, f"http_{page.status}"
    headers = Headers(page.headers)
    response = responsetypes.from_args(headers=headers, url=page.url, body=page.body)(
        page.url, status=page.status, headers=headers, body=page.body)
    if isinstance(response, TextResponse):
        response, _, _ = with_charset(response)
    extraction = read_article(response, crawled_at=iso_utc(page.fetched_at))
    if extraction.item is None:
        return None, (extraction.problems or ["not_an_article"])[0]
    item = dict(extraction.item)
    bad = problems(item)
    if bad:
        return None, f"invalid_{bad[0]}"
    return item, ""


def in_filters(item: dict[str, Any], since: date | None, until: date | None, languages: list[str]) -> bool:
    """Baku publication days, both ends included, as `scrapy export`; no date matches no date filter."""
    if languages and item["language"] not in languages:
        return False
    published = item["published_at"][:10]
    return not (since or until) or bool(published) and not (
        since and published < since.isoformat() or until and published > until.isoformat())


def reextract(store: Any, files: list[Path], *, since: date | None, until: date | None, languages: list[str],
              batch_size: int) -> Report:
    """Read `files`, re-extract each article's newest record and write them through store.write."""
    from newsbot.archive.reader import ArchiveReading, read_archive
    from newsbot.normalize import url_key
    from newsbot.store import Outcome, article_row, decide

    report = Report(files=len(files))
    reading = ArchiveReading()
    newest: dict[str, tuple[Any, dict[str, Any]]] = {}
    for page in read_archive(files, reading):
        item, reason = extract_page(page)
        if item is None:
            report.skipped[reason] += 1
            continue
        key = url_key(item["url"])
        kept = newest.get(key)
        if kept is not None:
            report.superseded += 1
            if page.fetched_at < kept[0]:
                continue
        newest[key] = (page.fetched_at, item)
    report.records = reading.records
    for kind, places, line in (
            ("torn", reading.torn, "warning: {}: a torn record (a crawl killed mid-write?); skipped it"),
            ("corrupt", reading.corrupt, "error: {}: corrupt, the rest of that file is unread")):
        if places:
            report.skipped[kind] += len(places)
        for where in places:
            print("reextract: " + line.format(where), file=sys.stderr)
    chosen = [item for _, item in newest.values() if in_filters(item, since, until, languages)]
    report.filtered_out = len(newest) - len(chosen)
    chosen.sort(key=lambda item: (item["published_at"], item["url"]))
    for start in range(0, len(chosen), batch_size):
        batch = chosen[start:start + batch_size]
        stored = store.articles_at(item["url"] for item in batch)
        for item in batch:
            before = stored.get(url_key(item["url"]))
            if before is None:
                continue
            row = article_row(item)
            outcome = decide((before["content_hash"], before["crawled_at"]), row)
            differ = [name for name in PAGE_FIELDS if item.get(name) != before.get(name)]
            if outcome is Outcome.UPDATED:
                report.fields.update(differ)
            elif outcome is Outcome.UNCHANGED:
                # The store fills in a NULL (its one nullable column); any other value it keeps.
                report.differences_not_stored.update(d for d in differ if before[d] is not None)
        result = store.write(batch)
        report.reextracted += len(batch)
        report.changed += result.updated
        report.unchanged += result.unchanged
        report.inserted += result.inserted
        report.stale += result.stale
        report.slug_edits += result.slug_edits
    return report


class Command(NewsbotCommand, ScrapyCommand):
    selects_articles = True
    usage = "[--archive DIR_OR_FILE ...] [--db PATH] [--since DATE] [--until DATE] [--lang az,en] [--json]"
    summary = "Run today's extraction over the page archive and update the store (no network)"
    description = ("Read every WARC response record of the archive (NEWSBOT_ARCHIVE, or --archive: directories "
                   "and/or .warc.gz files, oldest first), extract each page with today's code, keep the newest "
                   "record per article, and write the articles within --since/--until (Baku publication days, "
                   "both included) and --lang to the store (NEWSBOT_DB, or --db) through its revision path. "
                   "Reports how many articles changed and which fields. Makes no request.")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--archive", metavar="DIR_OR_FILE", action="append",
                            help="an archive directory or WARC file (repeatable, or comma-separated; "
                                 "default: the NEWSBOT_ARCHIVE setting)")
        parser.add_argument("--json", action="store_true", help="print the report as one JSON object")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            usage_error("reextract", f"unexpected argument(s): {' '.join(args)} (use --archive)")
        config, path = self.store_config(opts)
        languages = self.languages(opts)
        if opts.since and opts.until and opts.since > opts.until:
            usage_error("reextract", f"--since {opts.since} is after --until {opts.until}")
        given = [part.strip() for value in (opts.archive or []) for part in value.split(",") if part.strip()]
        if not given:
            if not config.archive:
                usage_error("reextract", "no archive: give --archive DIR or set NEWSBOT_ARCHIVE")
            if "%(" in config.archive:
                usage_error("reextract", f"NEWSBOT_ARCHIVE={config.archive} names a directory per crawl; "
                                         "give the directories with --archive")
            given = [config.archive]
        try:
            import warcio  # noqa: F401
        except ImportError:
            self.fail(f"reading the archive needs warcio: {INSTALL_HINT}")
            return
        from newsbot.archive.reader import NotWarc, archive_files

        try:
            files = archive_files(given)
        except FileNotFoundError as exc:
            usage_error("reextract", f"--archive {exc}: no such file or directory")
        if not files:
            usage_error("reextract", f"no WARC files (*.warc.gz) in {', '.join(given)}")
        from newsbot.store import Store, StoreError, is_postgres_url

        if not path or not (is_postgres_url(path) or Path(path).is_file()):
            self.fail(f"no store at {path or '(NEWSBOT_DB is empty)'}: give --db PATH")
            return
        try:
            with Store(path, timeout=config.db_timeout) as store:
                report = reextract(store, files, since=opts.since, until=opts.until, languages=languages,
                                   batch_size=config.db_batch_size)
        except StoreError as exc:
            self.fail(str(exc))
            return
        except OSError as exc:
            self.fail(f"cannot read the archive: {exc}")
            return
        except NotWarc as exc:
            usage_error("reextract", f"--archive {exc}")
        if opts.json:
            print(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            print(report.text())
        if report.skipped["corrupt"]:
            self.exitcode = 1
