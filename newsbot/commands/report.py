"""scrapy report: one self-contained HTML page of charts about the store (docs/analysis.md). PNG images
keep it offline and small whatever the store holds: a JavaScript library would inline its bundle in
every report, and an SVG of hundreds of days is thousands of nodes."""

from __future__ import annotations

import argparse
import base64
import bisect
import html
import io
import itertools
import math
import sys
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from scrapy.commands import ScrapyCommand

from newsbot.commands.common import INSTALL_HINT, NewsbotCommand, usage_error
from newsbot.outcome import exit_code
from newsbot.site import LANGUAGES
from newsbot.store import StoreError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# One colour per edition, the same in every chart.
EDITION_COLOURS = {"az": "#1f77b4", "en": "#ff7f0e", "ru": "#2ca02c"}
FAILED_COLOUR, OK_COLOUR = "#d62728", "#4c72b0"
TOP_CATEGORIES = 10  # the rest of a category mix is one "other" slice
# SQLite's largest integer: the store's query takes the count as its LIMIT.
MAX_RUNS = 2**63 - 1


def _figure(height: float = 3.2, rows: int = 1) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    # Figure, not pyplot: no global state, no GUI backend, nothing left open between charts.
    figure = Figure(figsize=(9, height), dpi=100, layout="constrained")
    return figure, figure.subplots(rows, 1, sharex=True)


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _no_data(data: Any, *axes: Axes) -> bool:
    """Whether there is nothing to draw; then the axes say so."""
    for ax in () if data else axes:
        ax.text(0.5, 0.5, "No data yet", ha="center", va="center", transform=ax.transAxes, fontsize=12,
                color="grey")
        ax.set_xticks([])
        ax.set_yticks([])
    return not data


def chart_articles_per_day(rows: list[tuple[str, str, int]]) -> Figure:
    from matplotlib.ticker import MaxNLocator

    figure, ax = _figure()
    per_edition: dict[str, dict[date, int]] = {}
    for day, language, count in rows:
        try:
            per_edition.setdefault(language, {})[date.fromisoformat(day)] = count
        except ValueError:
            continue  # a malformed date is no day to plot
    if _no_data(per_edition, ax):
        return figure
    for language in sorted(per_edition):
        days = sorted(per_edition[language])
        ax.plot(days, [per_edition[language][d] for d in days], marker="o", markersize=3,
                label=language, color=EDITION_COLOURS.get(language))
    ax.set_ylabel("articles")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 1.2 articles
    ax.set_ylim(bottom=0)
    ax.legend(title="edition")
    ax.grid(alpha=0.3)
    figure.autofmt_xdate()
    return figure


def chart_stories_by_editions(rows: list[tuple[int, int]]) -> Figure:
    figure, ax = _figure(2.6)
    if _no_data(rows, ax):
        return figure
    editions, stories = zip(*rows)
    bars = ax.bar([str(e) for e in editions], stories, color=OK_COLOUR)
    ax.bar_label(bars)
    ax.set_xlabel("editions stored")
    ax.set_ylabel("stories")
    return figure


def chart_category_mix(rows: list[tuple[str, str, int]]) -> Figure:
    figure, ax = _figure(2.8)
    if _no_data(rows, ax):
        return figure
    totals: dict[str, int] = {}
    for _, slug, count in rows:
        totals[slug or "(none)"] = totals.get(slug or "(none)", 0) + count
    top = sorted(totals, key=lambda s: (-totals[s], s))[:TOP_CATEGORIES]
    categories = [*top, "other"]
    editions = sorted({language for language, _, _ in rows})
    shares = {language: dict.fromkeys(categories, 0) for language in editions}
    for language, slug, count in rows:
        slug = slug or "(none)"
        shares[language][slug if slug in top else "other"] += count
    from matplotlib import colormaps
    from matplotlib.ticker import PercentFormatter

    cmap = colormaps["tab20"]
    left = [0.0] * len(editions)
    for index, category in enumerate(categories):
        values = [shares[language][category] / (sum(shares[language].values()) or 1) for language in editions]
        if not any(values):
            continue
        ax.barh(editions, values, left=left, label=category, color=cmap(index % 20))
        left = [a + b for a, b in zip(left, values)]
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.invert_yaxis()
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, title="category")
    return figure


def failed(run: dict[str, Any]) -> bool:
    """A run that broke (exit status 1) or never recorded its end (killed, or still running)."""
    return run["finish_reason"] is None or exit_code(run["finish_reason"]) != 0


def chart_runs(runs: list[dict[str, Any]]) -> Figure:
    from matplotlib.ticker import MaxNLocator

    figure, (top, bottom) = _figure(4.6, rows=2)
    if _no_data(runs, top, bottom):
        return figure
    labels = [f"#{r['run_id']}\n{(r['started_at'] or '')[:16].replace('T', ' ')}" for r in runs]
    positions = range(len(runs))
    colours = [FAILED_COLOUR if failed(r) else OK_COLOUR for r in runs]
    longest = max((r["seconds"] or 0) for r in runs)
    unit, size = ("min", 60.0) if longest >= 120 else ("s", 1.0)  # a quick replica crawl is seconds
    durations = [(r["seconds"] or 0) / size for r in runs]
    top.bar(positions, durations, color=colours)
    top.set_ylabel(f"duration ({unit})")
    top.set_ylim(0, (max(durations) or 1) * 1.2)  # room above the bars for the failure labels
    for position, run, duration in zip(positions, runs, durations):
        if failed(run):
            top.annotate(run["finish_reason"] or "no end recorded", (position, duration),
                         textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7, color=FAILED_COLOUR)
    new = [r["items_new"] or 0 for r in runs]
    bottom.bar(positions, new, label="new", color="#55a868")
    bottom.bar(positions, [r["items_updated"] or 0 for r in runs], bottom=new, label="updated", color="#dd8452")
    bottom.set_ylabel("items")
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.legend(fontsize=8)
    step = max(1, len(runs) // 12)  # at most ~12 labels, however many runs
    bottom.set_xticks(list(positions)[::step], labels[::step], fontsize=7)
    return figure


def chart_fill_rates(rates: dict[str, float]) -> Figure:
    from matplotlib.ticker import PercentFormatter

    figure, ax = _figure(4.2)
    if _no_data(rates, ax):
        return figure
    fields = list(rates)[::-1]
    bars = ax.barh(fields, [rates[f] for f in fields], color=[FAILED_COLOUR if rates[f] < 0.5 else OK_COLOUR
                                                               for f in fields])
    ax.bar_label(bars, labels=[f"{rates[f]:.0%}" for f in fields], fontsize=7, padding=2)
    ax.set_xlim(0, 1.08)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    return figure


class Histogram:
    """Sorted values with how many articles have each (the store's freshness summary): the order
    statistics of the articles it counts, without a value per article."""

    def __init__(self, counts: list[tuple[int, int]]) -> None:
        self.values = [value for value, _ in counts]
        self.ends = list(itertools.accumulate(count for _, count in counts))  # cumulative counts
        self.total = self.ends[-1] if self.ends else 0

    def at(self, rank: int) -> int:
        """The rank-th smallest article's value (0-based)."""
        return self.values[bisect.bisect_right(self.ends, rank)]

    def median(self) -> float:
        return (self.at((self.total - 1) // 2) + self.at(self.total // 2)) / 2

    def percentile(self, q: float) -> float:
        """numpy's default percentile (linear between the closest ranks), as matplotlib's boxplot takes."""
        position = q / 100 * (self.total - 1)
        low, high = self.at(math.floor(position)), self.at(math.ceil(position))
        return low + (high - low) * (position - math.floor(position))

    def nearest_rank(self, q: float) -> int:
        return self.at(max(0, -(-q * self.total // 100) - 1))

    def box(self, size: float, label: str) -> dict[str, Any]:
        """matplotlib's boxplot statistics (whiskers at 1.5 IQR, fliers beyond), in units of `size`."""
        q1, q3 = self.percentile(25), self.percentile(75)
        low, high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        inside = [v for v in self.values if low <= v <= high]
        return {"label": label, "med": self.median() / size, "q1": q1 / size, "q3": q3 / size,
                "whislo": min(inside) / size, "whishi": max(inside) / size,
                "fliers": [v / size for v in self.values if not low <= v <= high]}


def _histograms(rows: list[tuple[str, int, int]]) -> dict[str, Histogram]:
    per_edition: dict[str, list[tuple[int, int]]] = {}
    for language, seconds, articles in rows:
        per_edition.setdefault(language, []).append((seconds, articles))
    return {language: Histogram(counts) for language, counts in sorted(per_edition.items())}


def _everything(rows: list[tuple[str, int, int]]) -> Histogram:
    counts: dict[int, int] = {}
    for _, seconds, articles in rows:
        counts[seconds] = counts.get(seconds, 0) + articles
    return Histogram(sorted(counts.items()))


def _unit(everything: Histogram) -> tuple[str, float]:
    median = everything.median()
    for name, size in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if median >= 2 * size:
            return name, size
    return "seconds", 1.0


def chart_freshness(rows: list[tuple[str, int, int]]) -> Figure:
    """rows: the store's freshness (edition, seconds, articles)."""
    figure, ax = _figure(2.8)
    per_edition = _histograms(rows)
    if _no_data(per_edition, ax):
        return figure
    unit, size = _unit(_everything(rows))
    ax.bxp([histogram.box(size, language) for language, histogram in per_edition.items()],
           orientation="horizontal", showfliers=True)
    ax.set_xlabel(f"publication to first stored ({unit})")
    ax.grid(alpha=0.3, axis="x")
    return figure


def _summary(rows: list[tuple[str, int, int]]) -> str:
    everything = _everything(rows)
    if not everything.total:
        return "no dated articles"
    unit, size = _unit(everything)
    return (f"median {everything.median() / size:.1f} {unit}, "
            f"95th percentile {everything.nearest_rank(95) / size:.1f} {unit}")


def render(data: dict[str, Any]) -> str:
    """The report page: every chart inline, no script, no stylesheet or font fetched."""
    charts = [
        ("Articles per day per edition", "Baku publication day; undated articles left out.",
         chart_articles_per_day(data["per_day"])),
        ("Stories by number of editions", "How many of az, en and ru each story has in the store.",
         chart_stories_by_editions(data["by_editions"])),
        ("Category mix per edition", f"Share of each edition's articles; the top {TOP_CATEGORIES} categories.",
         chart_category_mix(data["categories"])),
        ("Crawl runs", "Duration and new / updated items per run; red: broken (exit 1) or never finished, "
         "labelled with the finish reason.", chart_runs(data["runs"])),
        ("Field fill rates", "Share of stored articles where each field is non-empty; red below 50%.",
         chart_fill_rates(data["fill_rates"])),
        ("Freshness", "Time from publication to the crawl that first stored the article: "
         + _summary(data["freshness"]) + ".",
         chart_freshness(data["freshness"])),
    ]
    figures = "\n".join(
        f'<figure><h2>{html.escape(title)}</h2><img alt="{html.escape(title)}" '
        f'src="data:image/png;base64,{_png(figure)}"><figcaption>{html.escape(caption)}</figcaption></figure>'
        for title, caption, figure in charts)
    rows = "\n".join(
        f"<tr{' class=failed' if failed(r) else ''}><td>{r['run_id']}</td><td>{html.escape(r['spider'])}</td>"
        f"<td>{html.escape(r['started_at'] or '')}</td><td>{html.escape(r['finish_reason'] or '(no end recorded)')}</td>"
        f"<td>{r['items_new'] or 0}</td><td>{r['items_updated'] or 0}</td><td>{r['errors'] or 0}</td></tr>"
        for r in reversed(data["runs"][-10:]))
    editions = ", ".join(f"{language} {count}" for language, count in data["by_edition"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsbot report: {html.escape(data['database'])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 960px; color: #222; }}
figure {{ margin: 2rem 0; }} figure img {{ max-width: 100%; }} figcaption {{ color: #555; font-size: .9rem; }}
h2 {{ font-size: 1.1rem; margin: 0 0 .5rem; }} table {{ border-collapse: collapse; font-size: .85rem; }}
td, th {{ border: 1px solid #ccc; padding: .2rem .5rem; }} tr.failed td {{ color: {FAILED_COLOUR}; }}
</style></head><body>
<h1>newsbot report</h1>
<p>{data['articles']} articles in {data['stories']} stories ({html.escape(editions or 'no editions')}),
{len(data['runs'])} crawl runs shown. Store <code>{html.escape(data['database'])}</code>,
made {html.escape(data['generated_at'])}.</p>
{figures}
<h2>Last crawl runs</h2>
<table><tr><th>run</th><th>spider</th><th>started (UTC)</th><th>finish reason</th><th>new</th><th>updated</th>
<th>error lines</th></tr>
{rows}
</table>
</body></html>
"""


class Command(NewsbotCommand, ScrapyCommand):
    usage = "[-o report.html] [--db PATH] [--runs N]"
    summary = "Write a self-contained HTML page of charts about the store"
    description = ("Write one HTML page, with every chart inline (no script, nothing fetched: it works offline), "
                   "about the store (NEWSBOT_DB, or --db: SQLite or PostgreSQL): articles per day per edition, "
                   "stories by "
                   "number of editions, category mix per edition, crawl runs (duration, new and updated items, "
                   "failures marked), field fill rates, and freshness (publication to first stored). "
                   f"Needs matplotlib: {INSTALL_HINT}.")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", default="report.html",
                            help="the page to write (default: report.html)")
        parser.add_argument("--runs", type=int, default=100, metavar="N", help="crawl runs shown (default: 100)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not 1 <= opts.runs <= MAX_RUNS:
            usage_error("report", f"--runs: must be from 1 to {MAX_RUNS}, not {opts.runs}")
        self.check_output(opts.output)
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            usage_error("report", f"matplotlib is not installed: {INSTALL_HINT}")
        _, path = self.store_config(opts)
        try:
            with self.read_store(path) as store:
                data = {
                    "database": store.name,
                    "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    "articles": store.count_articles(),
                    "stories": store.count_stories(),
                    "by_edition": [(k, v) for k, v in store.count_by("edition") if k in LANGUAGES or v],
                    "per_day": store.articles_per_day(),
                    "by_editions": store.stories_by_editions(),
                    "categories": store.category_mix(),
                    "runs": store.run_history(opts.runs),
                    "fill_rates": store.fill_rates(),
                    "freshness": store.freshness(),
                }
        except StoreError as exc:
            self.fail(str(exc))
            return
        page = render(data)
        try:
            with open(opts.output, "w", encoding="utf-8") as out:
                out.write(page)
        except OSError as exc:
            self.cannot_write(f"-o {opts.output}", exc)
        print(f"Wrote {opts.output} ({len(page) // 1024} KB, {data['articles']} articles)", file=sys.stderr)
