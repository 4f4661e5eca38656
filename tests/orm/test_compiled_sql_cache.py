"""SQL is compiled once per QuerySet shape; only parameters change between calls."""

from __future__ import annotations

import pytest

from hyperdjango import Field, Model
from hyperdjango.expressions import Q
from hyperdjango.orm.backends import operations_for
from hyperdjango.orm.sql import compiler
from hyperdjango.orm.sql.compiler import SQLCompiler, compile_query


class Item(Model):
    class Meta:
        table = "cache_items"
        ordering = ["name"]

    name: str = Field(max_length=50)
    stock: int = 0


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_the_same_shape_compiles_once(vendor, monkeypatch):
    ops = operations_for(vendor)
    calls = []
    original = SQLCompiler.compile

    def counting(self, kind):
        calls.append(kind)
        return original(self, kind)

    monkeypatch.setattr(SQLCompiler, "compile", counting)
    compiler._cache.clear()
    first = compile_query(Item.objects.filter(name__icontains="tea", stock__gt=1)[:5].query, "select", ops)
    second_query = Item.objects.filter(name__icontains="pot", stock__gt=7)[:5].query
    second = compile_query(second_query, "select", ops)
    assert calls == ["select"]
    assert second is first
    assert second.params(second_query.params) == ["%pot%", 7]  # the LIKE pattern, the number
    # LIMIT is written into the SQL (PostgreSQL plans a known LIMIT better): another is another shape.
    third = compile_query(Item.objects.filter(name__icontains="pot", stock__gt=7)[:9].query, "select", ops)
    assert third is not first and third.sql.endswith(" LIMIT 9") and first.sql.endswith(" LIMIT 5")


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_a_different_shape_compiles_again(vendor):
    ops = operations_for(vendor)
    a = compile_query(Item.objects.filter(name="a").query, "select", ops)
    b = compile_query(Item.objects.filter(stock="1").query, "select", ops)
    assert a.sql != b.sql


class Box(Model):
    class Meta:
        table = "cache_boxes"

    label: str = ""
    item_id: int = Field(foreign_key=Item, on_delete="CASCADE", related_name="boxes")


QUERIES = [
    lambda: Item.objects.filter(name__startswith="a").exclude(stock=3),
    lambda: Item.objects.filter(Q(stock__in=[1, 2, 3]) | Q(name__iendswith="x")).order_by("-stock")[2:4],
    lambda: Item.objects.filter(stock__range=(1, 9), name__contains="_%").values_list("name", flat=True),
    lambda: Item.objects.filter(id__in=Item.objects.filter(stock__gt=4).values("id"), name__iexact="q")[:1],
    lambda: Item.objects.filter(stock__gt=2).exclude(boxes__label__startswith="x", name="y")[1:],
]


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_a_wrapped_aggregate_places_parameters_as_a_fresh_one_does(vendor):
    from hyperdjango.expressions import Sum

    ops = operations_for(vendor)
    for stock, offset in ((1, 2), (5, 7)):
        query = Item.objects.filter(stock__gt=stock).exclude(boxes__label="z")[offset:].query.clone()
        query.add_aggregates({"total": Sum("stock")})
        cached, fresh = compile_query(query, "aggregate", ops), SQLCompiler(query, ops).compile("aggregate")
        assert cached.sql == fresh.sql and 'FROM (SELECT' in cached.sql
        assert cached.params(query.params) == fresh.params(query.params) == [stock, "z", offset]


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
@pytest.mark.parametrize("make", QUERIES)
def test_a_cached_compilation_places_parameters_as_a_fresh_one_does(vendor, make):
    ops = operations_for(vendor)
    compile_query(make().query, "select", ops)  # warm the cache with one instance of the shape
    query = make()
    query_params = query.query.params
    cached = compile_query(query.query, "select", ops)
    fresh = SQLCompiler(query.query, ops).compile("select")
    assert cached.sql == fresh.sql
    assert cached.params(query_params) == fresh.params(query_params)
