"""The summaries `scrapy stats` and `scrapy report` read (issue 32): kept by the store's triggers, on
both backends, they give what a scan of the articles gives after every kind of write, and a store of
an older version gets them built once, on open. The `db` fixture also checks every store a test
leaves behind (tests/conftest.py)."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from newsbot.items import ITEM_FIELDS, LIST_FIELDS
from newsbot.normalize import article_id
from newsbot.store import Store, is_postgres_url
from newsbot.store.summaries import FILLED, freshness_bucket, latency
from tests.conftest import rows
from tests.test_identity import linked
from tests.test_store import edition_url, make_item, make_v2_file

LANGS = ("az", "en", "ru")


def scanned(db: Path | str) -> dict[str, Any]:
    """What stats and the report showed before the summaries: each figure a scan of the articles."""
    total = rows(db, "SELECT count(*) FROM articles")[0][0]
    filled = rows(db, "SELECT " + ", ".join(f"count(*) FILTER (WHERE {c})" for c in FILLED.values())
                  + " FROM articles")[0] if total else (0,) * len(FILLED)
    lists = {name: rows(db, f"SELECT count(DISTINCT article_id) FROM {name}")[0][0] for name in LIST_FIELDS}
    counts = dict(zip(FILLED, filled)) | lists
    fresh: Counter[tuple[str, int]] = Counter()
    for language, published, first_seen in rows(db, "SELECT language, published_at_utc, first_seen_at FROM articles"):
        if (seconds := latency(published, first_seen)) is not None:
            fresh[language, freshness_bucket(seconds)] += 1
    return {
        "articles": total,
        "stories": rows(db, "SELECT count(DISTINCT story_id) FROM articles")[0][0],
        **{f"by_{by}": rows(db, f"SELECT {key} AS key, count(*) FROM articles GROUP BY key ORDER BY key")
           for by, key in (("day", "substr(published_at, 1, 10)"), ("edition", "language"),
                           ("category", "category_slug"))},
        "fill_rate": {name: counts[name] / total if total else 0.0 for name in ITEM_FIELDS},
        "renamed": rows(db, "SELECT count(*) FROM (SELECT article_id FROM article_urls GROUP BY article_id "
                            "HAVING count(*) > 1) AS renamed")[0][0],
        "categories": rows(db, "SELECT language, category_slug, count(*) FROM articles "
                               "GROUP BY language, category_slug ORDER BY language, category_slug"),
        "per_day": rows(db, "SELECT substr(published_at, 1, 10) AS day, language, count(*) FROM articles "
                            "WHERE published_at != '' GROUP BY day, language ORDER BY day, language"),
        "by_editions": rows(db, "SELECT editions, count(*) FROM (SELECT count(DISTINCT language) AS editions "
                                "FROM articles GROUP BY story_id) AS stories GROUP BY editions ORDER BY editions"),
        "mix": rows(db, "SELECT language, category_slug, count(*) FROM articles GROUP BY language, category_slug "
                        "ORDER BY language, count(*) DESC, category_slug"),
        "freshness": sorted((language, seconds, n) for (language, seconds), n in fresh.items()),
    }


def summarised(db: Path | str) -> dict[str, Any]:
    """The same figures as the Store reads them now, from the summary tables."""
    with Store(db, readonly=True) as store:
        identity = store.identity_summary()
        return {
            "articles": store.count_articles(), "stories": store.count_stories(),
            **{f"by_{by}": store.count_by(by) for by in ("day", "edition", "category")},
            "fill_rate": store.fill_rates(), "renamed": identity["renamed_articles"],
            "categories": identity["categories"], "per_day": store.articles_per_day(),
            "by_editions": store.stories_by_editions(), "mix": store.category_mix(),
            "freshness": store.freshness(),
        }


def assert_summaries_agree(db: Path | str) -> None:
    expected, got = scanned(db), summarised(db)
    assert {k: [tuple(r) for r in v] if isinstance(v, list) else v for k, v in got.items()} == expected


def undated(n: int, lang: str, **overrides: Any):
    return make_item(n, lang, published_at="", published_at_utc="", **overrides)


def test_every_kind_of_write_keeps_the_summaries_equal_to_a_scan(db, tmp_path: Path) -> None:
    with Store(db) as store:
        assert_summaries_agree(db)  # empty
        store.write([make_item(n, lang, category=("energy", "finance")[n % 2], day=f"2026-01-{20 + n % 5}")
                     for n in range(1, 13) for lang in LANGS])
        assert_summaries_agree(db)
        # Sparse articles: no date, no tags, images or links, no site_id, no words.
        store.write([undated(20, "en", tags=[], images=[], site_id=None),
                     make_item(21, "ru", word_count=0, lead="", translations=[], category_slug=""),
                     make_item(22, "az", crawled_at="2026-01-27T09:00:00Z")])  # stored before it was published
        assert_summaries_agree(db)
        # The same pages again (unchanged: only last_crawled_at moves), then edited: title, category and
        # date change, tags and images go.
        store.write([make_item(1, lang, category="finance", day="2026-01-21", crawled_at="2026-01-29T10:00:00Z")
                     for lang in LANGS])
        store.write([make_item(1, lang, title="Edited", category="finance", category_slug="energy", day="2026-01-22",
                               tags=[], images=[], crawled_at="2026-01-30T10:00:00Z") for lang in LANGS])
        assert_summaries_agree(db)
        # A slug edited: the article under a second URL.
        edited = make_item(2, "en", day="2026-01-22", title="Renamed", crawled_at="2026-01-30T11:00:00Z")
        edited["url"] = edition_url(2, "en").replace("story-2", "story-2-edited")
        edited["article_id"] = article_id(edited["url"])
        store.write([edited])
        assert_summaries_agree(db)
        # Stories that meet later: editions alone, then a link joins them (a story merge).
        store.write([linked(30, "az", ())])
        store.write([linked(30, "ru", ())])
        store.write([linked(30, "en", ("az", "ru"))])
        assert_summaries_agree(db)
        # An unknown slug learns its key from a linked edition, and earlier rows follow.
        for n, lang, links, slug in ((40, "az", (), "futbol-xeberleri"), (41, "az", ("en",), "futbol-xeberleri"),
                                     (41, "en", ("az",), "football")):
            item = linked(n, lang, links)
            item["category_slug"] = slug
            store.write([item])
        assert_summaries_agree(db)
        # A shard's articles merged in, some new, some already here, one story completed across both.
        shard = tmp_path / "shard.sqlite"
        with Store(shard) as other:
            other.write([make_item(50, lang) for lang in LANGS] + [linked(30, "en", ("az", "ru"), title="Newer",
                                                                          crawled_at="2026-02-01T10:00:00Z")])
            assert_summaries_agree(shard)
        store.merge_from(shard)
        assert_summaries_agree(db)
        assert store.count_articles() == rows(db, "SELECT count(*) FROM articles")[0][0] > 40


def test_freshness_counts_utc_timestamps_by_their_whole_seconds_on_either_backend(db) -> None:
    """What a scan counts, the triggers count: the store's own form with or without a fraction; not an
    offset, a time without a zone, or a space for the T, which pass an item's check but are no UTC time."""
    forms = ["2026-01-28T12:35:00Z", "2026-01-28T16:59:59.500Z", "2026-01-28T12:35:00+00:00", "2026-01-28T12:35:00",
             "2026-01-28 12:35:00Z", "2026-01-28T12:35:00.5Z"]
    with Store(db) as store:
        store.write([make_item(n, "en", published_at_utc=utc) for n, utc in enumerate(forms, start=1)])
        assert sum(n for _, _, n in store.freshness()) == 3
        store.write([make_item(n, "en", published_at_utc="2026-01-28T12:00:00Z", crawled_at="2026-01-29T08:00:00Z",
                               title="Edited") for n in range(1, len(forms) + 1)])
    assert_summaries_agree(db)


def test_one_upsert_that_adds_to_a_story_and_moves_an_article_into_it_counts_both(db) -> None:
    """On PostgreSQL such a statement fires the INSERT and the UPDATE triggers, each after both kinds of rows
    are written: the editions must not be counted from the articles table as either finds it."""
    with Store(db) as store:
        store.write([make_item(1, "en", story_id="S1")])
    columns = ("article_id, url, source, language, title, lead, body, word_count, published_at, published_at_utc, "
               "category, category_slug, story_id, crawled_at, content_hash, first_seen_at, last_crawled_at, "
               "revision, id")
    rows(db, f"INSERT INTO articles ({columns}) "
             "SELECT 'new-ru', 'https://report.az/ru/x/', 'report.az', 'ru', 't', 'l', 'b', 1, '', '', 'Energy', "
             "'energy', 'S2', '2026-01-28T17:00:00Z', 'h', '2026-01-28T17:00:00Z', '2026-01-28T17:00:00Z', 1, 1000 "
             "UNION ALL SELECT article_id, url, source, language, title, lead, body, word_count, published_at, "
             "published_at_utc, category, category_slug, 'S2', crawled_at, content_hash, first_seen_at, "
             "last_crawled_at, revision, 1001 "
             "FROM articles WHERE story_id = 'S1' "
             "ON CONFLICT (article_id) DO UPDATE SET story_id = excluded.story_id")
    assert rows(db, "SELECT story_id, count(*) FROM articles GROUP BY story_id") == [("S2", 2)]
    assert_summaries_agree(db)


def _store_from_before(db: Path | str, items: list) -> None:
    """A store of the version before the summaries holding `items`: on PostgreSQL a current one with
    them taken away; on SQLite a file as release 2 made it (every later version migrates it)."""
    if not is_postgres_url(db):
        make_v2_file(db, items)
        return
    with Store(db) as store:
        store.write(items)
    rows(db, "DROP TABLE summary_articles, summary_totals, summary_editions, summary_freshness, "
             "summary_story_languages")
    rows(db, "DROP FUNCTION newsbot_summarise_articles, newsbot_summarise_rows, newsbot_freshness CASCADE")
    rows(db, "UPDATE newsbot_schema SET version = 2")


def test_a_store_from_before_gets_its_summaries_built_once_on_open(db, caplog) -> None:
    _store_from_before(db, [make_item(n, lang, day=f"2026-01-{10 + n}") for n in range(1, 8) for lang in LANGS]
                       + [undated(9, "ru", tags=[])])
    with Store(db, readonly=True) as old:
        assert old.count_articles() == 22  # read as it is, without summaries
    with caplog.at_level(logging.INFO, logger="newsbot.store"):
        with Store(db) as store:
            steps = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Buil")]
            assert steps[0].startswith("Building the store's summaries, step 1 of 5") and len(steps) == 6, steps
            assert store.schema_version == store.backend.SCHEMA_VERSION
    assert summarised(db) == scanned(db)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="newsbot.store"), Store(db) as store:
        store.write([make_item(8, "en")])
    assert not [r for r in caplog.records if r.getMessage().startswith("Buil")]  # once
    assert_summaries_agree(db)


def test_a_v2_file_migrated_to_today_has_its_summaries(tmp_path: Path) -> None:
    old = tmp_path / "v2.sqlite"
    make_v2_file(old, [make_item(n, lang) for n in range(1, 5) for lang in LANGS])
    Store(old).close()
    assert_summaries_agree(old)
    assert summarised(old)["articles"] == 12


def test_the_reports_freshness_from_the_histogram_is_what_the_articles_values_give() -> None:
    """The report draws and states freshness from the summary's histogram: the same box (matplotlib's
    statistics of every article's value), median and nearest-rank 95th percentile as the values themselves."""
    import random
    import statistics

    from matplotlib import cbook

    from newsbot.commands.report import Histogram, _summary

    rng = random.Random(32)
    for size in (1, 2, 7, 400):
        values = sorted(freshness_bucket(int(rng.lognormvariate(8, 1.5)) * rng.choice((1, 1, 1, -1)))
                        for _ in range(size))
        counts = sorted(Counter(values).items())
        box, expected = Histogram(counts).box(1.0, "en"), cbook.boxplot_stats(values)[0]
        for key in ("med", "q1", "q3", "whislo", "whishi"):
            assert box[key] == expected[key], (size, key)
        assert sorted(set(box["fliers"])) == sorted(set(expected["fliers"]))
        hours = _summary([("en", seconds, n) for seconds, n in counts])
        unit, size_s = next((name, s) for name, s in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0),
                                                      ("seconds", 1.0)) if statistics.median(values) >= 2 * s
                            or name == "seconds")
        p95 = values[max(0, -(-95 * len(values) // 100) - 1)]
        assert hours == (f"median {statistics.median(values) / size_s:.1f} {unit}, "
                         f"95th percentile {p95 / size_s:.1f} {unit}")
