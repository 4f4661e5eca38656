"""PostgreSQL connection handling: pool limits, timeouts, cancellation, lost connections."""

from __future__ import annotations

import asyncio
import contextvars
import time

import pytest

from hyperdjango.database import Database, OperationalError, PoolTimeout, atomic


@pytest.fixture
async def small_pool(pg_url):
    db = Database(pg_url + "?max_size=1&acquire_timeout=0.5")
    await db.connect()
    yield db
    await db.close()


async def test_many_concurrent_queries_share_one_connection(small_pool):
    values = await asyncio.gather(*(small_pool.query_val("SELECT $1::int", i) for i in range(40)))
    assert values == list(range(40))


async def test_pool_exhaustion_is_a_pool_timeout_within_the_timeout(small_pool):
    async with atomic(small_pool):
        # The only connection is pinned by this transaction; a statement outside it must wait.
        started = time.monotonic()

        async def outside():
            # A fresh context: not inside the transaction above.
            return await small_pool.query_val("SELECT 1")

        with pytest.raises(PoolTimeout):
            await asyncio.get_running_loop().create_task(outside(), context=contextvars.Context())
        assert time.monotonic() - started < 5
    assert await small_pool.query_val("SELECT 2") == 2


async def test_cancelling_a_query_cancels_it_on_the_server(small_pool, pg_url):
    task = asyncio.create_task(small_pool.query("SELECT pg_sleep(10)"))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The single connection is free again long before the 10 s sleep would end.
    started = time.monotonic()
    assert await small_pool.query_val("SELECT 3") == 3
    assert time.monotonic() - started < 5
    watcher = Database(pg_url)
    sleeping = await watcher.query_val("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(10)' AND state = 'active'")
    await watcher.close()
    assert sleeping == 0


async def test_cancelling_one_running_statement_of_a_batch_cancels_only_it_on_the_server(small_pool, pg_url):
    # Statements started in one loop iteration run in one engine task, each in place (no
    # task of its own): cancelling one while the server runs it must still cancel it there,
    # and the others of the batch, pipelined behind it on the only connection, still finish.
    sleeper = asyncio.create_task(small_pool.query_val("SELECT pg_sleep(60)"))
    others = [asyncio.create_task(small_pool.query_val("SELECT $1::int", i)) for i in range(5)]
    await asyncio.sleep(0.3)
    sleeper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeper
    async with asyncio.timeout(30):  # without the server-side cancel they wait for the 60 s sleep
        assert await asyncio.gather(*others) == list(range(5))
    watcher = Database(pg_url)
    sleeping = await watcher.query_val("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'")
    await watcher.close()
    assert sleeping == 0


async def test_statement_timeout_is_an_operational_error(pg_url):
    db = Database(pg_url + "?statement_timeout=200")
    with pytest.raises(OperationalError) as info:
        await db.query("SELECT pg_sleep(5)")
    assert info.value.sqlstate == "57014"
    assert await db.query_val("SELECT 1") == 1
    await db.close()


async def test_the_pool_recovers_after_its_connections_are_killed(pg_url):
    db = Database(pg_url + "?max_size=2&acquire_timeout=2")
    await asyncio.gather(*(db.query_val("SELECT 1") for _ in range(10)))
    admin = Database(pg_url)
    await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    await admin.close()
    deadline = time.monotonic() + 10
    recovered = False
    while time.monotonic() < deadline:
        try:
            # No query may hang: each is bounded by the pool's own timeouts.
            assert await asyncio.wait_for(db.query_val("SELECT 42"), timeout=5) == 42
            recovered = True
            break
        except OperationalError:
            await asyncio.sleep(0.05)
    assert recovered
    values = await asyncio.gather(*(db.query_val("SELECT $1::int", i) for i in range(10)))
    assert values == list(range(10))
    await db.close()


async def test_traffic_during_connection_loss_never_hangs(pg_url):
    db = Database(pg_url + "?max_size=3&acquire_timeout=2")
    admin = Database(pg_url)
    outcomes = {"ok": 0, "error": 0}

    async def client():
        for _ in range(30):
            try:
                await asyncio.wait_for(db.query_val("SELECT pg_sleep(0.01)"), timeout=10)
                outcomes["ok"] += 1
            except OperationalError:
                outcomes["error"] += 1

    async def killer():
        for _ in range(3):
            await asyncio.sleep(0.1)
            await admin.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> 'psql'"
            )

    await asyncio.gather(client(), client(), client(), killer())
    assert outcomes["ok"] > 0
    assert outcomes["ok"] + outcomes["error"] == 90
    assert await db.query_val("SELECT 1") == 1
    await db.close()
    await admin.close()
