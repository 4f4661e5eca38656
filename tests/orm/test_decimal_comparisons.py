"""A Decimal compared with a computed expression compares as a number, on both backends
(issue 18: on SQLite it was bound as TEXT, which sorts above every number)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperdjango import Field, Model
from hyperdjango.expressions import Coalesce, F, Max


class Writer(Model):
    class Meta:
        table = "dec_writers"

    name: str = Field(max_length=50)


class Title(Model):
    class Meta:
        table = "dec_titles"

    name: str = Field(max_length=50)
    price: Decimal = Field(max_digits=10, decimal_places=2)
    discount: Decimal | None = Field(max_digits=10, decimal_places=2, default=None)
    writer_id: int = Field(foreign_key=Writer, on_delete="CASCADE", related_name="titles")


@pytest.fixture
async def titles(as_default):
    db = as_default
    await db.drop_tables(Title, Writer)
    await db.create_tables(Writer, Title)
    cheap = await Writer.objects.create(name="cheap")
    dear = await Writer.objects.create(name="dear")
    for name, price, writer in [("a", "5.00", cheap), ("b", "10.50", cheap), ("c", "12.25", dear), ("d", "600.00", dear)]:
        await Title.objects.create(name=name, price=Decimal(price), writer_id=writer.id)
    yield db
    await db.drop_tables(Title, Writer)


async def test_an_annotation_minus_one_compares_with_a_decimal_as_a_number(titles):
    assert await Title.objects.annotate(x=F("price") - 1).filter(x__gt=Decimal("10")).count() == 2
    assert await Title.objects.annotate(x=F("price") - 1).filter(x__lt=Decimal("10.00")).count() == 2


async def test_an_aggregate_in_having_compares_with_a_decimal_as_a_number(titles):
    dear = Writer.objects.annotate(m=Max("titles__price")).filter(m__gt=Decimal("500"))
    assert [w.name for w in await dear] == ["dear"]


async def test_coalesce_compares_with_a_decimal_as_a_number(titles):
    query = Title.objects.annotate(p=Coalesce("discount", "price")).filter(p__gte=Decimal("10.5"))
    assert sorted(t.name for t in await query) == ["b", "c", "d"]


async def test_a_decimal_parameter_is_a_number_to_sql(titles):
    db = titles
    assert await db.query_val("SELECT CASE WHEN $1 > 2.0 THEN 1 ELSE 0 END", Decimal("10.5")) == 1
    assert await db.query_val("SELECT CASE WHEN $1 < 2.0 THEN 1 ELSE 0 END", Decimal("1.25")) == 1
