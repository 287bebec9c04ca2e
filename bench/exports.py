"""Exports at full size: `scrapy export` of a whole store as Parquet, JSON Lines and CSV, timed with
its peak RSS, optionally in paired rounds against another checkout of newsbot (the code before a change).

The store: `build_store` writes N realistic articles through Store.write in batches of 2,000, as a crawl
does: stories of three editions (az, en, ru), a third of them linking their editions, 40 categories,
bodies of 2-4 KB in paragraphs, 2-6 tags, 1-3 images, some undated articles and some without a short
link. It is built once per size and kept (default directory /tmp/newsbot-bench-exports).

    python -m bench.exports [--size 100000] [--rounds 5] [--formats parquet,jsonl,csv] [--baseline DIR]

--baseline DIR: a checkout of newsbot (e.g. `git archive HEAD | tar -x -C DIR`) whose `scrapy export`
runs in the same rounds, in alternating order, against the same store; ratios are newsbot / baseline
per round (median with min and max). Each run is a fresh process: wall time includes Scrapy's start.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from bench.common import ROOT, SCRAPY, log, median, run_measured

CACHE = Path("/tmp/newsbot-bench-exports")
BATCH = 2_000
LANGUAGES = ("az", "en", "ru")
PREFIX = {"az": "", "en": "en/", "ru": "ru/"}
CATEGORIES = tuple(f"category-{n:02d}" for n in range(40))
BAKU = timezone(timedelta(hours=4))
FIRST_DAY = datetime(2023, 1, 1, 8, 0, tzinfo=BAKU)
_LETTERS = {"az": "abcçdeəfgğhxıijkqlmnoöprsştuüvyz", "en": "abcdefghijklmnopqrstuvwxyz",
            "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"}


def _vocabulary(rng: random.Random, letters: str, size: int = 5_000) -> list[str]:
    return ["".join(rng.choices(letters, k=rng.randint(2, 11))) for _ in range(size)]


def _text(rng: random.Random, words: list[str], chars: int) -> str:
    """Paragraphs of about `chars` characters in all, joined by blank lines as the item's body is."""
    paragraphs, total = [], 0
    while total < chars:
        paragraph = " ".join(rng.choices(words, k=rng.randint(40, 90))).capitalize() + "."
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs)


def _hash(item: dict[str, Any]) -> str:
    from newsbot.normalize import content_hash

    return content_hash({k: item[k] for k in ("title", "body", "category_slug", "published_at", "tags", "images",
                                              "translations")})


def articles(size: int, seed: int = 32) -> Iterator[dict[str, Any]]:
    """`size` articles in publication order, a story's editions together, as the store's items."""
    from newsbot.normalize import article_id, story_id

    rng = random.Random(seed)
    words = {lang: _vocabulary(rng, letters) for lang, letters in _LETTERS.items()}
    tags = {lang: [w.title() for w in rng.sample(words[lang], 2_000)] for lang in LANGUAGES}
    stories = -(-size // len(LANGUAGES))
    minutes = 3 * 365 * 24 * 60 / stories  # three years of news
    for n in range(size):
        story, edition = divmod(n, len(LANGUAGES))
        lang = LANGUAGES[edition]
        category = CATEGORIES[story % len(CATEGORIES)]
        urls = {other: f"https://report.az/{PREFIX[other]}{category}/story-{story}-{other}/" for other in LANGUAGES}
        linked = story % 3 == 0
        published = FIRST_DAY + timedelta(minutes=int(story * minutes))
        dated = rng.random() > 0.005
        body = _text(rng, words[lang], rng.randint(2_000, 4_000))
        item = {
            "url": urls[lang], "article_id": article_id(urls[lang]),
            "site_id": 1_000_000 + n if rng.random() > 0.02 else None, "source": "report.az", "language": lang,
            "title": " ".join(rng.choices(words[lang], k=rng.randint(6, 14))).capitalize(),
            "lead": body.split("\n\n")[0], "body": body, "word_count": len(body.split()),
            "published_at": published.isoformat() if dated else "",
            "published_at_utc": published.astimezone(timezone.utc).isoformat()[:-6] + "Z" if dated else "",
            "category": category.replace("-", " ").title(), "category_slug": category,
            "tags": rng.sample(tags[lang], rng.randint(2, 6)),
            "images": [{"url": f"https://report.az/uploads/{story}-{lang}-{i}.jpg",
                        "caption": " ".join(rng.choices(words[lang], k=rng.randint(0, 8)))}
                       for i in range(rng.randint(1, 3))],
            "translations": [{"language": other, "url": urls[other], "title": f"Story {story} ({other})"}
                             for other in LANGUAGES if other != lang] if linked else [],
            "story_id": story_id(urls.values() if linked else [urls[lang]]),
            "crawled_at": (published + timedelta(minutes=rng.randint(5, 600))).astimezone(timezone.utc)
                          .isoformat()[:-6] + "Z",
        }
        item["content_hash"] = _hash(item)
        yield item


def build_store(size: int, directory: Path = CACHE) -> Path:
    """The store of `size` articles, written through Store.write once and kept in `directory`."""
    from newsbot.store import Store

    path = directory / f"store-{size}.sqlite"
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    for leftover in directory.glob(partial.name + "*"):
        leftover.unlink()
    started = time.monotonic()
    batch: list[dict[str, Any]] = []
    with Store(partial, background_checkpoints=True) as store:
        for count, item in enumerate(articles(size), start=1):
            batch.append(item)
            if len(batch) == BATCH or count == size:
                store.write(batch)
                batch = []
                if count % 20_000 == 0 or count == size:
                    log(f"built {count} of {size} articles ({count / (time.monotonic() - started):.0f}/s)")
    partial.rename(path)  # closed: the WAL is checkpointed into the file and gone
    return path


def export_command(db: Path, output_format: str, target: Path) -> list[str]:
    return [SCRAPY, "export", "--db", str(db), "--format", output_format, "-o", str(target)]


def measure(tree: Path, db: Path, output_format: str, target: Path) -> dict[str, Any]:
    """One `scrapy export` of the whole store by the newsbot checkout at `tree`."""
    target.unlink(missing_ok=True)
    # PYTHONPATH picks the checkout: Scrapy only appends the project directory to sys.path.
    run = run_measured(export_command(db, output_format, target), env={"PYTHONPATH": str(tree)})
    if run.returncode:
        raise SystemExit(f"{tree}: scrapy export --format {output_format} failed:\n{run.stderr[-2000:]}")
    size = target.stat().st_size
    target.unlink()
    return {"wall_seconds": run.wall_seconds, "cpu_seconds": run.cpu_user + run.cpu_system,
            "peak_rss_mb": run.peak_rss_kb / 1024, "bytes": size, "stderr": run.stderr.strip().splitlines()}


def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--formats", default="parquet,jsonl,csv")
    parser.add_argument("--baseline", type=Path, metavar="DIR", help="another newsbot checkout, run in the same rounds")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the built stores are kept")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here too")
    args = parser.parse_args()
    from newsbot.store import Store

    db = build_store(args.size, args.cache)
    with Store(db, readonly=True) as store:
        count = store.count_articles()
    arms = {"newsbot": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    results: dict[str, Any] = {"articles": count, "store_bytes": db.stat().st_size, "formats": {}}
    for output_format in args.formats.split(","):
        target = args.cache / f"export.{output_format}"
        runs: dict[str, list[dict[str, Any]]] = {arm: [] for arm in arms}
        for round_ in range(args.rounds):
            order = list(arms) if round_ % 2 == 0 else list(reversed(arms))  # neither arm always goes first
            for arm in order:
                runs[arm].append(measure(arms[arm], db, output_format, target))
                log(f"{output_format} round {round_ + 1} {arm}: {runs[arm][-1]['wall_seconds']:.1f} s, "
                    f"{runs[arm][-1]['peak_rss_mb']:.0f} MB")
        figures: dict[str, Any] = {}
        for arm, measured in runs.items():
            figures[arm] = {"articles_per_second": spread([count / m["wall_seconds"] for m in measured]),
                            "wall_seconds": spread([m["wall_seconds"] for m in measured]),
                            "cpu_seconds": spread([m["cpu_seconds"] for m in measured]),
                            "peak_rss_mb": spread([m["peak_rss_mb"] for m in measured]),
                            "file_mb": round(measured[0]["bytes"] / 2**20, 1), "stderr": measured[-1]["stderr"]}
        if args.baseline:
            figures["wall_ratio"] = spread([new["wall_seconds"] / old["wall_seconds"]
                                            for new, old in zip(runs["newsbot"], runs["baseline"])])
        results["formats"][output_format] = figures
    text = json.dumps(results, indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
