"""``bulk_update`` on both backends: the rows matched, all rows or none (a failing row undoes
the others and says which row failed), and inside a transaction the rows are part of it."""

from __future__ import annotations

import pytest

from hyperdjango import Field, Model
from hyperdjango.database import IntegrityError


class Counter(Model):
    class Meta:
        table = "bulk_update_counters"

    name: str = Field(max_length=40, unique=True)
    hits: int = 0


@pytest.fixture
async def counters(db):
    await db.create_tables(Counter)
    made = await Counter.objects.using(db).bulk_create([Counter(name=f"c{i}", hits=i) for i in range(30)])
    yield made
    await db.execute(f"DROP TABLE {Counter._meta.table}")


async def table(db) -> list[tuple[str, int]]:
    return [tuple(r) for r in await Counter.objects.using(db).order_by("id").values_list("name", "hits")]


async def test_bulk_update_writes_the_fields_and_returns_the_rows_matched(db, counters):
    for c in counters[:20]:
        c.hits += 100
        c.name = f"renamed {c.name}"  # not in fields: not written
    assert await Counter.objects.using(db).bulk_update(counters[:20], ["hits"]) == 20
    assert await table(db) == [(f"c{i}", i + 100 if i < 20 else i) for i in range(30)]


async def test_a_failing_row_undoes_every_row_and_names_itself(db, counters):
    before = await table(db)
    for c in counters[:5]:
        c.hits = 500
    counters[3].name = counters[0].name  # a unique name taken: row 3 fails
    with pytest.raises(IntegrityError) as failed:
        await Counter.objects.using(db).bulk_update(counters[:5], ["hits", "name"])
    assert "parameter row 3: " in str(failed.value)
    assert await table(db) == before
    # the database goes on: the next bulk_update is written
    counters[3].name = "c3"
    assert await Counter.objects.using(db).bulk_update(counters[:5], ["hits", "name"]) == 5
    assert [h for _, h in (await table(db))[:5]] == [500] * 5


async def test_inside_a_transaction_the_rows_are_rolled_back_with_it(db, counters):
    before = await table(db)
    for c in counters:
        c.hits = -1

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with db.transaction():
            assert await Counter.objects.using(db).bulk_update(counters, ["hits"]) == 30
            assert await Counter.objects.using(db).filter(hits=-1).count() == 30
            raise Undo
    assert await table(db) == before
    async with db.transaction():
        assert await Counter.objects.using(db).bulk_update(counters, ["hits"]) == 30
    assert await Counter.objects.using(db).filter(hits=-1).count() == 30
