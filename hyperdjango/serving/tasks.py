"""Starting a request's coroutine: eagerly where it pays.

On Python 3.12+ the task starts eagerly (``eager_start=True``): its first step
runs at once, inside the request's context and with the task set as current,
so a view that never suspends has answered before the loop moves on, and
``asyncio.timeout``, ``TaskGroup`` and ``current_task()`` work from the first
line.

On 3.11 ``run_eagerly`` does the same by hand, for the native request path:
the coroutine's first step runs at once (``coro.send(None)`` in the request's
context), with an allocated but not yet started C Task entered as the current
task. A view that returns without suspending (most JSON and text views) never
costs a Task: no ``call_soon``, no loop iteration, no registration in
asyncio's task set. Only when it suspends does that same Task object start
(``Task.__init__``), driving the rest of the coroutine; so ``current_task()``
is one object for the whole view, and whatever captured it in the first step
(``asyncio.timeout``, ``TaskGroup``) cancels the right task later.

``start_task`` (the ASGI bridge's) keeps the C Task on 3.11: a subclass of the
pure-Python Task, the other eager option there, measured slower
(``benchmarks/task_start.py``; numbers in docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import sys
import types
from asyncio.tasks import _enter_task, _leave_task  # C functions, public in asyncio.tasks since 3.7
from collections.abc import Coroutine, Generator
from contextvars import Context
from typing import Any

EAGER = sys.version_info >= (3, 12)


def start_task(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], context: Context) -> asyncio.Task:
    """Starts ``coro`` as a task in ``context`` (eagerly where the runtime allows)."""
    if EAGER:
        return asyncio.Task(coro, loop=loop, context=context, eager_start=True)  # type: ignore[call-arg]  # Python 3.12+ only
    return loop.create_task(coro, context=context)


def run_eagerly(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None], context: Context) -> asyncio.Task | None:
    """Runs ``coro``'s first step now; returns the task running the rest, or
    None when it finished in that step.

    Must be called from a loop callback, not from inside a task (as asyncio's
    own eager start, the first step runs with its task as the current one).
    An exception escaping ``coro`` goes to the loop's exception handler, as an
    unobserved task's would; a ``CancelledError`` ends it quietly, as it ends a
    task."""
    if EAGER:
        task = asyncio.Task(coro, loop=loop, context=context, eager_start=True)  # type: ignore[call-arg]  # Python 3.12+ only
        return None if task.done() else task
    task = _new_task(asyncio.Task)  # allocated, not started: what current_task() returns in the first step
    _enter_task(loop, task)
    try:
        # ``next`` is ``coro.send(None)`` without the StopIteration a finished
        # coroutine raises (an exception object and its traceback: ~1k instructions).
        awaiting = context.run(next, coro.__await__(), _FINISHED)
        if awaiting is _FINISHED:
            return None
    except asyncio.CancelledError:
        return None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        loop.call_exception_handler({"message": "an eagerly started request coroutine raised", "exception": exc})
        return None
    finally:
        _leave_task(loop, task)
    throw = None
    if task.cancelling():  # the view cancelled its own task in the first step (``__init__`` forgets that)
        if isinstance(awaiting, asyncio.Future):
            awaiting.cancel()  # as a running task does: what it waits for is cancelled
        else:
            throw = asyncio.CancelledError()  # a bare yield: thrown in at the next step
    task.__init__(_resume(coro, awaiting, throw), loop=loop, context=context)  # type: ignore[misc]  # starting the allocated task
    return task


_new_task = asyncio.Task.__new__
_FINISHED = object()


@types.coroutine
def _resume(coro: Coroutine[Any, Any, Any], awaiting: Any, throw: BaseException | None = None) -> Generator[Any, Any, Any]:
    """The rest of ``coro`` after a first step that yielded ``awaiting``.

    The task waits on ``awaiting`` as if ``coro`` had yielded it to the task
    (a future, or None for ``asyncio.sleep(0)``); what the task throws in
    meanwhile (a cancellation), or ``throw``, goes on into ``coro``; then
    ``coro`` is driven directly (``yield from``), with no layer in between for
    its later steps."""
    try:
        yield awaiting
    except BaseException as exc:
        throw = exc
    if throw is not None:
        try:
            awaiting = coro.throw(throw)
        except StopIteration as stop:
            return stop.value
        return (yield from _resume(coro, awaiting))
    return (yield from coro)  # a native coroutine: allowed in a types.coroutine generator
