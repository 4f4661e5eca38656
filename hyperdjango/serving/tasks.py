"""Starting a request's coroutine eagerly, as a real asyncio Task.

A view that never suspends must not cost an extra trip around the event loop.
The first step of the coroutine therefore runs at once, inside the request's
context and with the task set as current (so ``asyncio.timeout``,
``TaskGroup`` and ``current_task()`` work from the first line); if the view
suspends, the task continues like any other.

Python 3.12 has this built in (``eager_start=True``). On 3.11 a subclass of the
pure-Python Task runs its first step in the constructor instead of scheduling
it; see docs/architecture.md for the measurements behind this choice.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from contextvars import Context
from typing import Any

if sys.version_info >= (3, 12):

    def start_task(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], context: Context) -> asyncio.Task:
        """Runs ``coro`` up to its first suspension now; returns its task."""
        return asyncio.Task(coro, loop=loop, context=context, eager_start=True)

else:
    from asyncio import futures as _futures
    from asyncio import tasks as _tasks

    class _EagerTask(_tasks._PyTask):  # type: ignore[name-defined,misc]
        # Mirrors _PyTask.__init__ except that the first step runs now.
        def __init__(self, coro: Coroutine[Any, Any, Any], loop: asyncio.AbstractEventLoop, context: Context) -> None:
            _futures._PyFuture.__init__(self, loop=loop)
            self._name = "hyperdjango-request"
            self._num_cancels_requested = 0
            self._must_cancel = False
            self._fut_waiter = None
            self._coro = coro
            self._context = context
            _tasks._register_task(self)
            # Called from inside another task (tests do), step as 3.12 does: swap it out.
            outer = _tasks.current_task(loop)
            if outer is not None:
                _tasks._leave_task(loop, outer)
            try:
                context.run(self._Task__step)
            finally:
                if outer is not None:
                    _tasks._enter_task(loop, outer)

    def start_task(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], context: Context) -> asyncio.Task:
        """Runs ``coro`` up to its first suspension now; returns its task."""
        return _EagerTask(coro, loop, context)
