"""Waiting for something that happens in another task, process or server."""

from __future__ import annotations

import asyncio
import time


async def until(predicate, timeout: float = 10.0, what: str = "the condition") -> None:
    """Waits for ``predicate()`` to hold; the timeout only bounds a failing test."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        await asyncio.sleep(0.01)
