"""Statements on both backends: query shapes, rows, pipelines, streaming, connecting."""

from __future__ import annotations

import asyncio

import pytest

from hyperdjango.database import Database, DatabaseError, InterfaceError


@pytest.fixture
async def people(db):
    await db.execute("DROP TABLE IF EXISTS people")
    await db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER)")
    await db.execute_many("INSERT INTO people (id, name, age) VALUES ($1, $2, $3)", [(1, "ada", 36), (2, "bob", 25), (3, "cy", None)])
    yield db
    await db.execute("DROP TABLE people")


async def test_query_returns_rows_by_name_index_and_attribute(people):
    rows = await people.query("SELECT id, name, age FROM people ORDER BY id")
    assert [r["name"] for r in rows] == ["ada", "bob", "cy"]
    assert rows[0][0] == 1 and rows[0].age == 36 and rows[2]["age"] is None
    assert dict(rows[1]) == {"id": 2, "name": "bob", "age": 25}
    assert tuple(rows[1]) == (2, "bob", 25) and len(rows[1]) == 3


async def test_query_one_and_query_val(people):
    assert (await people.query_one("SELECT name FROM people WHERE id = $1", 2))["name"] == "bob"
    assert await people.query_one("SELECT name FROM people WHERE id = $1", 99) is None
    assert await people.query_val("SELECT count(*) FROM people") == 3
    assert await people.query_val("SELECT name FROM people WHERE id = $1", 99) is None


async def test_execute_returns_affected_rows(people):
    assert await people.execute("UPDATE people SET age = age + 1 WHERE age IS NOT NULL") == 2
    assert await people.execute("DELETE FROM people WHERE id = $1", 42) == 0


async def test_placeholders_may_repeat_and_come_in_any_order(people):
    row = await people.query_one("SELECT $2 || '-' || $1 || '-' || $2 AS s", "a", "b")
    assert row["s"] == "b-a-b"


async def test_values_are_bound_never_interpolated(people):
    evil = "x'); DROP TABLE people; --"
    await people.execute("INSERT INTO people (id, name) VALUES ($1, $2)", 4, evil)
    assert await people.query_val("SELECT name FROM people WHERE id = 4") == evil
    assert await people.query_val("SELECT count(*) FROM people") == 4


async def test_a_missing_parameter_is_an_error(people):
    with pytest.raises(DatabaseError):
        await people.query("SELECT $1, $2", 1)


async def test_pipeline_keeps_order_and_reports_the_failing_statement(people):
    results = await people.pipeline([
        ("SELECT name FROM people WHERE id = $1", [1]),
        ("SELECT * FROM no_such_table", []),
        "SELECT count(*) AS n FROM people",
        ("SELECT name FROM people WHERE id = $1", [2]),
    ])
    assert results[0][0]["name"] == "ada"
    assert isinstance(results[1], DatabaseError)
    assert results[2][0]["n"] == 3
    assert results[3][0]["name"] == "bob"


async def test_the_spec_pipeline_of_twenty_selects(db):
    results = await db.pipeline([("SELECT CAST($1 AS INTEGER) AS v", [i]) for i in range(20)])
    assert [r[0]["v"] for r in results] == list(range(20))


async def test_concurrent_queries_all_complete(people):
    rows = await asyncio.gather(*(people.query_val("SELECT name FROM people WHERE id = $1", i % 3 + 1) for i in range(50)))
    assert rows == [["ada", "bob", "cy"][i % 3] for i in range(50)]


async def test_iterate_streams_in_chunks_and_can_stop_early(db):
    count = 0
    async for row in db.iterate(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) SELECT i FROM n", chunk_size=500
    ):
        count += 1
        assert row["i"] == count
    assert count == 20000
    async for _row in db.iterate("SELECT 1 AS one UNION ALL SELECT 2", chunk_size=1):
        break
    assert await db.query_val("SELECT 7") == 7  # the connection is free again


async def test_connect_is_idempotent_and_first_use_connects(db_url):
    db = Database(db_url)
    assert await db.query_val("SELECT 1") == 1
    await db.connect()
    await db.connect()
    await db.close()


async def test_unsupported_url_is_rejected():
    with pytest.raises(ValueError, match="unsupported database URL"):
        Database("mysql://localhost/x")


async def test_a_value_of_an_unknown_type_is_a_clear_error(db):
    with pytest.raises(TypeError, match="cannot send a value of type object"):
        await db.query("SELECT $1", object())


async def test_closed_cursor_is_an_interface_error(db):
    from hyperdjango.runtime import loop_bridge

    cursor = await db._core.cursor(loop_bridge(), "SELECT 1", (), 10)
    await cursor.close(loop_bridge())
    with pytest.raises(InterfaceError):
        await cursor.fetch(loop_bridge())


async def test_select_for_update_support_is_reported_per_backend(db):
    assert db.supports_select_for_update is (db.vendor == "postgresql")
    if db.supports_select_for_update:
        assert await db.query("SELECT 1 AS one FOR UPDATE") == [(1,)]
