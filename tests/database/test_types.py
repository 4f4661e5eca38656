"""Every supported type goes in and comes back unchanged, on both backends."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from hyperdjango.database import DataError

# (column name, PostgreSQL type, SQLite declared type, values to round-trip)
TYPES = [
    ("b", "boolean", "BOOLEAN", [True, False]),
    ("i", "bigint", "BIGINT", [0, -1, 2**63 - 1, -(2**63)]),
    ("f", "double precision", "REAL", [0.0, 1.5, -2.25e100]),
    ("d", "numeric(30, 10)", "DECIMAL(30, 10)", [Decimal("0.0000000000"), Decimal("-12.3400000000"), Decimal("9.9000000000")]),
    ("t", "text", "TEXT", ["", "héllo ✓", "quote ' and \" and \\"]),
    ("by", "bytea", "BLOB", [b"", b"\x00\xff\x10"]),
    ("da", "date", "DATE", [dt.date(2024, 2, 29), dt.date(1, 1, 1)]),
    ("ti", "time", "TIME", [dt.time(0, 0), dt.time(23, 59, 59, 999999)]),
    ("ts", "timestamp", "DATETIME", [dt.datetime(2024, 5, 1, 12, 30, 15, 123456)]),
    ("tz", "timestamptz", "DATETIME", [dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)]),
    ("iv", "interval", "INTERVAL", [dt.timedelta(0), dt.timedelta(days=3, seconds=5, microseconds=7), dt.timedelta(seconds=-1)]),
    ("u", "uuid", "UUID", [uuid.UUID("6f1c2a4e-8b7d-4c1a-9e2f-0a1b2c3d4e5f")]),
    ("j", "jsonb", "JSON", [{"a": [1, 2, {"b": None}], "c": "d"}, [1, "two", 3.5], {}]),
    ("js", "json", "JSON", [{"k": "v"}]),
]


@pytest.fixture
async def typed(db):
    columns = ", ".join(f"{name} {pg if db.vendor == 'postgresql' else lite}" for name, pg, lite, _ in TYPES)
    await db.execute("DROP TABLE IF EXISTS typed")
    await db.execute(f"CREATE TABLE typed (id INTEGER PRIMARY KEY, {columns})")
    yield db
    await db.execute("DROP TABLE typed")


@pytest.mark.parametrize("name,pg,lite,values", TYPES, ids=[t[0] for t in TYPES])
async def test_round_trip(typed, name, pg, lite, values):
    for i, value in enumerate(values):
        await typed.execute(f"INSERT INTO typed (id, {name}) VALUES ($1, $2)", i, value)
    rows = await typed.query(f"SELECT {name} FROM typed ORDER BY id")
    got = [row[name] for row in rows]
    assert got == values
    assert [type(g) for g in got] == [type(v) for v in values]


@pytest.mark.parametrize("name", [t[0] for t in TYPES])
async def test_null_round_trips_as_none(typed, name):
    await typed.execute(f"INSERT INTO typed (id, {name}) VALUES ($1, $2)", 1, None)
    assert await typed.query_val(f"SELECT {name} FROM typed WHERE id = 1") is None


async def test_an_aware_datetime_in_another_zone_comes_back_as_the_same_instant(typed):
    paris = dt.timezone(dt.timedelta(hours=2))
    moment = dt.datetime(2024, 5, 1, 14, 30, tzinfo=paris)
    await typed.execute("INSERT INTO typed (id, tz) VALUES ($1, $2)", 1, moment)
    got = await typed.query_val("SELECT tz FROM typed WHERE id = 1")
    assert got == moment and got.tzinfo is not None


async def test_a_big_decimal_keeps_every_digit(db):
    if db.vendor == "sqlite":
        pytest.skip("SQLite stores DECIMAL columns as REAL (NUMERIC affinity); see docs/database.md")
    big = Decimal("123456789012345678901234567890.123456789")
    assert await db.query_val("SELECT $1::numeric", big) == big


async def test_an_integer_beyond_64_bits_is_a_clear_error(db):
    with pytest.raises(DataError, match="does not fit in 64 bits"):
        await db.query("SELECT $1", 2**70)


async def test_postgres_arrays_round_trip(db):
    if db.vendor != "postgresql":
        pytest.skip("arrays are PostgreSQL's; SQLite stores lists as JSON (next test)")
    assert await db.query_val("SELECT $1::int[]", [1, 2, 3]) == [1, 2, 3]
    assert await db.query_val("SELECT $1::text[]", ["a", None, "c"]) == ["a", None, "c"]
    assert await db.query_val("SELECT ARRAY[1.5, 2.5]::float8[]") == [1.5, 2.5]


async def test_lists_are_json_on_sqlite(db):
    if db.vendor != "sqlite":
        pytest.skip("SQLite only")
    await db.execute("CREATE TABLE IF NOT EXISTS docs (data JSON)")
    await db.execute("INSERT INTO docs VALUES ($1)", [1, "two", {"three": 3}])
    assert await db.query_val("SELECT data FROM docs") == [1, "two", {"three": 3}]


async def test_a_timedelta_beyond_the_interval_range_is_a_clear_error(db):
    # 200 million days is 1.7e19 µs: past i64, so it used to wrap to a negative interval.
    with pytest.raises(DataError, match="timedelta"):
        await db.query("SELECT $1", dt.timedelta(days=200_000_000))
    with pytest.raises(DataError, match="timedelta"):
        await db.query("SELECT $1", dt.timedelta(days=-200_000_000))


async def test_the_largest_interval_that_fits_round_trips(typed):
    biggest = dt.timedelta(days=106_751_991)
    await typed.execute("INSERT INTO typed (id, iv) VALUES ($1, $2)", 1, biggest)
    assert await typed.query_val("SELECT iv FROM typed WHERE id = 1") == biggest


async def test_a_nul_character_in_text_is_a_clear_error_on_both_backends(db):
    # PostgreSQL cannot store U+0000 in text (SQLSTATE 22021); SQLite could, so both refuse
    # it before sending, with the same error.
    with pytest.raises(DataError, match="NUL"):
        await db.query("SELECT $1", "a\x00b")
    with pytest.raises(DataError, match="NUL"):
        await db.query("SELECT $1", ["ok", "a\x00b"])


@pytest.mark.parametrize("doc", [{"x": float("nan")}, {"x": [float("inf")]}, {"x": "a\x00b"}], ids=["nan", "inf", "nul"])
async def test_a_json_document_that_json_cannot_hold_is_a_data_error_on_both_backends(typed, doc):
    # Written as null (NaN, infinities) it would come back as another value; jsonb refuses U+0000.
    with pytest.raises(DataError, match="NaN and infinite floats|NUL"):
        await typed.execute("INSERT INTO typed (id, j) VALUES ($1, $2)", 1, doc)
    assert await typed.query_val("SELECT count(*) FROM typed") == 0


@pytest.mark.parametrize("doc", [[1.5, float("nan")], [float("inf")], [["x", float("-inf")]]], ids=["nan", "inf", "nested-minus-inf"])
@pytest.mark.parametrize("column", ["j", "js"], ids=["jsonb", "json"])
async def test_a_list_for_a_json_column_holding_nan_or_infinity_is_a_data_error_on_both_backends(typed, doc, column):
    # A list is encoded to JSON by the engine (a dict by Python): NaN written as null
    # would come back as another value.
    with pytest.raises(DataError, match="NaN and infinite floats cannot be stored in JSON"):
        await typed.execute(f"INSERT INTO typed (id, {column}) VALUES ($1, $2)", 1, doc)
    assert await typed.query_val("SELECT count(*) FROM typed") == 0


@pytest.mark.parametrize(
    "text",
    ["123456789012345678901234567890.123456789", "0.1", "10.50", "-7", "12345678901234567890", "1.2345678901234567", "1E+20"],
)
async def test_a_decimal_text_column_keeps_every_digit_on_sqlite(db, text):
    # Decimals of up to 15 significant digits are bound as numbers (so comparisons with
    # expressions are numeric): the value comes back equal, trailing zeros aside.
    if db.vendor != "sqlite":
        pytest.skip("DECIMAL_TEXT is SQLite's way to keep every digit; PostgreSQL's numeric always does")
    await db.execute("CREATE TABLE IF NOT EXISTS exact (d DECIMAL_TEXT)")
    await db.execute("DELETE FROM exact")
    await db.execute("INSERT INTO exact VALUES ($1)", Decimal(text))
    stored = await db.query_val("SELECT d FROM exact")
    assert stored == Decimal(text)
    if len(text.lstrip("-").replace(".", "").strip("0")) > 15:  # bound as text: kept verbatim
        assert str(stored) == text
