"""bulk_create of many rows on PostgreSQL loads them with binary COPY (Database.copy_in),
and answers as Django's bulk_create does: every object gets the key of its row."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from hyperdjango import Field, Model
from hyperdjango.database import Database, IntegrityError, InterfaceError, ProgrammingError, atomic
from hyperdjango.orm import bulk_copy

ROWS = bulk_copy.COPY_MIN_ROWS + 7


class Crate(Model):
    class Meta:
        table = "copy_crates"

    name: str = Field(max_length=40, unique=True)
    weight: Decimal | None = Field(max_digits=8, decimal_places=2, default=None)
    packed: datetime.date = datetime.date(2026, 1, 1)
    fragile: bool = False


class Statements:
    """The database, with a note of which methods the ORM called."""

    def __init__(self, db: Database) -> None:
        self._db, self.calls = db, []

    def __getattr__(self, name: str):
        method = getattr(self._db, name)
        if name in ("query", "execute", "copy_in", "query_instances"):
            self.calls.append(name)
        return method


@pytest.fixture
async def pg(pg_url):
    db = Database(pg_url)
    await db.connect()
    await db.create_tables(Crate)
    yield db
    await db.execute(f"DROP TABLE {Crate._meta.table}")
    await db.close()


def crates(n: int, start: int = 0) -> list[Crate]:
    return [Crate(name=f"crate {i}", weight=None if i % 3 == 0 else Decimal(i) / 4, packed=datetime.date(2026, 1, 1 + i % 28),
                  fragile=i % 2 == 0) for i in range(start, start + n)]


async def stored(db: Database) -> dict[str, tuple]:
    rows = await db.query("SELECT id, name, weight, packed, fragile FROM copy_crates")
    return {r["name"]: (r["id"], r["weight"], r["packed"], r["fragile"]) for r in rows}


async def test_many_rows_are_loaded_with_copy_and_every_object_gets_its_rows_key(pg):
    watched = Statements(pg)
    objs = await Crate.objects.using(watched).bulk_create(crates(ROWS))
    assert watched.calls == ["query", "copy_in"]  # the keys reserved, the rows copied: no INSERT
    rows = await stored(pg)
    assert len(rows) == ROWS
    for obj in objs:
        assert rows[obj.name] == (obj.pk, obj.weight, obj.packed, obj.fragile)
    assert len({o.pk for o in objs}) == ROWS and [o.pk for o in objs] == sorted(o.pk for o in objs)
    assert objs[0]._persisted and objs[0]._db is watched


async def test_the_loaded_objects_read_back_equal(pg):
    objs = await Crate.objects.using(pg).bulk_create(crates(ROWS))
    again = {c.pk: c for c in await Crate.objects.using(pg).all()}
    assert [(again[o.pk].name, again[o.pk].weight) for o in objs] == [(o.name, o.weight) for o in objs]


async def test_rows_inserted_later_get_keys_after_the_copied_ones(pg):
    objs = await Crate.objects.using(pg).bulk_create(crates(ROWS))
    later = await Crate.objects.using(pg).create(name="later")
    assert later.pk > max(o.pk for o in objs)


async def test_given_keys_are_kept(pg):
    objs = crates(ROWS)
    for i, obj in enumerate(objs):
        obj.id = 100_000 + i
    await Crate.objects.using(pg).bulk_create(objs)
    assert sorted(r[0] for r in (await stored(pg)).values()) == list(range(100_000, 100_000 + ROWS))


async def test_batch_size_copies_in_batches_in_one_transaction(pg):
    watched = Statements(pg)
    objs = await Crate.objects.using(watched).bulk_create(crates(ROWS), batch_size=400)
    assert watched.calls.count("copy_in") == 3
    assert len(await stored(pg)) == ROWS and all(o.pk is not None for o in objs)


async def test_a_failing_batch_loads_nothing_and_sets_no_keys(pg):
    await Crate.objects.using(pg).create(name="crate 1500")  # the last batch collides with it
    objs = crates(ROWS + 500)
    with pytest.raises(IntegrityError):
        await Crate.objects.using(pg).bulk_create(objs, batch_size=500)
    assert list(await stored(pg)) == ["crate 1500"]
    assert all(o.pk is None for o in objs)


async def test_inside_a_transaction_the_rows_go_with_it(pg):
    with pytest.raises(RuntimeError):
        async with atomic(pg):
            await Crate.objects.using(pg).bulk_create(crates(ROWS))
            assert len(await stored(pg)) == ROWS
            raise RuntimeError("roll back")
    assert await stored(pg) == {}


async def test_ignore_conflicts_still_inserts_and_skips_the_conflicts(pg):
    await Crate.objects.using(pg).create(name="crate 5")
    watched = Statements(pg)
    await Crate.objects.using(watched).bulk_create(crates(ROWS), ignore_conflicts=True)
    assert "copy_in" not in watched.calls
    assert len(await stored(pg)) == ROWS


async def test_fewer_rows_are_inserted(pg):
    watched = Statements(pg)
    objs = await Crate.objects.using(watched).bulk_create(crates(10))
    assert "copy_in" not in watched.calls and all(o.pk is not None for o in objs)


async def test_copy_in_loads_rows_and_reports_how_many(pg):
    n = await pg.copy_in("copy_crates", ["name", "weight", "packed", "fragile"],
                         [("a", Decimal("1.25"), datetime.date(2026, 2, 3), True), ("b", None, datetime.date(2026, 2, 4), False)])
    assert n == 2
    rows = await stored(pg)
    assert (rows["a"][1:], rows["b"][1:]) == ((Decimal("1.25"), datetime.date(2026, 2, 3), True), (None, datetime.date(2026, 2, 4), False))


async def test_copy_in_of_a_value_that_does_not_fit_is_refused_naming_its_row_column_and_type(pg):
    # Nothing was sent; the advice to cast a statement's parameter does not apply to COPY.
    with pytest.raises(InterfaceError, match='^copy_in row 1, column "packed" is of type date, which cannot take a str') as refused:
        await pg.copy_in("copy_crates", ["name", "packed"], [("a", datetime.date(2026, 1, 1)), ("b", "not a date")])
    assert "cast" not in str(refused.value)
    assert refused.value.hint == "pass a value of the column's type (date) or None"
    assert await stored(pg) == {}


async def test_copy_in_of_a_row_of_the_wrong_width_is_refused(pg):
    with pytest.raises(ProgrammingError, match="1 values for 2 columns"):
        await pg.copy_in("copy_crates", ["name", "packed"], [("a",)])


async def test_copy_in_on_sqlite_says_it_is_postgresql_only(sqlite_url):
    db = Database(sqlite_url)
    await db.connect()
    try:
        with pytest.raises(InterfaceError, match="PostgreSQL"):
            await db.copy_in("t", ["a"], [(1,)])
    finally:
        await db.close()
