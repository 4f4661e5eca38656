"""SQLite specifics: the embedded default, files, cancellation, foreign keys."""

from __future__ import annotations

import asyncio
import time

import pytest

from hyperdjango.database import Database, IntegrityError


async def test_memory_database_is_shared_by_all_statements():
    db = Database("sqlite://:memory:")
    await db.execute("CREATE TABLE t (x INTEGER)")
    await asyncio.gather(*(db.execute("INSERT INTO t VALUES ($1)", i) for i in range(20)))
    assert await db.query_val("SELECT count(*) FROM t") == 20
    await db.close()


async def test_foreign_keys_are_enforced(sqlite_url):
    db = Database(sqlite_url)
    await db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    await db.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))")
    with pytest.raises(IntegrityError):
        await db.execute("INSERT INTO child VALUES (1, 99)")
    await db.close()


async def test_cancelling_a_long_query_interrupts_it(sqlite_url):
    db = Database(sqlite_url)
    long = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    task = asyncio.create_task(db.query_val(long))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    started = time.monotonic()
    assert await db.query_val("SELECT 5") == 5
    assert time.monotonic() - started < 5
    await db.close()
