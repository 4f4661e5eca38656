"""The rules of the TechEmpower Framework Benchmarks (TFB) workloads that every app of
benchmarks/run.py follows, in one place: how many rows ``?queries=`` asks for, which
rows, and the fortune added at request time."""

import random

WORLD_ROWS = 10_000
EXTRA_FORTUNE = "Additional fortune added at request time."


def query_count(raw: str | None) -> int:
    """TFB's rule for ``?queries=``: an integer clamped to 1..500; 1 when absent or not a number."""
    try:
        count = int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1
    return min(max(count, 1), 500)


def random_ids(count: int) -> list[int]:
    """``count`` random ids of the ``world`` table (repeats allowed, as in TFB)."""
    return [random.randint(1, WORLD_ROWS) for _ in range(count)]


def random_number() -> int:
    return random.randint(1, WORLD_ROWS)
