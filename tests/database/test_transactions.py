"""atomic(): commit, rollback, savepoints, on_commit, cancellation, gather inside."""

from __future__ import annotations

import asyncio

import pytest

from hyperdjango.database import IntegrityError, atomic, set_default_database


@pytest.fixture
async def orders(db):
    await db.execute("DROP TABLE IF EXISTS orders")
    await db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT)")
    yield db
    await db.execute("DROP TABLE orders")


async def notes(db) -> list[str]:
    return [r["note"] for r in await db.query("SELECT note FROM orders ORDER BY id")]


async def test_a_block_that_ends_normally_commits(orders):
    async with atomic(orders):
        await orders.execute("INSERT INTO orders VALUES (1, 'kept')")
    assert await notes(orders) == ["kept"]


async def test_an_exception_rolls_everything_back(orders):
    with pytest.raises(RuntimeError):
        async with atomic(orders):
            await orders.execute("INSERT INTO orders VALUES (1, 'gone')")
            raise RuntimeError("boom")
    assert await notes(orders) == []


async def test_statements_inside_see_their_own_uncommitted_work_and_others_do_not(orders, db_url):
    from hyperdjango.database import Database

    other = Database(db_url)
    async with atomic(orders):
        await orders.execute("INSERT INTO orders VALUES (1, 'pending')")
        assert await notes(orders) == ["pending"]
        assert await notes(other) == []
    assert await notes(other) == ["pending"]
    await other.close()


async def test_the_spec_nested_block_rolls_back_only_its_savepoint(orders):
    async with atomic(orders):
        await orders.execute("INSERT INTO orders VALUES (1, 'order')")
        with pytest.raises(IntegrityError):
            async with atomic(orders):  # Creates SAVEPOINT
                await orders.execute("INSERT INTO orders VALUES (2, 'risky')")
                await orders.execute("INSERT INTO orders VALUES (1, 'duplicate')")
        await orders.execute("INSERT INTO orders VALUES (3, 'finalize')")
    assert await notes(orders) == ["order", "finalize"]


async def test_on_commit_runs_after_the_outermost_commit_only(orders):
    ran = []
    async with atomic(orders):
        orders.on_commit(lambda: ran.append("outer"))
        async with atomic(orders):
            orders.on_commit(lambda: ran.append("inner"))
        assert ran == []
    assert ran == ["outer", "inner"]


async def test_on_commit_never_runs_after_a_rollback(orders):
    ran = []
    with pytest.raises(ValueError):
        async with atomic(orders):
            orders.on_commit(lambda: ran.append("no"))
            raise ValueError
    assert ran == []


async def test_on_commit_inside_a_rolled_back_savepoint_is_dropped(orders):
    ran = []
    async with atomic(orders):
        with pytest.raises(ValueError):
            async with atomic(orders):
                orders.on_commit(lambda: ran.append("dropped"))
                raise ValueError
        orders.on_commit(lambda: ran.append("kept"))
    assert ran == ["kept"]


async def test_async_on_commit_callbacks_are_awaited(orders):
    ran = []

    async def notify():
        await asyncio.sleep(0)
        ran.append("sent")

    async with atomic(orders):
        orders.on_commit(notify)
    assert ran == ["sent"]


async def test_gather_inside_atomic_stays_in_the_transaction(orders):
    with pytest.raises(RuntimeError):
        async with atomic(orders):
            await asyncio.gather(*(orders.execute("INSERT INTO orders VALUES ($1, $2)", i, f"n{i}") for i in range(10)))
            assert len(await notes(orders)) == 10
            raise RuntimeError("roll it all back")
    assert await notes(orders) == []


async def test_cancelling_the_task_rolls_back(orders):
    started = asyncio.Event()

    async def work():
        async with atomic(orders):
            await orders.execute("INSERT INTO orders VALUES (1, 'cancelled')")
            started.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(work())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await notes(orders) == []


async def test_atomic_as_a_decorator_uses_the_default_database(orders):
    set_default_database(orders)

    @atomic
    async def create(fail: bool):
        await orders.execute("INSERT INTO orders VALUES (1, 'decorated')")
        if fail:
            raise KeyError

    with pytest.raises(KeyError):
        await create(True)
    assert await notes(orders) == []
    await create(False)
    assert await notes(orders) == ["decorated"]


async def test_transaction_with_isolation_level(orders):
    async with orders.transaction(isolation="serializable"):
        if orders.vendor == "postgresql":
            level = await orders.query_val("SHOW transaction_isolation")
            assert level == "serializable"
        await orders.execute("INSERT INTO orders VALUES (1, 'serial')")
    assert await notes(orders) == ["serial"]


async def test_unknown_isolation_level_is_refused(orders):
    with pytest.raises(ValueError, match="unknown isolation level"):
        async with orders.transaction(isolation="sometimes"):
            pass


async def test_transactions_of_concurrent_tasks_are_independent(orders):
    async def insert(i: int, fail: bool):
        async with atomic(orders):
            await orders.execute("INSERT INTO orders VALUES ($1, $2)", i, f"t{i}")
            await asyncio.sleep(0.01)
            if fail:
                raise ValueError

    results = await asyncio.gather(insert(1, False), insert(2, True), insert(3, False), return_exceptions=True)
    assert isinstance(results[1], ValueError)
    assert await notes(orders) == ["t1", "t3"]
