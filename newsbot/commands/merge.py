"""`scrapy merge`: unite per-node stores into one through Store.merge_from, a transaction per shard
(docs/scrapyd.md, 6)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand

from newsbot.commands.common import NewsbotCommand, usage_error


class Command(NewsbotCommand, ScrapyCommand):
    db_metavar = "TARGET"
    db_help = "the store to merge into (default: NEWSBOT_DB)"
    usage = "SHARD.sqlite [SHARD2.sqlite ...] [--db TARGET.sqlite|postgresql://…]"
    summary = "Merge newsbot SQLite stores (per-node shards) into one store, without duplicates"
    description = ("Copy the articles of each SHARD (with tags, images, translations and revisions) into the "
                   "target store, --db or NEWSBOT_DB: an SQLite file, or PostgreSQL (nodes that crawled offline). "
                   "An article in both keeps the most recently crawled "
                   "content; merging a shard twice changes nothing. The target is created if missing.")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        from newsbot.store import Store, StoreError

        if not args:
            usage_error("merge", "Give at least one shard to merge")
        config, target = self.store_config(opts)
        if not target:  # NEWSBOT_DB and --db empty
            usage_error("merge", "No target store: give --db TARGET or set NEWSBOT_DB")
        shards = [Path(a) for a in dict.fromkeys(args)]
        missing = [str(s) for s in shards if not s.is_file()]
        if missing:
            self.fail(f"no such shard: {', '.join(missing)}")
            return
        failed = []
        totals = {"added": 0, "updated": 0, "unchanged": 0}
        try:
            store = Store(target, timeout=config.db_timeout)
        except StoreError as exc:
            self.fail(str(exc))
            return
        with store:
            for shard in shards:
                try:
                    result = store.merge_from(shard)
                except (StoreError, OSError) as exc:
                    failed.append(str(shard))
                    print(f"merge: {shard}: not merged: {exc}", file=sys.stderr)
                    continue
                for key in totals:
                    totals[key] += getattr(result, key)
                print(f"{shard}: {result.added} added, {result.updated} updated, {result.unchanged} unchanged")
            articles = store.count_articles()
        print(f"{store.name}: {articles} articles ({totals['added']} added, {totals['updated']} updated, "
              f"{totals['unchanged']} unchanged from {len(shards) - len(failed)} shard(s))")
        if failed:
            self.fail(f"{len(failed)} shard(s) not merged: {', '.join(failed)}")
