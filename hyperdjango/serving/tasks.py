"""Starting a request's coroutine as an asyncio Task.

On Python 3.12+ the task starts eagerly (``eager_start=True``): its first step
runs at once, inside the request's context and with the task set as current,
so a view that never suspends has answered before the loop moves on, and
``asyncio.timeout``, ``TaskGroup`` and ``current_task()`` work from the first
line.

On 3.11 the only eager option is a subclass of the pure-Python Task, and it
measured slower than the C Task (``benchmarks/task_start.py``; numbers in
docs/architecture.md): 5.9 vs 3.7 µs per instant view and 13.4 vs 5.4 µs per
view that suspends once, with uvloop. There the C Task is used; its first
step runs in the very next loop iteration, shared by the whole batch drained
in one wake-up.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from contextvars import Context
from typing import Any

EAGER = sys.version_info >= (3, 12)


def start_task(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], context: Context) -> asyncio.Task:
    """Starts ``coro`` as a task in ``context`` (eagerly where the runtime allows)."""
    if EAGER:
        return asyncio.Task(coro, loop=loop, context=context, eager_start=True)  # type: ignore[call-arg]  # Python 3.12+ only
    return loop.create_task(coro, context=context)
