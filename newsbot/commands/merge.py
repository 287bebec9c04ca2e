"""`scrapy merge SHARD.sqlite [SHARD2 ...] [--db TARGET]`: unite per-node stores into one.

A backfill spread over several Scrapyd nodes leaves one SQLite store per node
(or per partition). This copies every shard's articles, with their tags,
images, translations and revision history, into the target store (default:
NEWSBOT_DB) through newsbot.store.Store.merge_from: an article already in the
target is not duplicated, the copy crawled last wins, and merging the same
shard again adds nothing. Each shard is merged in one transaction, so a merge
that fails half-way leaves the target as it was before that shard.

Exit status: 0 every shard merged; 1 some shard could not be merged (the others
still were; the failures are listed); 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsbot.commands.common import StoreCommand


class Command(StoreCommand, ScrapyCommand):
    db_metavar = "TARGET"
    db_help = "the store to merge into (default: NEWSBOT_DB)"

    def syntax(self) -> str:
        return "SHARD.sqlite [SHARD2.sqlite ...] [--db TARGET.sqlite]"

    def short_desc(self) -> str:
        return "Merge newsbot SQLite stores (per-node shards) into one, without duplicates"

    def long_desc(self) -> str:
        return ("Copy the articles of each SHARD (with tags, images, translations and revisions) into the "
                "target store, --db or NEWSBOT_DB. An article in both keeps the most recently crawled content; "
                "merging a shard twice changes nothing. The target is created if missing.")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        from newsbot.store import Store, StoreError

        if not args:
            raise UsageError("Give at least one shard to merge")
        config, path = self.store_config(opts)
        target = Path(path)
        if not str(target) or str(target) == ".":
            raise UsageError("No target store: give --db TARGET or set NEWSBOT_DB", print_help=False)
        shards = [Path(a) for a in dict.fromkeys(args)]
        missing = [str(s) for s in shards if not s.is_file()]
        if missing:
            print(f"scrapy merge: no such shard: {', '.join(missing)}", file=sys.stderr)
            self.exitcode = 1
            return
        timeout = config.db_timeout
        failed = []
        totals = {"added": 0, "updated": 0, "unchanged": 0}
        try:
            store = Store(target, timeout=timeout)
        except StoreError as exc:
            print(f"scrapy merge: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        with store:
            for shard in shards:
                try:
                    result = store.merge_from(shard)
                except (StoreError, OSError) as exc:
                    failed.append(str(shard))
                    print(f"scrapy merge: {shard}: not merged: {exc}", file=sys.stderr)
                    continue
                for key in totals:
                    totals[key] += getattr(result, key)
                print(f"{shard}: {result.added} added, {result.updated} updated, {result.unchanged} unchanged")
            articles = store.count_articles()
        print(f"{target}: {articles} articles ({totals['added']} added, {totals['updated']} updated, "
              f"{totals['unchanged']} unchanged from {len(shards) - len(failed)} shard(s))")
        if failed:
            print(f"scrapy merge: {len(failed)} shard(s) not merged: {', '.join(failed)}", file=sys.stderr)
            self.exitcode = 1
