"""The crawler's extraction against the replica's ground truth, seed by seed, in process.

Every article page of a replica is rendered (tests/replica/server.py, no socket) and read the way a
crawl reads it: its bytes and Content-Type header through newsbot.loaders.extract_page. A mismatch
is (url, field, expected, got); `python -m tests.replica --check-seeds N` prints them all.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlsplit

from newsbot.items import GROUND_TRUTH_FIELDS
from newsbot.loaders import extract_page
from tests.replica.content import Corpus
from tests.replica.server import Replica

BASE_URL = "http://replica.test"


def mismatches(seed: int, stories: int) -> Iterator[tuple[str, str, object, object]]:
    """Every field of every article page of a replica of `stories` stories that extraction gets wrong."""
    replica = Replica(Corpus(stories, seed))
    for record in replica.state.truth_records(BASE_URL):
        path = urlsplit(record["url"]).path
        response = replica.page(path, {}, BASE_URL)
        item = extract_page(response.body, response.content_type, record["url"]).item or {}
        for field in GROUND_TRUTH_FIELDS:
            if item.get(field) != record[field]:
                yield record["url"], field, record[field], item.get(field)


def check_seeds(seeds: range, stories: int, out) -> int:
    """Prints every mismatch of each seed, field by field, then a count per field; 1 if any."""
    per_field: Counter[str] = Counter()
    for seed in seeds:
        found = list(mismatches(seed, stories))
        print(f"seed {seed}: {stories} stories, {len(found)} mismatch(es)", file=out)
        for url, field, expected, got in found:
            per_field[field] += 1
            print(f"  {url} {field}\n    expected {json.dumps(expected, ensure_ascii=False)}"
                  f"\n    got      {json.dumps(got, ensure_ascii=False)}", file=out)
    print("mismatches per field: " + (", ".join(f"{f} {n}" for f, n in per_field.most_common()) or "none"), file=out)
    return 1 if per_field else 0
