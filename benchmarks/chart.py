"""Draws docs/benchmarks-session3.svg, the chart of docs/benchmarks.md: how many times as fast
as each peer hyperdjango was in the session-3 quiet run, read from the table of
benchmarks/README.md (between its ``session3`` markers), so the chart never disagrees with it.

    python benchmarks/chart.py           # writes the SVG
    python benchmarks/chart.py --check   # exits 1 if the committed SVG differs from the table

Only rows whose ratio says "times as fast" are drawn (``1.17x``, ``5.7x faster``, ``85x
lower`` latency); costs (``1.23x the raw time``, ``+108 µs``) stay in the table. The SVG is
written by hand (no plotting library, nothing fetched), on a logarithmic axis, since the
ratios run from below 1 to 85.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "benchmarks" / "README.md"
SVG = ROOT / "docs" / "benchmarks-session3.svg"
START, END = "<!-- --8<-- [start:session3] -->", "<!-- --8<-- [end:session3] -->"

RATIO = re.compile(r"^\d+(\.\d+)?x$")
AXIS = (0.5, 100.0)  # the logarithmic axis's ends
WIDTH, LABEL_WIDTH, BAR_HEIGHT, GROUP_GAP, TOP = 940, 330, 16, 24, 40


@dataclass
class Group:
    """One row of the table: its workload and peer, and a bar per ratio."""

    title: str
    bars: list[tuple[str, float]]


def table_rows(readme: str) -> list[list[str]]:
    """The cells of each row of the session-3 table (header and rule left out)."""
    try:
        section = readme.split(START, 1)[1].split(END, 1)[0]
    except IndexError:
        raise SystemExit(f"benchmarks/chart.py: the markers {START!r} and {END!r} are missing from {README}") from None
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def _plain(text: str) -> str:
    return text.replace("`", "")


def _speedups(cell: str) -> list[float] | None:
    """The ratios of a cell that says how many times as fast, else None."""
    cell = re.sub(r"\s*\[[^\]]*\]", "", cell)  # the range of a median: [0.81–0.87]
    cell = re.sub(r"\s+(faster|lower)$", "", cell)
    parts = [part.strip() for part in cell.split(" / ")]
    if not all(RATIO.match(part) for part in parts):
        return None
    return [float(part[:-1]) for part in parts]


def _bar_labels(workload: str, against: str, count: int) -> list[str]:
    """A label per ratio: the part of the workload or the peer that has one per ratio."""
    if count == 1:
        return [""]
    for parts in (against.split(" / "), workload.split(" / ")):
        if len(parts) == count:
            return [part.strip() for part in parts]
    for word in re.split(r"[ ,]+", workload):
        if len(word.split("/")) == count:
            return word.split("/")
    return [f"#{n}" for n in range(1, count + 1)]


def groups(readme: str) -> list[Group]:
    """The chart's groups, in the table's order; ``same`` rows take the workload above them."""
    found, previous = [], ""
    for workload, against, ratio, *_ in table_rows(readme):
        workload = _plain(workload)
        if workload == "same" or workload.startswith("same,"):
            base = previous.rsplit(", ", 1)[0] if "," in workload else previous
            workload = base + workload[len("same"):]
        previous = workload
        values = _speedups(ratio)
        if values is None:
            continue
        against = _plain(against)
        labels = _bar_labels(workload, against, len(values))
        found.append(Group(f"{workload} — vs {against}", list(zip(labels, values))))
    return found


def _x(value: float) -> float:
    low, high = (math.log10(v) for v in AXIS)
    return LABEL_WIDTH + (WIDTH - LABEL_WIDTH - 60) * (math.log10(value) - low) / (high - low)


def svg(found: list[Group]) -> str:
    """The chart as an SVG document."""
    height = TOP + sum(GROUP_GAP + BAR_HEIGHT * len(g.bars) for g in found) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        'font-family="system-ui, sans-serif" font-size="12" role="img" '
        'aria-labelledby="title"><title id="title">hyperdjango against its peers, session-3 quiet run: '
        'times as fast (log scale)</title>',
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="{LABEL_WIDTH}" y="20" font-weight="bold">times as fast as the peer (logarithmic; right of 1x: hyperdjango is faster)</text>',
    ]
    for tick in (0.5, 1, 2, 5, 10, 20, 50, 100):
        x = _x(tick)
        colour, width = ("#444444", 1.5) if tick == 1 else ("#dddddd", 1)
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{height - 24}" stroke="{colour}" stroke-width="{width}"/>')
        out.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" fill="#555555">{tick:g}x</text>')
    y = TOP
    for group in found:
        y += GROUP_GAP
        out.append(f'<text x="8" y="{y - 6}" font-weight="bold">{escape(group.title)}</text>')
        for label, value in group.bars:
            colour = "#2a6b3c" if value >= 1 else "#b5542b"
            x0, x1 = _x(1), _x(value)
            left, width = min(x0, x1), abs(x1 - x0)
            out.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT - 4}" text-anchor="end">{escape(label)}</text>')
            out.append(f'<rect x="{left:.1f}" y="{y + 2}" width="{max(width, 1):.1f}" height="{BAR_HEIGHT - 4}" fill="{colour}"/>')
            out.append(f'<text x="{max(x0, x1) + 4:.1f}" y="{y + BAR_HEIGHT - 4}">{value:g}x</text>')
            y += BAR_HEIGHT
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    drawn = svg(groups(README.read_text()))
    if argv == ["--check"]:
        if not SVG.exists() or SVG.read_text() != drawn:
            print(f"{SVG.relative_to(ROOT)} is stale: run python benchmarks/chart.py", file=sys.stderr)
            return 1
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    SVG.write_text(drawn)
    print(f"wrote {SVG.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
