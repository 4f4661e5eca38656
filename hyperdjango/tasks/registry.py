"""``Task``: a function made into a background task by ``@app.task``, and the registry of them."""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import functools
import inspect
import pathlib
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Protocol, TypeVar, overload

from . import serialization
from .errors import UnknownTask
from .jobs import Job
from .retry import RetryPolicy

if TYPE_CHECKING:
    from .handle import TaskHandle
    from .queue import TaskQueue

P = ParamSpec("P")
R = TypeVar("R")


def default_name(func: Callable[..., Any]) -> str:
    """``module.qualname``, with the module as it is imported, whatever the entry point.

    A script run as ``python app.py`` is the module ``__main__``, but ``hyper
    worker app:app`` imports it as ``app``: tasks are named after the import
    name (``app.record``; ``pkg.app.record`` for a file inside packages), so
    jobs enqueued by one find their function in the other. Give ``name=`` to
    ``@app.task`` to choose a name that survives moving the function.
    """
    module = func.__module__
    if module == "__main__":
        module = _main_import_name()
    return f"{module}.{func.__qualname__}"


def _main_import_name() -> str:
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:  # python -m pkg.app
        return str(spec.name)
    file = getattr(main, "__file__", None)
    if not file:  # an interactive session: no other process can import it anyway
        return "__main__"
    path = pathlib.Path(file).resolve()
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


class Task(Generic[P, R]):
    """A function that can run in the background.

    Made by ``@app.task`` (see :meth:`TaskQueue.task`)::

        @app.task(max_retries=3)
        async def send_welcome_email(user_id, email): ...

        handle = send_welcome_email.delay(user_id=1, email="a@example.com")  # queued, returns at once
        await send_welcome_email(user_id=1, email="a@example.com")          # runs here and now

    ``name`` (``module.qualname``, see :func:`default_name`) is how workers
    find the function, in this process or another one.

    ``Task[P, R]``: ``.delay()`` and a direct call take the function's
    parameters ``P``; awaiting a direct call gives ``R``, what the function
    returns (awaited, for an ``async def``).
    """

    def __init__(
        self,
        func: Callable[P, Awaitable[R]] | Callable[P, R],
        task_queue: TaskQueue,
        *,
        name: str | None = None,
        queue: str = "default",
        priority: int = 0,
        max_retries: int = 0,
        retry_backoff: float = 2.0,
        retry_jitter: bool = True,
        timeout: float | None = None,
    ) -> None:
        functools.update_wrapper(self, func)
        self.func: Callable[..., Any] = func
        self.task_queue = task_queue
        self.name = name or default_name(func)
        self.queue = queue
        self.priority = priority
        self.retry = RetryPolicy(max_retries, retry_backoff, retry_jitter)
        self.timeout = timeout
        self.is_async = inspect.iscoroutinefunction(func)

    def __repr__(self) -> str:
        return f"<Task {self.name} queue={self.queue!r}>"

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Runs the task inline and returns its result (no queue, no retries,
        no serialisation): the spec's "calling tasks directly"."""
        result: R = await self.run(args, kwargs, timeout=None)
        return result

    async def run(self, args: Any, kwargs: dict[str, Any], timeout: float | None) -> Any:
        """One attempt: awaits an async function, or runs a plain one in the
        loop's default executor (a thread pool) so the loop keeps serving."""
        if self.is_async:
            call = self.func(*args, **kwargs)
        else:
            loop = asyncio.get_running_loop()
            context = contextvars.copy_context()
            call = loop.run_in_executor(None, functools.partial(context.run, self.func, *args, **kwargs))
        if timeout is None:
            return await call
        # A plain function past its timeout keeps its thread until it returns:
        # threads cannot be stopped. The job is failed at the timeout all the same.
        try:
            async with asyncio.timeout(timeout) as deadline:
                return await call
        except TimeoutError:
            if deadline.expired():
                raise TimeoutError(f"task {self.name} took longer than its timeout of {timeout}s") from None
            raise

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> TaskHandle:
        """Enqueues a call and returns its :class:`TaskHandle` at once.

        Raises :class:`SerializationError` for an argument that is not JSON and
        :class:`QueueFull` when the in-process queue is full. Inside
        ``atomic(app.database)`` the job is part of the transaction.
        """
        return self.apply_async(args, kwargs)

    def apply_async(
        self,
        args: Any = (),
        kwargs: dict[str, Any] | None = None,
        *,
        countdown: float | None = None,
        eta: datetime.datetime | None = None,
        priority: int | None = None,
        queue: str | None = None,
    ) -> TaskHandle:
        """Enqueues with options: run no sooner than ``countdown`` seconds from now
        or than ``eta`` (an aware datetime, or naive in local time); a ``priority``
        (higher runs first) or ``queue`` other than the task's."""
        if countdown is not None and eta is not None:
            raise ValueError("give countdown or eta, not both")
        now = time.time()
        run_at = now
        if countdown is not None:
            run_at = now + countdown
        elif eta is not None:
            run_at = eta.timestamp()
        job = Job(
            task=self.name,
            payload=serialization.dumps_call(tuple(args), dict(kwargs or {})),
            queue=queue or self.queue,
            priority=self.priority if priority is None else priority,
            run_at=run_at,
            max_retries=self.retry.max_retries,
            created_at=now,
        )
        return self.task_queue.submit(job)


class TaskDecorator(Protocol):
    """What ``@app.task(...)`` with options returns: it makes a :class:`Task` of a function."""

    @overload
    def __call__(self, func: Callable[P, Awaitable[R]], /) -> Task[P, R]: ...
    @overload
    def __call__(self, func: Callable[P, R], /) -> Task[P, R]: ...


class TaskRegistry:
    """Tasks by name."""

    def __init__(self) -> None:
        self._tasks: dict[str, Task[..., Any]] = {}

    def add(self, task: Task[..., Any]) -> None:
        """Registers ``task``; two different functions may not share a name."""
        existing = self._tasks.get(task.name)
        if existing is not None and existing.func is not task.func:
            raise ValueError(f"two tasks are named {task.name!r}: give one of them name=...")
        self._tasks[task.name] = task

    def get(self, name: str) -> Task[..., Any]:
        """The task called ``name``; :class:`UnknownTask` if there is none."""
        try:
            return self._tasks[name]
        except KeyError:
            raise UnknownTask(f"no task named {name!r} in this app (is the module that defines it imported?)") from None

    def __contains__(self, name: str) -> bool:
        return name in self._tasks

    def __iter__(self) -> Iterator[Task[..., Any]]:
        return iter(self._tasks.values())
