"""SQL is compiled once per QuerySet shape; only parameters change between calls."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperdjango import Field, Model
from hyperdjango.expressions import Q
from hyperdjango.orm.backends import operations_for
from hyperdjango.orm.fields import DecimalField, IntegerField, TextField
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


class Priced(Model):
    class Meta:
        table = "cache_priced"

    price: Decimal = Field(max_digits=8, decimal_places=2)
    stock: int | None = None
    item_id: int | None = Field(foreign_key=Item, on_delete="CASCADE", related_name="prices")


def resolved_nodes():
    """One resolved node of every kind the compiler caches by, with its query."""
    from hyperdjango.expressions import Case, Coalesce, Count, Exists, F, OuterRef, Subquery, Sum, Value, When

    qs = Priced.objects.annotate(
        total=Sum("price", distinct=True),
        n=Count("*"),
        c=Coalesce("stock", 0, output_field=DecimalField(max_digits=5, decimal_places=1)),
        label=Case(When(stock=0, then=Value("none")), default=Value("some")),
        ratio=F("price") / 3,
        named=Subquery(Item.objects.filter(id=OuterRef("item_id")).values("name")[:1]),
        listed=Exists(Item.objects.filter(id=OuterRef("item_id"))),
    ).filter(Q(stock__gt=1) | ~Q(item__name__icontains="x")).order_by("-price")
    q = qs.query
    nodes = [*q.annotations.values(), *q.where, *q.order_by]
    seen, out = set(), []
    for top in nodes:
        for node in top.walk() if hasattr(top, "walk") else [top]:
            if id(node) not in seen:
                seen.add(id(node))
                out.append(node)
    return q, out


def other_value(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, list):
        return value[:-1] if value else [object()]
    if isinstance(value, Field):
        return TextField() if not isinstance(value, TextField) else IntegerField()
    return object()


def test_changing_any_attribute_of_a_resolved_node_changes_its_key():
    """The key is derived from every attribute: none can be forgotten (issue 11, family 6)."""
    _, nodes = resolved_nodes()
    checked = 0
    for node in nodes:
        before = node._copy().key
        # Class-level defaults too (Param.cast, WhereNode.negated...): set on a node, they count.
        defaults = {n: v for cls in reversed(type(node).__mro__) for n, v in vars(cls).items()
                    if not n.startswith("_") and type(v) in (bool, int, str, type(None))}
        for name, value in {**defaults, **vars(node)}.items():
            if name == "_key" or name in node.identity_skip:
                continue
            changed = node._copy()
            setattr(changed, name, other_value(value))
            assert changed.key != before, f"{type(node).__name__}.{name} is not part of the key"
            checked += 1
    assert checked > 40


def test_changing_any_attribute_of_a_query_changes_its_shape():
    from hyperdjango.orm.sql.query import VALUE_ATTRIBUTES, Query

    q, _ = resolved_nodes()
    before = q.shape
    # The class-level defaults too: setting one on a query must change its shape.
    defaults = {n: v for n, v in vars(Query).items() if not n.startswith("__") and type(v) in (bool, int, str, tuple, frozenset, type(None))}
    assert len(defaults) > 15
    for name, value in {**defaults, **vars(q)}.items():
        if name in VALUE_ATTRIBUTES:
            continue
        changed = q.clone()
        setattr(changed, name, other_value(value) if not isinstance(value, (dict, tuple, frozenset)) or value else object())
        assert changed.shape != before, f"Query.{name} is not part of the shape"


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_an_output_field_is_part_of_the_cache_key(vendor):
    """``Coalesce(..., output_field=DecimalField())`` then ``TextField()``: two readers."""
    from hyperdjango.expressions import Coalesce

    ops = operations_for(vendor)
    as_decimal = Priced.objects.values(v=Coalesce("stock", 0, output_field=DecimalField(max_digits=5, decimal_places=2))).query
    as_text = Priced.objects.values(v=Coalesce("stock", 0, output_field=TextField())).query
    assert compile_query(as_decimal, "select", ops) is not compile_query(as_text, "select", ops)
    assert compile_query(as_text, "select", ops) is compile_query(Priced.objects.values(v=Coalesce("stock", 0, output_field=TextField())).query, "select", ops)
