"""`scrapy export` and `scrapy stats`, run as a user runs them, against a store filled through Store."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from newsbot.store import EXPORT_FIELDS, ITEM_FIELDS, SCHEMA_VERSION, Store
from tests.test_store import corrupt_in_the_middle, make_item, make_v2_file

ROOT = Path(__file__).resolve().parent.parent


def scrapy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("scrapy")), *args], cwd=ROOT, capture_output=True,
                          text=True, encoding="utf-8", timeout=120, env={**os.environ, "LANG": "C"})


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> tuple[Path, list[dict]]:
    """Six articles: three editions of story 1, story 2 in en and ru (finance), and an undated az one."""
    items = [
        make_item(1, "az", day="2026-01-27", title="SOCAR Çin şirkəti ilə"),
        make_item(1, "en", day="2026-01-27"),
        make_item(1, "ru", day="2026-01-27", title="SOCAR и китайская компания"),
        make_item(2, "en", day="2026-01-28", category="finance", tags=[]),
        make_item(2, "ru", day="2026-01-28", category="finance", images=[]),
        make_item(3, "az", published_at="", published_at_utc="", translations=[], site_id=None),
    ]
    path = tmp_path_factory.mktemp("commands") / "news.sqlite"
    with Store(path) as store:
        store.write(items)
    return path, [dict(i) for i in items]


def export_jsonl(*args: str) -> list[dict]:
    result = scrapy("export", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_export_writes_every_article_in_the_items_shape(filled):
    path, items = filled
    exported = export_jsonl("--db", str(path))
    assert len(exported) == len(items)
    assert all(list(record) == list(EXPORT_FIELDS) for record in exported)
    # The item's fields, and the Baku day of its publication ('' without a date).
    assert sorted(exported, key=lambda r: r["url"]) == sorted(
        ({**i, "published_date": i["published_at"][:10]} for i in items), key=lambda r: r["url"])
    # Oldest first; the undated article before the dated ones.
    assert [r["published_at"][:10] for r in exported] == ["", "2026-01-27", "2026-01-27", "2026-01-27",
                                                         "2026-01-28", "2026-01-28"]
    # The database can also come from the setting, as for a crawl.
    assert export_jsonl("-s", f"NEWSBOT_DB={path}") == exported


def test_export_filters(filled):
    path, items = filled
    urls = lambda records: sorted(r["url"] for r in records)  # noqa: E731
    by = lambda test: sorted(i["url"] for i in items if test(i))  # noqa: E731
    assert urls(export_jsonl("--db", str(path), "--lang", "en,ru")) == by(lambda i: i["language"] in ("en", "ru"))
    assert urls(export_jsonl("--db", str(path), "--category", "finance")) == by(
        lambda i: i["category_slug"] == "finance")
    story = items[0]["story_id"]
    assert urls(export_jsonl("--db", str(path), "--story", story)) == by(lambda i: i["story_id"] == story)
    assert urls(export_jsonl("--db", str(path), "--since", "2026-01-28")) == by(
        lambda i: i["published_at"][:10] == "2026-01-28")
    assert urls(export_jsonl("--db", str(path), "--until", "2026-01-27")) == by(
        lambda i: i["published_at"][:10] == "2026-01-27")
    assert urls(export_jsonl("--db", str(path), "--since", "2026-01-27", "--until", "2026-01-27",
                             "--lang", "ru")) == [items[2]["url"]]
    assert export_jsonl("--db", str(path), "--since", "2026-02-01") == []


def test_export_csv_to_a_file(filled, tmp_path):
    path, items = filled
    out = tmp_path / "articles.csv"
    result = scrapy("export", "--db", str(path), "-o", str(out), "--lang", "az")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and f"Exported 2 articles to {out}" in result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert list(rows[0]) == list(EXPORT_FIELDS)
    by_url = {r["url"]: r for r in rows}
    first = by_url[items[0]["url"]]
    assert first["title"] == "SOCAR Çin şirkəti ilə"
    assert first["tags"] == "SOCAR | tag-1"
    assert first["images"] == "https://report.az/uploads/1.jpg"
    assert first["translations"] == f"{items[1]['url']} | {items[2]['url']}"
    assert first["word_count"] == str(items[0]["word_count"])
    assert first["site_id"] == str(items[0]["site_id"])
    assert first["published_date"] == items[0]["published_at"][:10] != ""
    assert by_url[items[5]["url"]]["translations"] == by_url[items[5]["url"]]["site_id"] == ""
    # --format wins over the file name.
    assert scrapy("export", "--db", str(path), "--format", "csv").stdout.startswith(",".join(EXPORT_FIELDS))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_export_keeps_a_title_or_tag_from_running_as_a_formula(tmp_path, start):
    path = tmp_path / "news.sqlite"
    title, tag = f'{start}HYPERLINK("http://evil.test","click")', f"{start}cmd|' /C calc'!A0"
    with Store(path) as store:
        store.write([make_item(1, "en", title=title, tags=[tag])])
    out = tmp_path / "articles.csv"
    assert scrapy("export", "--db", str(path), "-o", str(out)).returncode == 0
    row = next(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    assert row["title"] == "'" + title and row["tags"] == "'" + tag
    # JSON Lines stays exact.
    assert json.loads(scrapy("export", "--db", str(path)).stdout)["title"] == title


def test_export_fails_clearly(filled, tmp_path):
    path, _ = filled
    missing = scrapy("export", "--db", str(tmp_path / "nope.sqlite"))
    assert missing.returncode == 1 and "No newsbot database at" in missing.stderr
    bad_lang = scrapy("export", "--db", str(path), "--lang", "en,de")
    assert bad_lang.returncode == 2 and "unknown edition(s) de" in bad_lang.stderr
    bad_date = scrapy("export", "--db", str(path), "--since", "28.01.2026")
    assert bad_date.returncode == 2 and "not a date (YYYY-MM-DD)" in bad_date.stderr


def test_commands_on_a_store_corrupt_in_the_middle_say_so_in_one_line(tmp_path):
    path = tmp_path / "news.sqlite"
    corrupt_in_the_middle(path)
    # stats and the report read the summary tables only, not the damaged article pages.
    for command in (["stats"], ["report", "-o", str(tmp_path / "report.html")]):
        assert scrapy(*command, "--db", str(path)).returncode == 0
    for command in (["export"], ["export", "-o", str(tmp_path / "out.csv")]):
        done = scrapy(*command, "--db", str(path))
        assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, (command, done.stderr)
        assert re.fullmatch(rf"{command[0]}: {re.escape(str(path))} is corrupt \(.+\): restore it "
                            r"from a backup, .*\n", done.stderr), (command, done.stderr)


@pytest.mark.parametrize("output_format", ["jsonl", "csv"])
def test_export_to_a_full_disk_is_one_line_and_fails(filled, output_format):
    path, _ = filled
    done = scrapy("export", "--db", str(path), "-o", "/dev/full", "--format", output_format)
    assert done.returncode == 1 and done.stderr.splitlines() == [
        "export: -o /dev/full: cannot write it (No space left on device)"], done.stderr


def test_stats_as_json(filled):
    path, items = filled
    result = scrapy("stats", "--db", str(path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["articles"], report["stories"], report["schema_version"]) == (6, 3, SCHEMA_VERSION)
    assert report["by_day"] == {"": 1, "2026-01-27": 3, "2026-01-28": 2}
    assert report["by_edition"] == {"az": 2, "en": 2, "ru": 2}
    assert report["by_category"] == {"energy": 4, "finance": 2}
    fill = report["fill_rate"]
    assert list(fill) == list(ITEM_FIELDS)
    assert fill["url"] == fill["body"] == fill["story_id"] == 1.0
    assert fill["published_at"] == fill["published_at_utc"] == pytest.approx(5 / 6)
    assert fill["tags"] == fill["images"] == fill["translations"] == fill["site_id"] == pytest.approx(5 / 6)
    only = json.loads(scrapy("stats", "--db", str(path), "--json", "--by", "edition").stdout)
    assert "by_edition" in only and "by_day" not in only and "by_category" not in only


def test_stats_as_tables(filled):
    path, _ = filled
    result = scrapy("stats", "--db", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"6 articles in 3 stories ({path}, schema version {SCHEMA_VERSION})"
    text = result.stdout
    assert "Per edition\nedition  articles\naz              2\nen              2\nru              2\n" in text
    assert "Per category\ncategory  articles\nenergy           4\nfinance          2\n" in text
    assert "(none)             1" in text  # the undated article's day
    assert "published_at       83.3%" in text and "url               100.0%" in text
    by_day = scrapy("stats", "--db", str(path), "--by", "day").stdout
    assert "Per publication day (Baku)" in by_day and "Per edition" not in by_day
    assert scrapy("stats", "--db", str(path / "nope")).returncode == 1


def test_merge_takes_a_v2_shard_and_a_v3_shard(tmp_path):
    v2, v3, target = tmp_path / "v2.sqlite", tmp_path / "v3.sqlite", tmp_path / "merged" / "news.sqlite"
    old, new = make_item(1, "az"), make_item(2, "ru")
    make_v2_file(v2, [old])
    with Store(v3) as store:
        store.write([new, make_item(3, "en", site_id=None)])
    result = scrapy("merge", str(v2), str(v3), "--db", str(target))
    assert result.returncode == 0, result.stderr
    assert f"{v2}: 1 added, 0 updated, 0 unchanged" in result.stdout
    assert f"{v3}: 2 added, 0 updated, 0 unchanged" in result.stdout
    exported = export_jsonl("--db", str(target))
    assert {r["url"]: r["site_id"] for r in exported} == {old["url"]: None, new["url"]: new["site_id"],
                                                          make_item(3, "en")["url"]: None}
    assert [{f: r[f] for f in ITEM_FIELDS} for r in exported if r["url"] == new["url"]] == [dict(new)]


def test_stats_lists_learned_and_unknown_category_slugs(tmp_path):
    from tests.test_identity import linked

    def slug(item, value):
        item["category_slug"] = value
        return item

    path = tmp_path / "news.sqlite"
    with Store(path) as store:
        store.write([slug(linked(6, "az", ("en",)), "futbol-xeberleri"), slug(linked(6, "en", ("az",)), "football"),
                     slug(linked(7, "az", ()), "ask")])
    report = json.loads(scrapy("stats", "--db", str(path), "--json").stdout)
    assert report["categories"] == {
        "learned": [{"language": "az", "slug": "futbol-xeberleri", "key": "football"}],
        # en "football" is no table's key, but it is the key the store learned: not unknown.
        "unknown": [{"language": "az", "slug": "ask", "articles": 1}]}
    text = scrapy("stats", "--db", str(path)).stdout
    assert "Category slugs learned from a linked edition\nedition/slug              key\naz/futbol-xeberleri  football" \
        in text
    assert "Category slugs no table or linked edition knows\nedition/slug  articles\naz/ask               1" in text
