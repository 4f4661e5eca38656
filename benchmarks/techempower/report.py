"""What run.py writes: the results table (markdown) and chart (PNG) between the markers of
docs/benchmarks.md, and the raw numbers of every round as JSON in benchmarks/results/."""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path

from .stats import Ratio, median_rps, ratios_against

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "benchmarks.md"
CHART = ROOT / "docs" / "benchmarks-run.png"
RESULTS = ROOT / "benchmarks" / "results"
START, END = "<!-- run.py: start -->", "<!-- run.py: end -->"

Rps = Mapping[str, Mapping[str, Sequence[float | None]]]


def table(rps: Rps, cases: Sequence[str], labels: Mapping[str, str], reference: str) -> list[str]:
    """One row per workload: the reference's median req/s, then every case as a multiple of it."""
    ratios = ratios_against(rps, reference)
    lines = ["| workload | " + " | ".join(labels[c] for c in cases) + " |",
             "|---|" + "---:|" * len(cases)]
    for workload, by_case in rps.items():
        cells = []
        for case in cases:
            found = ratios.get((workload, case))
            if case == reference:
                median = median_rps(by_case.get(case, []))
                cells.append(f"{median:,.0f} req/s" if median else "failed")
            else:
                cells.append(str(found) if found else "—")
        lines.append(f"| {workload} | " + " | ".join(cells) + " |")
    return lines


def multi_worker_table(runs: Mapping[str, Sequence[Mapping[str, float]]]) -> list[str]:
    """Requests/s and server CPU per request of hyperdjango with 1 and 2 workers (json)."""
    lines = ["| hyperdjango json | req/s (median) | server CPU µs/request (median) | server cores busy | listening sockets |",
             "|---|---:|---:|---:|---:|"]
    medians = {}
    for name, rounds in runs.items():
        if not rounds:
            lines.append(f"| {name} | failed | | | |")
            continue
        rps, us, cores = (statistics.median(r[key] for r in rounds) for key in ("rps", "server_us", "server_cpu"))
        medians[name] = rps, us
        lines.append(f"| {name} | {rps:,.0f} | {us:.1f} | {cores:.2f} | {rounds[0]['listening_sockets']} |")
    if len(medians) == 2:
        (one_rps, one_us), (two_rps, two_us) = medians.values()
        lines += ["", f"workers=2 against workers=1: {two_rps / one_rps:.2f}x the requests/s (2.00x is linear), "
                      f"{two_us / one_us:.2f}x the server CPU per request (1.00x: nothing lost to sharing)."]
    return lines


def chart(rps: Rps, cases: Sequence[str], labels: Mapping[str, str], reference: str, path: Path = CHART) -> None:
    """Grouped bars: each case's median ratio to the reference per workload, min–max as whiskers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratios: dict[tuple[str, str], Ratio] = ratios_against(rps, reference)
    workloads = list(rps)
    drawn = [c for c in cases if c != reference]  # the reference is the line at 1x
    width = 0.8 / max(len(drawn), 1)
    figure, axes = plt.subplots(figsize=(10, 5.4), dpi=100)
    for i, case in enumerate(drawn):
        xs, heights, low, high = [], [], [], []
        for w, workload in enumerate(workloads):
            found = ratios.get((workload, case))
            if found:
                xs.append(w + (i - (len(drawn) - 1) / 2) * width)
                heights.append(found.median)
                low.append(found.median - found.low)
                high.append(found.high - found.median)
        axes.bar(xs, heights, width, yerr=[low, high], capsize=2, label=labels[case])
    values = [r.low for r in ratios.values()] + [r.high for r in ratios.values()] or [1.0]
    axes.set_yscale("log")
    axes.set_ylim(min(0.5, min(values) / 1.5), max(2.0, max(values) * 1.5))
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) if axes.get_ylim()[0] <= t <= axes.get_ylim()[1]]
    axes.set_yticks(ticks, [f"{t:g}x" for t in ticks])
    axes.minorticks_off()
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_xticks(range(len(workloads)), workloads)
    axes.set_ylabel(f"req/s as a multiple of {labels[reference]}")
    axes.set_title("TechEmpower workloads, one worker on one core (median of per-round ratios, min–max)", fontsize=10)
    axes.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.08), frameon=False)
    figure.tight_layout()
    figure.savefig(path, metadata={"Software": None})
    plt.close(figure)


def write_page_section(section: Sequence[str], page: Path = PAGE) -> None:
    """Replaces what is between the markers of ``page`` with ``section``."""
    text = page.read_text()
    head, found, rest = text.partition(START)
    _, found_end, tail = rest.partition(END)
    if not (found and found_end):
        raise RuntimeError(f"{page} lacks the markers {START} ... {END}")
    page.write_text(head + START + "\n" + "\n".join(section) + "\n" + END + tail)


def write_raw(name: str, data: object) -> Path:
    """The run's raw results as ``benchmarks/results/NAME.json``."""
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return path
