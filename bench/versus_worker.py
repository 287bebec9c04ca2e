"""One pass of bench.versus in a process whose `newsbot` is the version under test.

Run by path with `python -P` (nothing prepended to sys.path) and PYTHONPATH=<that version's tree>,
so `newsbot` comes from that tree, ahead of the venv's editable install (a finder appended to
sys.meta_path). Imports nothing from the project but `newsbot`; prints one JSON line.

    python -P bench/versus_worker.py JOB.json TREE [--accuracy]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    job_path, tree = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
    accuracy = "--accuracy" in sys.argv[3:]
    import newsbot
    from newsbot import loaders

    newsbot_file = Path(newsbot.__file__).resolve()
    assert newsbot_file.is_relative_to(tree), f"newsbot imported from {newsbot_file}, not from {tree}"

    job = json.loads(job_path.read_text(encoding="utf-8"))
    directory = Path(job["directory"])
    if hasattr(loaders, "extract_page") and "--article" not in sys.argv[3:]:
        api = "extract_page(body, content_type, url)"
        pages = [((directory / p["file"]).read_bytes(), p["content_type"], p["url"]) for p in job["pages"]]

        def extract(page):
            return loaders.extract_page(*page)
    else:
        # Older versions read UTF-8 bytes (a crawl handed them the page as UTF-8: see bench.versus).
        api = "extract_article(utf8_body, url)"
        pages = [((directory / p.get("utf8_file", p["file"])).read_bytes(), p["content_type"], p["url"])
                 for p in job["pages"]]

        def extract(page):
            return loaders.extract_article(page[0], page[2])

    warmup, measured = pages[:job["warmup"]], pages[job["warmup"]:]
    for page in warmup:  # imports, compiled selectors and regexes, first-use caches
        extract(page)
    started = time.process_time()  # this process's CPU: other load on the machine does not count
    for page in measured:
        extract(page)
    cpu = time.process_time() - started

    result = {"newsbot_file": str(newsbot_file), "api": api, "pages": len(measured),
              "cpu_seconds": cpu, "ms_per_page": cpu / len(measured) * 1000}
    if accuracy:  # an untimed pass: the share of pages where each field equals the ground truth
        fields, truths = job["fields"], [p["truth"] for p in job["pages"][job["warmup"]:]]
        exact = dict.fromkeys(fields, 0)
        all_exact = 0
        mismatches: dict[str, list] = {}
        for page, truth in zip(measured, truths):
            item = extract(page).item
            item = dict(item) if item is not None else {}
            equal = {f: item.get(f) == truth.get(f) for f in fields}
            for f, ok in equal.items():
                exact[f] += ok
                if not ok and len(mismatches.setdefault(f, [])) < 3:
                    mismatches[f].append({"url": page[2], "expected": repr(truth.get(f))[:300],
                                          "got": repr(item.get(f))[:300]})
            all_exact += all(equal.values())
        result["field_exact"] = {f: exact[f] / len(measured) for f in fields}
        result["all_fields_exact"] = all_exact / len(measured)
        result["mismatches"] = mismatches
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
