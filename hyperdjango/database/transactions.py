"""Transactions: ``atomic()`` blocks, savepoints, on_commit."""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
from collections.abc import Callable
from typing import Any, TypeVar

from ..runtime import loop_bridge
from .connection import Database, default_database

F = TypeVar("F", bound=Callable[..., Any])

_savepoint_ids = itertools.count(1)


class TransactionState:
    """The transaction of one ``atomic()`` block tree: its connection, open
    savepoints and on-commit callbacks."""

    def __init__(self, core: Any) -> None:
        self.core = core
        self.savepoints: list[str] = []
        # (callback, the savepoints open when it was registered)
        self.on_commit: list[tuple[Callable[[], Any], tuple[str, ...]]] = []
        # Statements started for this transaction without being awaited by the
        # block (a task queue's batched enqueue): awaited before the block moves on.
        self.pending: set[asyncio.Future[Any]] = set()

    def attach(self, work: asyncio.Future[Any]) -> None:
        self.pending.add(work)
        work.add_done_callback(self.pending.discard)

    async def settle(self) -> BaseException | None:
        """Waits for attached work; returns the first exception it raised, if any."""
        failure: BaseException | None = None
        # Attached work that itself opens a savepoint must not wait for itself.
        while waiting := self.pending - {asyncio.current_task()}:
            for result in await asyncio.gather(*waiting, return_exceptions=True):
                if isinstance(result, BaseException) and failure is None:
                    failure = result
        return failure

    def add_on_commit(self, callback: Callable[[], Any]) -> None:
        self.on_commit.append((callback, tuple(self.savepoints)))

    def discard_after(self, savepoint: str) -> None:
        """Forgets callbacks registered inside a savepoint that was rolled back."""
        self.on_commit = [(cb, sps) for cb, sps in self.on_commit if savepoint not in sps]


class Atomic:
    """An ``atomic()`` block: a transaction, or a savepoint when nested.

    Used as ``async with atomic(db):`` or as a decorator on an async function.
    """

    def __init__(self, database: Database | None, isolation: str | None = None, read_only: bool = False) -> None:
        self._database = database
        self.isolation = isolation
        self.read_only = read_only
        self._frames: list[tuple[TransactionState, str | None, Any]] = []

    @property
    def database(self) -> Database:
        """The database of the block: the one given, else the default database."""
        return self._database or default_database()

    async def __aenter__(self) -> Atomic:
        db = self.database
        state = db._transaction.get()
        if state is None:
            core = await db._core.begin(loop_bridge(), self.isolation, self.read_only)
            state = TransactionState(core)
            token = db._transaction.set(state)
            self._frames.append((state, None, token))
        else:
            name = f"hyperdjango_sp_{next(_savepoint_ids)}"
            # Work attached before the savepoint belongs outside it: a rollback
            # to the savepoint must not undo it.
            if failure := await state.settle():
                raise failure
            await state.core.savepoint(loop_bridge(), name)
            state.savepoints.append(name)
            self._frames.append((state, name, None))
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        state, savepoint, token = self._frames.pop()
        bridge = loop_bridge()
        # Attached work runs inside this block: it must be done before the block
        # commits, releases or rolls back, and its failure fails the block.
        failure = await state.settle()
        if failure is not None and exc_type is None:
            exc_type = type(failure)
        else:
            failure = None
        if savepoint is not None:
            state.savepoints.remove(savepoint)
            if exc_type is None:
                await state.core.release(bridge, savepoint)
            else:
                # Only this savepoint's work is undone; the outer transaction goes on.
                await asyncio.shield(state.core.rollback_to(bridge, savepoint))
                await asyncio.shield(state.core.release(bridge, savepoint))
                state.discard_after(savepoint)
            if failure is not None:
                raise failure
            return
        db = self.database
        try:
            db._transaction.reset(token)
        except ValueError:  # exited in another context than entered (an async generator)
            db._transaction.set(None)
        if exc_type is not None:
            # Cancellation included: shielded so a second cancel cannot leave it open.
            await asyncio.shield(state.core.rollback(bridge))
            if failure is not None:
                raise failure
            return
        await state.core.commit(bridge)
        for callback, _ in state.on_commit:
            result = callback()
            if inspect.isawaitable(result):
                await result

    def __call__(self, func: F) -> F:
        if not inspect.iscoroutinefunction(func):
            raise TypeError("@atomic decorates async functions")

        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            async with Atomic(self._database, self.isolation, self.read_only):
                return await func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def atomic(database: Database | Callable[..., Any] | None = None, *, isolation: str | None = None, read_only: bool = False) -> Any:
    """A transaction block; nested blocks are savepoints.

    ``async with atomic(app.database):`` commits when the block ends normally
    and rolls back when an exception (or cancellation) leaves it. A nested
    block rolls back only its own savepoint, and the exception propagates as
    usual. Every statement of the task inside the block, raw or ORM, runs on
    the transaction's connection; tasks started inside (``asyncio.gather``)
    share it and their statements run one after another.

    Also a decorator: ``@atomic`` (default database) or ``@atomic(db)``.
    """
    if callable(database) and not isinstance(database, Database):
        return Atomic(None)(database)
    return Atomic(database, isolation, read_only)
