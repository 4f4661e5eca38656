"""Cached prepared statements follow schema changes (PostgreSQL caches them per connection)."""

from __future__ import annotations

import asyncio
import contextvars
import uuid

import pytest

from hyperdjango.database import Database, atomic


@pytest.fixture
async def one_connection(pg_url):
    db = Database(pg_url + "?max_size=1")
    yield db
    await db.close()


async def test_a_statement_runs_again_after_its_column_type_changed(one_connection):
    db = one_connection
    table = f"stmt_{uuid.uuid4().hex[:8]}"
    await db.execute(f"CREATE TABLE {table} (n int, code text)")
    insert = f"INSERT INTO {table} (n, code) VALUES ($1, $2)"
    await db.execute(insert, 1, "1")
    async with atomic(db):  # no retry inside a transaction: the cache itself must be fresh
        await db.execute(f"ALTER TABLE {table} ALTER COLUMN n TYPE bigint")
        await db.execute(f"ALTER TABLE {table} ALTER COLUMN code TYPE integer USING code::integer")
        # Valid only for the new types: 2**40 overflows the old int4 $1, and an integer
        # column does not take the old text $2.
        await db.execute(insert, 2**40, 7)
    assert await db.query_val(f"SELECT sum(n) + sum(code) FROM {table}") == 2**40 + 1 + 1 + 7


async def test_ddl_in_a_transaction_reaches_statements_cached_by_other_connections(pg_url):
    db = Database(pg_url + "?max_size=2")
    table = f"stmt_{uuid.uuid4().hex[:8]}"
    await db.execute(f"CREATE TABLE {table} (n int)")
    insert = f"INSERT INTO {table} (n) VALUES ($1)"

    loop = asyncio.get_running_loop()
    async with atomic(db):
        # A fresh context is outside the transaction: the other connection caches `insert`.
        await loop.create_task(db.execute(insert, 1), context=contextvars.Context())
        await db.execute(f"ALTER TABLE {table} ALTER COLUMN n TYPE bigint")

    # Both connections, each in a transaction (where a stale statement would fail
    # rather than be retried), run the statement again.
    async def insert_in_a_transaction(entered, release):
        async with atomic(db):
            await db.execute(insert, 2**40)
            entered.set_result(None)
            await release

    firsts = [loop.create_future(), loop.create_future()]
    release = loop.create_future()
    tasks = [loop.create_task(insert_in_a_transaction(f, release), context=contextvars.Context()) for f in firsts]
    await asyncio.gather(*firsts)
    release.set_result(None)
    await asyncio.gather(*tasks)
    assert await db.query_val(f"SELECT count(*) FROM {table} WHERE n = $1", 2**40) == 2
    await db.close()


async def test_clear_statement_cache_catches_up_with_ddl_from_elsewhere(pg_url):
    admin = Database(pg_url)
    first, second = f"s_{uuid.uuid4().hex[:8]}", f"s_{uuid.uuid4().hex[:8]}"
    await admin.execute(f"CREATE SCHEMA {first}")
    await admin.execute(f"CREATE SCHEMA {second}")
    await admin.execute(f"CREATE TABLE {second}.t AS SELECT 'old' AS v")
    db = Database(pg_url + f"?max_size=1&options=-c+search_path%3D{first}%2C{second}")
    assert await db.query_val("SELECT v FROM t") == "old"
    # Another process (here: another pool) shadows the table; PostgreSQL keeps the
    # cached statement on the table it resolved when it was prepared.
    await admin.execute(f"CREATE TABLE {first}.t AS SELECT 'new' AS v")
    assert await db.query_val("SELECT v FROM t") == "old"
    await db.clear_statement_cache()
    assert await db.query_val("SELECT v FROM t") == "new"
    await db.close()
    await admin.close()


async def test_clear_statement_cache_is_harmless_before_connecting_and_on_sqlite(db_url):
    db = Database(db_url)
    await db.clear_statement_cache()
    assert await db.query_val("SELECT 1") == 1
    await db.clear_statement_cache()
    assert await db.query_val("SELECT 1") == 1
    await db.close()
