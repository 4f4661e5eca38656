"""Waiting for something that happens in another task, process or server."""

from __future__ import annotations

import asyncio
import inspect
import time


async def until(predicate, timeout: float = 10.0, what: str = "the condition") -> None:
    """Waits for ``predicate()`` (sync, or async: awaited) to hold; the timeout
    only bounds a failing test."""
    deadline = time.monotonic() + timeout
    while not await _holds(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        await asyncio.sleep(0.01)


async def _holds(predicate) -> bool:
    result = predicate()
    if inspect.isawaitable(result):
        result = await result
    return bool(result)
