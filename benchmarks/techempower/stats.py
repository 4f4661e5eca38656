"""Ratios against the reference, round by round: each round runs every server back to back,
so a ratio within a round compares two servers under the same conditions of the machine;
the median over the rounds is the claim, the min–max its spread."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Ratio:
    """A case's requests/s as a multiple of the reference's: median and range over rounds."""

    median: float
    low: float
    high: float
    rounds: int

    def __str__(self) -> str:
        if self.rounds == 1:
            return f"{self.median:.2f}x"
        return f"{self.median:.2f}x ({self.low:.2f}–{self.high:.2f})"


def per_round_ratios(case: Sequence[float | None], reference: Sequence[float | None]) -> list[float]:
    """``case[i] / reference[i]`` for each round where both were measured (None: failed)."""
    return [c / r for c, r in zip(case, reference) if c is not None and r]


def ratio(case: Sequence[float | None], reference: Sequence[float | None]) -> Ratio | None:
    """The median and range of the per-round ratios; None when no round has both."""
    ratios = per_round_ratios(case, reference)
    if not ratios:
        return None
    return Ratio(statistics.median(ratios), min(ratios), max(ratios), len(ratios))


def median_rps(rounds: Sequence[float | None]) -> float | None:
    measured = [r for r in rounds if r is not None]
    return statistics.median(measured) if measured else None


def ratios_against(rps: Mapping[str, Mapping[str, Sequence[float | None]]], reference: str) -> dict[tuple[str, str], Ratio]:
    """``{(workload, case): Ratio}`` from ``rps[workload][case] = [req/s of each round]``."""
    table = {}
    for workload, cases in rps.items():
        if reference not in cases:
            continue
        for case, rounds in cases.items():
            found = ratio(rounds, cases[reference])
            if found is not None:
                table[workload, case] = found
    return table
