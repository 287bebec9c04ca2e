"""Extraction, this tree against an earlier commit: `python -m bench.versus --ref REF`.

    python -m bench.versus --ref 79a20de [--stories 300] [--rounds 7] [--seed 1] [--out FILE]

"Not slower than before, and no field regresses", measured against a baseline in the same run:

1. Every article page of a replica of N stories (every edition) is fetched once and saved as it
   came over HTTP: its raw bytes and its Content-Type header, with its ground truth.
2. REF is checked out in a temporary git worktree (removed at the end, also on error or Ctrl-C).
3. R rounds (default 7); in each, one fresh worker process per version (bench/versus_worker.py,
   PYTHONPATH=its tree: the repo root for HEAD, the worktree for REF; the worker asserts where
   `newsbot` came from), the order alternating from round to round. A worker extracts 20 pages
   as a warm-up, then every other saved page once, timed with time.process_time around the loop
   (CPU of that process only). A version with `newsbot.loaders.extract_page` is given
   (body, Content-Type, url), as a crawl reads the page; an older one `extract_article(bytes, url)`
   with the page as UTF-8 bytes (its own bytes when they are UTF-8, else Scrapy's decoding of them
   by header and meta, re-encoded, outside the timing: what the old crawl's document() parsed).
   In the first round each worker also compares, untimed, every item with the ground truth:
   per field of HEAD's newsbot.items.GROUND_TRUTH_FIELDS, the share of pages where it is equal.
4. Per round the ratio HEAD/REF of CPU ms per page; quoted: the median of the rounds' ratios with
   min and max, each version's median ms per page, and every field's accuracy for both, the fields
   where HEAD is lower flagged as regressions. The JSON goes to --out (default
   bench/results/versus-<ref>-<time>.json).

"HEAD" is the working tree at the repo root, uncommitted edits included: the output records
whether newsbot/ had any (`head_dirty`), before and after the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import CHILD_PREEXEC, RESULTS, ROOT, log, median, ratio, start_replica

WARMUP = 20
WORKER = Path(__file__).resolve().with_name("versus_worker.py")


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def dirty_newsbot() -> bool:
    return bool(git("status", "--porcelain", "--", "newsbot"))


def as_utf8(body: bytes, content_type: str | None, url: str) -> bytes:
    """The page as UTF-8 bytes, for versions whose extract_article reads only those."""
    try:
        body.decode("utf-8")
        return body
    except UnicodeDecodeError:
        from scrapy.http import HtmlResponse

        headers = {"Content-Type": content_type} if content_type else {}
        return HtmlResponse(url, body=body, headers=headers).text.encode("utf-8")


def save_pages(stories: int, seed: int, directory: Path) -> list[dict[str, Any]]:
    """Every article page of a replica, as served (bytes, Content-Type), with its ground truth."""
    directory.mkdir(parents=True)
    replica = start_replica(stories, seed=seed)
    try:
        pages = []
        for index, truth in enumerate(replica.ground_truth()):
            fetched = replica.get(truth["url"].removeprefix(replica.base_url))
            if fetched.status != 200:
                raise RuntimeError(f"{truth['url']}: HTTP {fetched.status}")
            page = {"file": f"{index:05d}.html", "url": truth["url"],
                    "content_type": fetched.headers.get("Content-Type"), "truth": truth}
            (directory / page["file"]).write_bytes(fetched.body)
            utf8 = as_utf8(fetched.body, page["content_type"], truth["url"])
            if utf8 is not fetched.body:
                page["utf8_file"] = f"{index:05d}.utf8.html"
                (directory / page["utf8_file"]).write_bytes(utf8)
            pages.append(page)
    finally:
        replica.stop()
    return pages


def run_worker(tree: Path, job: Path, accuracy: bool, article_only: bool) -> dict[str, Any]:
    command = ([sys.executable, "-P", str(WORKER), str(job), str(tree)] + (["--accuracy"] if accuracy else [])
               + (["--article"] if article_only else []))
    done = subprocess.run(command, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True,
                          text=True, timeout=3600, preexec_fn=CHILD_PREEXEC)
    if done.returncode:
        raise RuntimeError(f"worker for {tree} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["newsbot_file"]).is_relative_to(tree.resolve()), result["newsbot_file"]
    return result


def compare(ref: str, stories: int, rounds: int, seed: int, article_only: bool = False) -> dict[str, Any]:
    from newsbot.items import GROUND_TRUTH_FIELDS  # HEAD's fields (the venv's newsbot is this tree's)
    from tests.replica.pages import size_summary

    ref_commit = git("rev-parse", "--verify", f"{ref}^{{commit}}")
    result: dict[str, Any] = {
        "ref": ref, "ref_commit": ref_commit, "head_commit": git("rev-parse", "HEAD"),
        "head_dirty": dirty_newsbot(), "stories": stories, "seed": seed, "rounds": rounds, "warmup_pages": WARMUP,
        "cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg(),
    }
    scratch = Path(tempfile.mkdtemp(prefix="newsbot-versus-"))
    tree = scratch / "ref"
    try:
        log(f"versus: saving the article pages of a {stories}-story replica (seed {seed})")
        pages = save_pages(stories, seed, scratch / "pages")
        if len(pages) <= WARMUP:
            raise SystemExit(f"python -m bench.versus: error: {len(pages)} pages; --stories must give more than {WARMUP}")
        measured = pages[WARMUP:]
        result["pages"] = len(measured)
        result["article_page_bytes"] = size_summary([(scratch / "pages" / p["file"]).stat().st_size for p in measured])
        result["content_types"] = {t: sum(p["content_type"] == t for p in pages) for t in {p["content_type"] for p in pages}}
        result["pages_not_utf8"] = sum("utf8_file" in p for p in pages)
        job = scratch / "job.json"
        job.write_text(json.dumps({"directory": str(scratch / "pages"), "warmup": WARMUP, "pages": pages,
                                   "fields": list(GROUND_TRUTH_FIELDS)}, ensure_ascii=False), encoding="utf-8")

        log(f"versus: git worktree of {ref} ({ref_commit[:10]})")
        git("worktree", "add", "--detach", str(tree), ref_commit)
        trees = {"head": ROOT, "ref": tree}
        runs: dict[str, list[float]] = {"head": [], "ref": []}
        pairs, first_pass = [], {}
        for number in range(rounds):
            order = ("ref", "head") if number % 2 == 0 else ("head", "ref")
            this = {}
            for name in order:
                this[name] = run_worker(trees[name], job, accuracy=number == 0, article_only=article_only)
                runs[name].append(this[name]["ms_per_page"])
                first_pass.setdefault(name, this[name])
            pairs.append({"round": number + 1, "first": order[0], "head_ms": round(this["head"]["ms_per_page"], 3),
                          "ref_ms": round(this["ref"]["ms_per_page"], 3),
                          "ratio": ratio(this["head"]["ms_per_page"], this["ref"]["ms_per_page"])})
            log(f"versus: round {number + 1}/{rounds} ({order[0]} first): head {pairs[-1]['head_ms']} ms/page, "
                f"ref {pairs[-1]['ref_ms']} ms/page, head/ref {pairs[-1]['ratio']}")
    finally:
        if tree.exists():  # only this run's worktree: others' are left alone
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)

    ratios = sorted(p["ratio"] for p in pairs)
    fields = {f: {"head": round(first_pass["head"]["field_exact"][f], 4), "ref": round(first_pass["ref"]["field_exact"][f], 4)}
              for f in GROUND_TRUTH_FIELDS}
    for values in fields.values():
        values["regression"] = values["head"] < values["ref"]
    result.update({
        "head_dirty_after": dirty_newsbot(), "loadavg_at_end": os.getloadavg(),
        "api": {name: first_pass[name]["api"] for name in ("head", "ref")},
        "newsbot_file": {name: first_pass[name]["newsbot_file"] for name in ("head", "ref")},
        "pairs": pairs,
        "ratio_median": round(median(ratios), 3), "ratio_min": ratios[0], "ratio_max": ratios[-1],
        "ms_per_page": {name: round(median(values), 3) for name, values in runs.items()},
        "ms_runs": {name: [round(v, 3) for v in values] for name, values in runs.items()},
        "field_exact": fields,
        "all_fields_exact": {name: round(first_pass[name]["all_fields_exact"], 4) for name in ("head", "ref")},
        "regressions": [f for f, values in fields.items() if values["regression"]],
        "mismatches": {name: first_pass[name]["mismatches"] for name in ("head", "ref")},
    })
    result["not_slower"] = result["ratio_median"] <= 1.0
    result["no_regression"] = not result["regressions"]
    return result


def report(result: dict[str, Any]) -> str:
    lines = [f"HEAD {result['head_commit'][:10]}{' (+uncommitted newsbot/ edits)' if result['head_dirty'] else ''} "
             f"vs REF {result['ref']} ({result['ref_commit'][:10]}): {result['pages']} pages "
             f"(+{result['warmup_pages']} warm-up), {len(result['pairs'])} paired rounds, CPU ms per page",
             f"  head uses {result['api']['head']}; ref uses {result['api']['ref']}",
             "  round  first  head ms  ref ms  head/ref"]
    lines += [f"  {p['round']:>5}  {p['first']:<5}  {p['head_ms']:>7.3f}  {p['ref_ms']:>6.3f}  {p['ratio']:>8.3f}"
              for p in result["pairs"]]
    lines.append(f"  head/ref: median {result['ratio_median']:.3f} (min {result['ratio_min']:.3f}, "
                 f"max {result['ratio_max']:.3f}); median ms per page: head {result['ms_per_page']['head']:.3f}, "
                 f"ref {result['ms_per_page']['ref']:.3f}")
    lines.append(f"  {'field':<18} {'head':>8} {'ref':>8}")
    for name, values in result["field_exact"].items():
        flag = "  REGRESSION" if values["regression"] else ""
        lines.append(f"  {name:<18} {100 * values['head']:>7.2f}% {100 * values['ref']:>7.2f}%{flag}")
    lines.append(f"  {'all fields':<18} {100 * result['all_fields_exact']['head']:>7.2f}% "
                 f"{100 * result['all_fields_exact']['ref']:>7.2f}%")
    lines.append(f"  not slower (median ratio <= 1): {result['not_slower']}; "
                 f"regressions: {', '.join(result['regressions']) or 'none'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.versus", description=__doc__.split("\n")[0])
    parser.add_argument("--ref", required=True, help="the commit to compare with (e.g. the one before the change)")
    parser.add_argument("--stories", type=int, default=300, help="replica size; every edition's article page is used")
    parser.add_argument("--rounds", type=int, default=7, help="paired rounds (the standard: at least 5)")
    parser.add_argument("--seed", type=int, default=1, help="the replica's seed")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/versus-<ref>-<time>.json)")
    parser.add_argument("--article", action="store_true",
                        help="both versions through extract_article(utf8_body, url), the extraction alone, "
                             "without deciding the page's charset")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        git("rev-parse", "--verify", f"{args.ref}^{{commit}}")
    except subprocess.CalledProcessError:
        parser.error(f"--ref: {args.ref!r} is not a commit")
    out = args.out or RESULTS / f"versus-{args.ref.replace('/', '_')}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.touch()
    except OSError as error:
        parser.error(f"--out: cannot write {out}: {error.strerror}")
    if args.rounds < 5:
        log(f"versus: {args.rounds} rounds; the project's standard is the median of at least 5 pairs")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the worktree is removed on the way out
    result = compare(args.ref, args.stories, args.rounds, args.seed, args.article)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print(report(result))
    log(f"versus: results in {out}")


if __name__ == "__main__":
    main()
