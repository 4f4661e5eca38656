"""A statement method returns the driver's future, which is also a coroutine.

``db.query(...)`` and the other statement methods return a ``RustFuture`` (no coroutine
of ours): ``asyncio.gather`` waits for it with no Task, and everything that takes a
coroutine takes it (``create_task``, ``TaskGroup``, ``wait_for``, ``shield``,
``timeout``, ``run_until_complete``, ``asyncio.run``). The statement is sent when the
method is called; an error in its arguments still comes out of ``await``.
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextvars
import inspect
import time

import pytest

from hyperdjango import _core
from hyperdjango.database import Database, ProgrammingError, atomic
from support.awaitables import PYGEN_NEXT, PYGEN_RETURN, has_am_send, py_iter_send

SLEEP = "SELECT pg_sleep(10)"


@pytest.fixture
async def pg(pg_url):
    db = Database(pg_url + "?max_size=1&acquire_timeout=2")
    await db.connect()
    yield db
    await db.close()


async def sleeping_statements(pg_url: str, sql: str = SLEEP) -> int:
    """How many sessions of the server run ``sql`` now."""
    watcher = Database(pg_url)
    try:
        return await watcher.query_val("SELECT count(*) FROM pg_stat_activity WHERE query = $1 AND state = 'active'", sql)
    finally:
        await watcher.close()


async def test_a_statement_method_returns_the_drivers_future_which_is_a_coroutine_and_awaitable(db):
    future = db.query_val("SELECT $1 + 1", 1)
    assert type(future) is _core.RustFuture
    assert asyncio.isfuture(future)
    assert asyncio.iscoroutine(future)
    assert isinstance(future, collections.abc.Coroutine)
    assert inspect.isawaitable(future)
    assert await future == 2


async def test_gather_waits_for_statements_without_a_task_each(db):
    created = []
    loop = asyncio.get_running_loop()
    loop.set_task_factory(lambda loop, coro, **kw: created.append(coro) or asyncio.Task(coro, loop=loop, **kw))
    try:
        assert await asyncio.gather(*(db.query_val("SELECT $1 * 2", i) for i in range(20))) == [i * 2 for i in range(20)]
    finally:
        loop.set_task_factory(None)
    assert created == []


async def test_create_task_runs_a_statement(db):
    task = asyncio.create_task(db.query_val("SELECT $1 + 1", 41))
    assert await task == 42
    assert task.done() and not task.cancelled()


async def test_a_task_group_runs_statements(db):
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(db.query_val("SELECT $1 + 0", i)) for i in range(5)]
    assert [t.result() for t in tasks] == list(range(5))


async def test_a_task_of_a_failing_statement_fails_with_its_error(db):
    task = asyncio.create_task(db.query("SELECT nothing FROM nowhere"))
    with pytest.raises(ProgrammingError):
        await task


async def test_wait_for_and_timeout_and_shield_take_a_statement(db):
    assert await asyncio.wait_for(db.query_val("SELECT 1"), timeout=10) == 1
    async with asyncio.timeout(10):
        assert await db.query_val("SELECT 2") == 2
    assert await asyncio.shield(db.query_val("SELECT 3")) == 3


def test_run_until_complete_and_asyncio_run_take_a_statement_called_outside_the_loop(sqlite_url):
    # No loop runs when the method is called: it returns a coroutine that sends the
    # statement once the loop runs it.
    db = Database(sqlite_url)
    assert asyncio.run(db.query_val("SELECT $1 + 1", 1)) == 2
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(db.query_val("SELECT $1 + 2", 1)) == 3
        assert loop.run_until_complete(db.close()) is None
    finally:
        loop.close()


def test_run_until_complete_and_create_task_take_the_future_itself(sqlite_url):
    async def started():
        db = Database(sqlite_url)
        return db, db.query_val("SELECT 7")

    loop = asyncio.new_event_loop()
    try:
        db, future = loop.run_until_complete(started())
        assert type(future) is _core.RustFuture
        assert loop.run_until_complete(future) == 7
        future = loop.run_until_complete(started())[1]

        async def in_a_task_of_its_own():
            return await asyncio.get_running_loop().create_task(future)

        assert loop.run_until_complete(in_a_task_of_its_own()) == 7
        loop.run_until_complete(db.close())
    finally:
        loop.close()


async def test_the_statement_is_sent_when_the_method_is_called(db):
    await db.execute("CREATE TABLE IF NOT EXISTS sent_at_call (x INTEGER)")
    await db.execute("DELETE FROM sent_at_call")
    future = db.execute("INSERT INTO sent_at_call VALUES (1)")  # not awaited yet
    async with asyncio.timeout(10):
        while not future.done():
            await asyncio.sleep(0.01)
    assert await db.query_val("SELECT count(*) FROM sent_at_call") == 1
    assert await future == 1
    await db.execute("DROP TABLE sent_at_call")


async def test_an_argument_error_is_raised_by_await_not_by_the_call(db):
    future = db.query_val("SELECT $1", object())  # no exception here
    with pytest.raises(Exception, match="object"):
        await future
    many = db.execute_many("SELECT $1", [(object(),)])
    with pytest.raises(Exception, match="object"):
        await many
    pipeline = db.pipeline([("SELECT $1", [object()])])
    with pytest.raises(Exception, match="object"):
        await pipeline
    # In a gather, the failing statement fails there, the others still run.
    results = await asyncio.gather(db.query_val("SELECT 1"), db.query_val("SELECT $1", object()), return_exceptions=True)
    assert results[0] == 1 and isinstance(results[1], Exception)


async def test_a_statement_started_inside_a_transaction_runs_in_it_even_when_awaited_by_a_fresh_context(db):
    await db.execute("CREATE TABLE IF NOT EXISTS tx_at_call (x INTEGER)")
    await db.execute("DELETE FROM tx_at_call")
    with pytest.raises(RuntimeError, match="roll back"):
        async with atomic(db):
            inside = db.execute("INSERT INTO tx_at_call VALUES (1)")
            # The transaction was read at the call: a Task with an empty context still runs it there.
            assert await asyncio.get_running_loop().create_task(inside, context=contextvars.Context()) == 1
            assert await db.query_val("SELECT count(*) FROM tx_at_call") == 1
            raise RuntimeError("roll back")
    assert await db.query_val("SELECT count(*) FROM tx_at_call") == 0
    await db.execute("DROP TABLE tx_at_call")


async def test_cancelling_a_task_of_a_statement_cancels_it_on_the_server(pg, pg_url):
    task = asyncio.create_task(pg.query(SLEEP))
    await asyncio.sleep(0.3)
    assert await sleeping_statements(pg_url) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    started = time.monotonic()
    assert await pg.query_val("SELECT 3") == 3  # the only connection is free again
    assert time.monotonic() - started < 5
    assert await sleeping_statements(pg_url) == 0


async def test_cancelling_a_task_before_its_first_step_cancels_its_statement(pg, pg_url):
    # The statement left at the call; the Task never ran: cancelling it throws into the
    # future, which cancels the statement.
    task = asyncio.create_task(pg.query(SLEEP))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(5):
        assert await pg.query_val("SELECT 4") == 4
    assert await sleeping_statements(pg_url) == 0


async def test_wait_for_cancels_a_statement_on_the_server_when_it_times_out(pg, pg_url):
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(pg.query(SLEEP), timeout=0.3)
    async with asyncio.timeout(5):
        assert await pg.query_val("SELECT 5") == 5
    assert await sleeping_statements(pg_url) == 0


async def test_a_shielded_statement_survives_the_cancelled_awaiter(pg):
    future = pg.query_val("SELECT pg_sleep(0.3)::text || 'done'")

    async def waiter():
        return await asyncio.shield(future)

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not future.cancelled()
    assert await future == "done"


async def test_closing_or_throwing_into_a_pending_future_cancels_it(pg, pg_url):
    closed = pg.query(SLEEP)
    closed.close()
    assert closed.cancelled()
    thrown = pg.query(SLEEP)
    with pytest.raises(ValueError, match="thrown"):
        thrown.throw(ValueError("thrown"))
    assert thrown.cancelled()
    async with asyncio.timeout(5):
        assert await pg.query_val("SELECT 6") == 6
    assert await sleeping_statements(pg_url) == 0


async def test_the_coroutine_protocol_steps_like_a_futures_await(db):
    future = db.query_val("SELECT 8")
    assert future.send(None) is future  # pending: the future to block on
    with pytest.raises(TypeError, match="non-None"):
        future.send(1)
    await asyncio.wait_for(asyncio.shield(future), 10)
    with pytest.raises(StopIteration) as stop:
        future.send(None)
    assert stop.value.value == 8
    future.close()  # done: nothing to cancel
    assert not future.cancelled()


async def test_py_iter_send_steps_the_future_through_its_send_slot_in_every_state(db):
    # `await` on 3.11 and asyncio's C Task step the future with PyIter_Send: its
    # am_send slot hands the result back without a StopIteration, and takes the same
    # step as __next__ and send() in every state.
    assert has_am_send(_core.RustFuture)
    pending = db.query_val("SELECT 8")
    assert py_iter_send(pending) == (PYGEN_NEXT, pending)  # the future to block on
    assert pending._asyncio_future_blocking
    with pytest.raises(TypeError, match="non-None"):
        py_iter_send(pending, 1)
    failed = db.query("SELECT nothing FROM nowhere")
    await asyncio.gather(pending, failed, return_exceptions=True)
    assert py_iter_send(pending) == (PYGEN_RETURN, 8)
    with pytest.raises(ProgrammingError):
        py_iter_send(failed)
    cancelled = db.query_val("SELECT 9")
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        py_iter_send(cancelled)


async def test_await_takes_each_outcome_of_the_future(db):
    assert await db.query_val("SELECT 10") == 10
    done = db.query_val("SELECT 11")
    await asyncio.gather(done)
    assert await done == 11  # done before it is awaited: no step blocks
    with pytest.raises(ProgrammingError):
        await db.query("SELECT nothing FROM nowhere")
    cancelled = db.query_val("SELECT 12")
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
