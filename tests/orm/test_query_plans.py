"""Lookups and orderings on a model's own columns are resolved once and reused
(Options.lookup_plans / ordering_plans): a reused plan builds the same query as the
full path, on both backends, and still converts and checks each new value."""

from __future__ import annotations

import asyncio
import datetime
from decimal import Decimal

import pytest

from hyperdjango import Field, Model, _core, timezone
from hyperdjango.expressions import Count, F
from hyperdjango.orm.backends import operations_for
from hyperdjango.orm.exceptions import ValidationError
from hyperdjango.orm.sql.compiler import compile_query


class PlanCategory(Model):
    class Meta:
        table = "plan_categories"

    name: str = Field(max_length=50)


class PlanItem(Model):
    class Meta:
        table = "plan_items"
        ordering = ["name"]

    name: str = Field(max_length=50)
    price: Decimal = Field(max_digits=8, decimal_places=2)
    active: bool = True
    added: datetime.date = datetime.date(2026, 1, 1)
    category_id: int | None = Field(foreign_key=PlanCategory, on_delete="CASCADE", related_name="items")


def built(qs, vendor: str) -> tuple[str, list]:
    compiled = compile_query(qs.query, "select", operations_for(vendor))
    return compiled.sql, compiled.params(qs.query.params)


CASES = [
    ({"name": "tea"}, {"name": "pot"}),
    ({"price__gte": "1.50"}, {"price__gte": Decimal("2")}),
    ({"name__icontains": "50%_off"}, {"name__icontains": "x"}),
    ({"name__iexact": "Tea"}, {"name__iexact": "POT"}),
    ({"name__regex": "^t"}, {"name__regex": "p$"}),
    ({"active": "true"}, {"active": False}),
    ({"added__lt": "2026-05-01"}, {"added__lt": datetime.date(2026, 6, 1)}),
    ({"category__id": 3}, {"category__id": "4"}),
    ({"pk": 7}, {"pk": "8"}),
]


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
@pytest.mark.parametrize("first, second", CASES, ids=[next(iter(c[0])) for c in CASES])
def test_a_reused_lookup_plan_builds_what_the_full_path_builds(vendor, first, second):
    PlanItem._meta.lookup_plans.clear()
    PlanItem._meta.ordering_plans.clear()
    planned_first = built(PlanItem.objects.filter(**first).order_by("-price", "name")[:3], vendor)
    assert next(iter(first)) in PlanItem._meta.lookup_plans
    assert ("-price", "name") in PlanItem._meta.ordering_plans
    reused = built(PlanItem.objects.filter(**second).order_by("-price", "name")[:3], vendor)
    PlanItem._meta.lookup_plans.clear()
    PlanItem._meta.ordering_plans.clear()
    fresh = built(PlanItem.objects.filter(**second).order_by("-price", "name")[:3], vendor)
    assert reused == fresh
    assert reused[0] == planned_first[0]


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_a_filter_of_several_planned_lookups_builds_what_the_full_path_builds(vendor):
    def query(price, active):
        return PlanItem.objects.filter(price__gte=price, name__icontains="t", active=active).filter(added__lt="2026-05-01")

    PlanItem._meta.lookup_plans.clear()
    PlanItem._meta.where_plans.clear()
    query("1.50", True)  # plans the lookups
    reused = built(query(Decimal("2"), False), vendor)
    shared = query("3", True).query.where[0]
    PlanItem._meta.lookup_plans.clear()
    PlanItem._meta.where_plans.clear()
    fresh = built(query(Decimal("2"), False), vendor)
    assert reused == fresh
    assert query("4", True).query.where[0] is not shared  # plans cleared: built anew ...
    assert query("5", False).query.where[0] is query("6", True).query.where[0]  # ... then shared again


def test_a_planned_filter_keeps_the_values_of_each_call_apart():
    PlanItem.objects.filter(name="cup", active=True)  # plans the lookups
    a = PlanItem.objects.filter(name="tea", active=True)
    b = PlanItem.objects.filter(name="pot", active=False)
    assert a.query.where[0] is b.query.where[0]
    assert (a.query.params, b.query.params) == ((True, "tea"), (False, "pot"))


def test_a_reused_plan_still_rejects_a_bad_value():
    PlanItem.objects.filter(price__gte="1.00")
    assert "price__gte" in PlanItem._meta.lookup_plans
    with pytest.raises(ValidationError, match="price"):
        PlanItem.objects.filter(price__gte="cheap")


def test_joins_lists_nulls_and_transforms_are_not_planned():
    PlanItem._meta.lookup_plans.clear()
    PlanItem.objects.filter(category__name="tea", name__in=["a"], name=None, added__year=2026)
    assert PlanItem._meta.lookup_plans == {}


def test_an_annotation_shadows_nothing_planned():
    # A plan is keyed by the lookup; a QuerySet whose annotation has that name takes the full path.
    PlanItem.objects.filter(name="x").order_by("name")
    qs = PlanCategory.objects.annotate(n=Count("items")).filter(n__gte=2).order_by("n")
    sql, params = built(qs, "sqlite")
    assert 'COUNT' in sql and params[-1] == 2
    assert "n__gte" not in PlanCategory._meta.lookup_plans
    ordered = PlanItem.objects.annotate(total=F("price") * 2).order_by("total")
    assert ("total",) not in PlanItem._meta.ordering_plans
    select, order = built(ordered, "postgresql")[0].split(" ORDER BY ")
    columns = select.split(" FROM ")[0].split(", ")
    # the annotation's expression, named by its position in the SELECT
    assert '"price" *' in columns[int(order.split()[0]) - 1] and 'AS "total"' in columns[int(order.split()[0]) - 1]


async def test_a_planned_get_finds_what_the_full_get_finds(as_default):
    db = as_default
    await db.create_tables(PlanCategory, PlanItem)
    try:
        await PlanItem.objects.bulk_create([
            PlanItem(name="tea", price=Decimal("1.50")),
            PlanItem(name="pot", price=Decimal("9.00"), active=False),
            PlanItem(name="cup", price=Decimal("1.50")),
        ])
        PlanItem._meta.lookup_plans.clear()
        PlanItem._meta.chain_plans.clear()
        tea = await PlanItem.objects.get(name="tea")  # the first get() plans its lookups
        assert tea.name == "tea" and PlanItem._meta.chain_plans == {}
        again = await PlanItem.objects.get(name="tea")  # the second compiles and keeps its SQL
        assert len(PlanItem._meta.chain_plans) == 1
        planned = await PlanItem.objects.get(name="pot")  # the third finds it
        assert (again.pk, planned.name, planned.price, planned.active) == (tea.pk, "pot", Decimal("9.00"), False)
        assert len(PlanItem._meta.chain_plans) == 1
        # A value converted by its field: the parameter's type, not the value's, keys the plan.
        assert (await PlanItem.objects.get(pk=str(tea.pk))).name == "tea"
        assert (await PlanItem.objects.get(pk=tea.pk)).name == "tea"
        # Several lookups, in either order; nothing found; several found.
        for _ in range(3):
            assert (await PlanItem.objects.get(price=Decimal("9.00"), active=False)).name == "pot"
            assert (await PlanItem.objects.get(active=False, price="9.00")).name == "pot"
            assert await PlanItem.objects.get(name="kettle") is None
            with pytest.raises(PlanItem.MultipleObjectsReturned):
                await PlanItem.objects.get(price=Decimal("1.50"))
        with pytest.raises(ValidationError, match="price"):
            await PlanItem.objects.get(price="cheap")
    finally:
        await db.execute(f"DROP TABLE {PlanItem._meta.table}")
        await db.execute(f"DROP TABLE {PlanCategory._meta.table}")


async def test_a_get_after_planned_filters_is_planned_and_one_after_using_is_not(as_default):
    db = as_default
    await db.create_tables(PlanCategory, PlanItem)
    try:
        await PlanItem.objects.bulk_create([PlanItem(name="tea", price=Decimal("1.50")), PlanItem(name="tea", price=Decimal("2.00"), active=False)])
        PlanItem._meta.lookup_plans.clear()
        PlanItem._meta.chain_plans.clear()
        for _ in range(3):
            assert (await PlanItem.objects.filter(active=False).get(name="tea")).price == Decimal("2.00")
            assert (await PlanItem.objects.using(db).get(name="tea", active=True)).price == Decimal("1.50")
        # The first round planned the lookups, the second the filter().get() chain; using()
        # builds a query tree: never a chain.
        assert [key[:2] for key in PlanItem._meta.chain_plans] == [((("filter", ("active", bool)),), ("get", ("name", str)))]
    finally:
        await db.execute(f"DROP TABLE {PlanItem._meta.table}")
        await db.execute(f"DROP TABLE {PlanCategory._meta.table}")


async def test_a_planned_chain_runs_on_the_database_in_force_at_each_call(tmp_path):
    """The database is part of a chain plan's key: ``Meta.database`` given as a URL, and the
    process default as it is when each planned get()/first()/count() is called."""
    from hyperdjango.database import Database, connection

    class UrlPlanned(Model):
        class Meta:
            table = "plan_url_items"
            database = f"sqlite:///{tmp_path / 'meta.db'}"

        name: str = Field(max_length=50)

    class DefaultPlanned(Model):
        class Meta:
            table = "plan_default_items"

        name: str = Field(max_length=50)

    maker = Database(UrlPlanned._meta._database)  # the Meta's URL is not made a Database yet
    await maker.create_tables(UrlPlanned)
    await maker.execute("INSERT INTO plan_url_items (name) VALUES ('from-meta')")
    await maker.close()
    assert (await UrlPlanned.objects.first()).name == "from-meta"  # a chain from the start: planned at once
    meta_db = UrlPlanned._meta.database
    previous = connection._default
    one, two = Database(f"sqlite:///{tmp_path / 'one.db'}"), Database(f"sqlite:///{tmp_path / 'two.db'}")
    try:
        for db, name in ((one, "in-one"), (two, "in-two")):
            await db.create_tables(DefaultPlanned)
            await DefaultPlanned.objects.using(db).create(name=name)
        for _ in range(3):  # plans the lookup, then the chains, then reuses them
            assert (await UrlPlanned.objects.get(id=1)).name == "from-meta"
            for db, name in ((one, "in-one"), (two, "in-two")):
                connection.set_default_database(db)
                assert (await DefaultPlanned.objects.get(id=1)).name == name
                assert (await DefaultPlanned.objects.filter(id=1).first()).name == name
                assert await DefaultPlanned.objects.filter(name=name).count() == 1
        assert {key[2] for key in DefaultPlanned._meta.chain_plans} == {one, two}
        assert {key[2] for key in UrlPlanned._meta.chain_plans} == {meta_db}
    finally:
        connection._default = previous
        for db in (one, two, meta_db):
            await db.close()


@pytest.fixture
async def chain_items(as_default):
    """Six items in the default database, dropped afterwards."""
    db = as_default
    await db.create_tables(PlanCategory, PlanItem)
    await PlanItem.objects.bulk_create([
        PlanItem(name=name, price=Decimal(price), active=active)
        for name, price, active in [("tea", "1.50", True), ("pot", "9.00", False), ("cup", "1.50", True),
                                    ("tin", "4.25", True), ("mat", "0.75", True), ("jug", "2.50", False)]
    ])
    yield db
    await db.execute(f"DROP TABLE {PlanItem._meta.table}")
    await db.execute(f"DROP TABLE {PlanCategory._meta.table}")


def _chains(price, low: int, high: int) -> list:
    objects = PlanItem.objects
    return [
        objects.filter(active=True, price__gte=price).order_by("-price", "name")[low:high],
        objects.filter(name__icontains="t").filter(price__lt=price),
        objects.order_by("price", "name")[low:],
        objects.filter(active=False).all(),
        objects.all()[:high],
    ]


async def test_a_recorded_chain_returns_what_its_built_query_returns(chain_items):
    PlanItem._meta.chain_plans.clear()
    for _ in range(3):  # plans the lookups and orderings, then records and keeps chains, then reuses them
        for price, low, high in [(Decimal("1"), 0, 2), (Decimal("2.5"), 1, 2), ("0", 2, 5), (4, 0, 1)]:
            for chain in _chains(price, low, high):
                built = chain.all()
                assert built.query is not None and built._chain is None  # the tree handed out: no chain
                assert [o.name for o in await chain] == [o.name for o in await built]
                first, expected = await chain.first(), await built.first()
                assert (first and first.name) == (expected and expected.name)
    assert len({key[:2] for key in PlanItem._meta.chain_plans}) >= 5  # chains were planned, each shape once


async def test_values_that_change_the_sql_are_part_of_a_chains_key(chain_items):
    for _ in range(2):
        assert len(await PlanItem.objects.filter(active=True)[:2]) == 2
        assert len(await PlanItem.objects.filter(active=True)[:3]) == 3  # another LIMIT: another plan
        assert [o.name for o in await PlanItem.objects.filter(active=True)[3:]] == ["tin"]  # ordered by name; an OFFSET
        assert await PlanItem.objects.filter(category_id=None).order_by("name")[:1] != []  # IS NULL, not "= NULL"
        assert await PlanItem.objects.filter(category_id=3) == []
        assert len(await PlanItem.objects.filter(name__in=["tea", "pot"])) == 2
        assert len(await PlanItem.objects.filter(name__in=["tea"])) == 1
        assert await PlanItem.objects.filter(name__in=[]) == []
    before = {key[-1] for key in PlanItem._meta.chain_plans}
    with timezone.override("Asia/Tokyo"):
        assert len(await PlanItem.objects.filter(active=True)) == 4
    assert {key[-1] for key in PlanItem._meta.chain_plans} - before  # planned again in that zone


async def test_a_chain_stays_immutable_and_its_tree_changed_in_place_is_honoured(chain_items):
    for _ in range(2):
        active = PlanItem.objects.filter(active=True)
        narrower = active.filter(name="tea")
        assert len(await active) == 4 and [o.name for o in await narrower] == ["tea"]
        changed = PlanItem.objects.filter(active=True)
        changed.query.set_limits(0, 1)  # the tree handed out and changed: what runs
        assert len(await changed) == 1
        sliced = PlanItem.objects.filter(active=True)[:2]
        with pytest.raises(TypeError, match="sliced"):
            sliced.filter(name="tea")
        with pytest.raises(ValidationError, match="price"):
            PlanItem.objects.filter(active=True).filter(price__gte="cheap")


async def test_a_planned_get_or_first_is_the_drivers_future_finished_with_the_one_instance(chain_items):
    PlanItem._meta.lookup_plans.clear()
    PlanItem._meta.chain_plans.clear()
    for _ in range(3):  # plans the lookups and the ordering, then the chains
        await PlanItem.objects.get(name="tea")
        await PlanItem.objects.filter(active=False).get(name="pot")
        await PlanItem.objects.filter(active=False).order_by("name").first()
        with pytest.raises(PlanItem.MultipleObjectsReturned):
            await PlanItem.objects.filter(price=Decimal("1.50")).get()
    tea = PlanItem.objects.get(name="tea")
    assert type(tea) is _core.RustFuture  # no coroutine of ours: finished in Rust
    assert (await tea).name == "tea"
    assert await PlanItem.objects.get(name="kettle") is None
    found = PlanItem.objects.filter(active=False).order_by("name").first()
    assert type(found) is _core.RustFuture
    assert (await found).name == "jug"
    assert await PlanItem.objects.filter(active=False).order_by("name").filter(name="none").first() is None
    several = PlanItem.objects.filter(price=Decimal("1.50")).get()
    assert type(several) is _core.RustFuture
    with pytest.raises(PlanItem.MultipleObjectsReturned, match=r"^get\(\) found several PlanItem rows for \(\); narrow the filter$"):
        await several
    with pytest.raises(PlanItem.MultipleObjectsReturned, match=r"^get\(\) found several PlanItem rows for \{'active': True\}; narrow the filter$"):
        await PlanItem.objects.filter(price=Decimal("1.50")).get(active=True)


async def test_a_planned_count_is_the_drivers_future_and_raises_its_errors_at_await(chain_items):
    from hyperdjango.database import connection

    for _ in range(3):  # plans the lookup, then the chain
        assert await PlanItem.objects.filter(active=True).count() == 4
    counted = PlanItem.objects.filter(active=False).count()
    assert type(counted) is _core.RustFuture  # no coroutine of ours
    assert await counted == 2
    assert await PlanItem.objects.count() == 6
    assert await PlanItem.objects.none().count() == 0  # not a chain: a coroutine, as before
    previous, connection._default = connection._default, None
    try:
        pending = PlanItem.objects.filter(active=True).count()  # no database: not raised here
    finally:
        connection._default = previous
    with pytest.raises(RuntimeError, match="no default database"):
        await pending


async def test_planned_gets_under_gather_run_without_a_task_each_and_in_a_task_of_their_own(chain_items):
    for _ in range(2):
        await PlanItem.objects.get(name="tea")
    names = ["tea", "pot", "cup", "tin", "mat", "jug", "kettle"]
    created = []
    loop = asyncio.get_running_loop()
    loop.set_task_factory(lambda loop, coro, **kw: created.append(coro) or asyncio.Task(coro, loop=loop, **kw))
    try:
        found = await asyncio.gather(*(PlanItem.objects.get(name=n) for n in names))
    finally:
        loop.set_task_factory(None)
    assert created == []
    assert [item.name if item else None for item in found] == names[:-1] + [None]
    assert (await asyncio.create_task(PlanItem.objects.get(name="mat"))).price == Decimal("0.75")


async def test_a_planned_get_raises_a_refused_value_at_await_not_at_the_call(chain_items):
    for _ in range(2):
        await PlanItem.objects.get(price=Decimal("1.00"))
    refused = PlanItem.objects.get(price="cheap")  # no exception here
    with pytest.raises(ValidationError, match="price"):
        await refused
    results = await asyncio.gather(PlanItem.objects.get(price=Decimal("9.00")), PlanItem.objects.get(price="cheap"), return_exceptions=True)
    assert results[0].name == "pot" and isinstance(results[1], ValidationError)


async def test_a_recorded_chain_counts_and_answers_exists_as_its_built_query(chain_items):
    PlanItem._meta.chain_plans.clear()
    for _ in range(3):  # plans the lookups and orderings, then records and keeps chains, then reuses them
        for price, low, high in [(Decimal("1"), 0, 2), (Decimal("2.5"), 1, 2), ("0", 2, 5), (4, 0, 1), (Decimal("99"), 0, 3)]:
            for chain in [*_chains(price, low, high), PlanItem.objects.all(), PlanItem.objects.filter(price__gte=price)]:
                built = chain.all()
                assert built.query is not None and built._chain is None  # the tree handed out: no chain
                assert await chain.count() == await built.count()
                assert await chain.exists() is await built.exists()
    kinds = {key[1] for key in PlanItem._meta.chain_plans}
    assert {"count", "exists"} <= kinds
    assert await PlanItem.objects.count() == 6 and await PlanItem.objects.filter(price__gte=100).exists() is False
    assert await PlanItem.objects.filter(active=True)[1:3].count() == 2  # a slice counts its rows


async def test_a_planned_count_or_exists_of_a_shape_seen_before_compiles_nothing(chain_items):
    from hyperdjango.orm.sql import compiler

    for price in ("1", "2"):  # plans the lookup, then records the chains
        await PlanItem.objects.filter(price__gte=price).count()
        await PlanItem.objects.filter(price__gte=price).exists()
    kept = dict(PlanItem._meta.chain_plans)
    compiler._cache.clear()
    assert await PlanItem.objects.filter(price__gte=Decimal("2.5")).count() == 3
    assert await PlanItem.objects.filter(price__gte=Decimal("4.25")).exists() is True
    assert await PlanItem.objects.filter(price__gte=Decimal("9.5")).exists() is False
    assert compiler._cache == {}  # nothing compiled: the SQL came from the chain's plan
    assert PlanItem._meta.chain_plans == kept


def test_get_queryset_hands_out_a_new_queryset_and_the_managers_methods_share_none_of_it():
    handed = PlanItem.objects.get_queryset()
    assert handed is not PlanItem.objects.get_queryset()
    handed.query.set_limits(0, 1)  # the tree handed out, changed in place
    assert not PlanItem.objects.all().query.is_sliced
    assert not PlanItem.objects.filter(active=True).query.is_sliced


async def test_a_manager_that_overrides_get_queryset_is_honoured_by_every_method(chain_items):
    from hyperdjango.orm.manager import Manager

    class ActiveItems(Manager["PlanItem"]):
        def get_queryset(self):
            return super().get_queryset().filter(active=True)

    active = ActiveItems().bind(PlanItem)
    for _ in range(2):  # the second round on planned lookups
        assert await active.count() == 4 and await PlanItem.objects.count() == 6
        assert sorted(o.name for o in await active.filter(price__lt=3)) == ["cup", "mat", "tea"]
        assert await active.filter(name="pot").exists() is False
        assert (await active.get(name="tea")).name == "tea" and await active.get(name="pot") is None


async def test_a_managers_shared_queryset_survives_the_methods_that_read_its_tree(chain_items):
    tea = await PlanItem.objects.get(name="tea")
    assert await PlanItem.objects.contains(tea) and (await PlanItem.objects.last()).name == "tin"
    assert PlanItem.objects._start()._chain == ()  # still a chain: its tree was read, not handed out
    assert len(await PlanItem.objects.filter(active=True)) == 4


def test_a_field_whose_conversion_is_its_own_converts_every_lookup_value():
    from hyperdjango.orm.fields import BooleanField, FloatField, IntegerField

    class EvenInteger(IntegerField):
        def to_python(self, value):
            value = super().to_python(value)
            if value % 2:
                raise ValueError(value)
            return value

    assert (IntegerField.unconverted_type, FloatField.unconverted_type, BooleanField.unconverted_type) == (int, float, bool)
    assert EvenInteger.unconverted_type is None
    field = PlanItem._meta.field_map["category_id"]
    assert field.unconverted_type is int and field.convert(True, exact=True) == 1 and type(field.convert(True, exact=True)) is int


async def test_an_instance_read_from_a_row_holds_exactly_its_fields_and_persisted_state(chain_items):
    # The instance reader allocates the object itself and installs its whole __dict__ at
    # once (no object.__new__ call, no __init__): every read path must still give what
    # __init__ and save() would leave, key for key, and an ordinary, writable instance.
    expected_keys = [f.name for f in PlanItem._meta.fields] + ["_persisted"]
    for _ in range(3):  # the full path, then planned chains
        loaded = [
            await PlanItem.objects.get(name="tea"),
            await PlanItem.objects.filter(name="tea").first(),
            *(await PlanItem.objects.filter(name="tea")),
            *[o async for o in PlanItem.objects.filter(name="tea").aiterator(chunk_size=1)],
        ]
        for obj in loaded:
            assert type(obj) is PlanItem
            assert list(obj.__dict__) == expected_keys
            assert obj.__dict__ == {"id": obj.id, "name": "tea", "price": Decimal("1.50"), "active": True,
                                    "added": datetime.date(2026, 1, 1), "category_id": None, "_persisted": True}
            obj.name = "teapot"
            obj.note = "not a field"
            assert obj.__dict__["name"] == "teapot" and obj.note == "not a field"
            assert obj == loaded[0] and hash(obj) == hash(loaded[0])


def test_the_instance_reader_refuses_a_class_object_new_refuses():
    import abc

    class Abstract(abc.ABC):
        @abc.abstractmethod
        def run(self) -> None: ...

    class Concrete(Abstract):
        def run(self) -> None: ...

    with pytest.raises(TypeError, match="abstract"):
        _core.InstanceReader(Abstract, ("a",), {}, [])([[1]])
    (obj,) = _core.InstanceReader(Concrete, ("a",), {"_persisted": True}, [])([[1]])
    assert type(obj) is Concrete and obj.__dict__ == {"a": 1, "_persisted": True}


async def test_a_planned_aggregate_of_a_shape_seen_before_compiles_nothing_and_answers_as_the_full_path(chain_items):
    from hyperdjango.expressions import Avg, Max, Sum
    from hyperdjango.orm.sql import compiler

    def asked():
        return PlanItem.objects.filter(active=True).aggregate(Sum("price"), top=Max("price"), n=Count("id"))

    expected = {"price__sum": Decimal("8.00"), "top": Decimal("4.25"), "n": 4}
    built = PlanItem.objects.filter(active=True)
    assert built.query is not None and built._chain is None  # the tree handed out: the full path
    assert await built.aggregate(Sum("price"), top=Max("price"), n=Count("id")) == expected
    for _ in range(2):  # plans the lookup, then records the chain
        assert await asked() == expected
    kept = dict(PlanItem._meta.chain_plans)
    compiler._cache.clear()
    assert await asked() == expected
    assert compiler._cache == {}  # nothing compiled: the SQL came from the chain's plan
    assert PlanItem._meta.chain_plans == kept
    # Another aggregate, or another name for it, is another plan with its own answer.
    assert await PlanItem.objects.filter(active=True).aggregate(top=Avg("price")) == {"top": Decimal("2.00")}
    assert await PlanItem.objects.filter(active=True).aggregate(low=Max("price")) == {"low": Decimal("4.25")}
    assert await PlanItem.objects.filter(active=False).aggregate(Sum("price")) == {"price__sum": Decimal("11.50")}


def _counting_queryset_gets(monkeypatch) -> list:
    """The calls ``Model.objects.get`` leaves to ``QuerySet.get`` (its own planned path does not)."""
    from hyperdjango.orm.query import QuerySet

    calls: list = []
    full = QuerySet.get

    def counted(self, *conditions, **lookups):
        calls.append(lookups)
        return full(self, *conditions, **lookups)

    monkeypatch.setattr(QuerySet, "get", counted)
    return calls


async def test_a_managers_planned_get_answers_as_the_full_get_and_falls_back_for_other_value_types(chain_items, monkeypatch):
    PlanItem._meta.lookup_plans.clear()
    PlanItem._meta.chain_plans.clear()
    tea = await PlanItem.objects.get(name="tea")
    calls = _counting_queryset_gets(monkeypatch)
    for _ in range(2):  # plans the lookups, then the chains
        assert (await PlanItem.objects.get(id=tea.pk)).name == "tea"
        assert await PlanItem.objects.get(id=10_000) is None
        with pytest.raises(PlanItem.MultipleObjectsReturned, match=r"for \{'active': False\}"):
            await PlanItem.objects.get(active=False)
    calls.clear()
    found = PlanItem.objects.get(id=tea.pk)
    assert type(found) is _core.RustFuture and (await found).name == "tea"
    assert await PlanItem.objects.get(id=10_000) is None
    with pytest.raises(PlanItem.MultipleObjectsReturned, match=r"^get\(\) found several PlanItem rows for \{'active': False\}; narrow the filter$"):
        await PlanItem.objects.get(active=False)
    assert calls == []  # all three from the manager's own planned path
    # Values the lookup converts (a str key, a str flag) and
    # lookups that are not the root chain's one planned lookup take QuerySet.get, same answers.
    assert (await PlanItem.objects.get(id=str(tea.pk))).name == "tea"
    assert (await PlanItem.objects.get(name="tea")).pk == tea.pk  # a str: converted by its field
    with pytest.raises(PlanItem.MultipleObjectsReturned):
        await PlanItem.objects.get(active="false")
    assert (await PlanItem.objects.get(id=tea.pk, name="tea")).pk == tea.pk
    assert len(calls) == 4
    with pytest.raises(ValidationError, match="id"):
        await PlanItem.objects.get(id="abc")


async def test_a_managers_planned_get_first_and_count_run_in_the_callers_transaction(chain_items):
    from hyperdjango.database import atomic

    for _ in range(3):  # plans the lookups, then the chains
        tea = await PlanItem.objects.get(name="tea")
        await PlanItem.objects.get(id=tea.pk)
        await PlanItem.objects.filter(active=True).first()
        await PlanItem.objects.filter(active=True).count()

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback):
        async with atomic(chain_items):
            await PlanItem.objects.filter(id=tea.pk).update(active=False, name="gone")
            assert (await PlanItem.objects.get(id=tea.pk)).name == "gone"  # this transaction's row
            assert await PlanItem.objects.filter(active=True).count() == 3
            assert (await PlanItem.objects.filter(active=True).first()).name != "tea"
            raise Rollback
    assert (await PlanItem.objects.get(id=tea.pk)).name == "tea"
    assert await PlanItem.objects.filter(active=True).count() == 4


async def test_a_managers_planned_get_is_keyed_by_time_zone_and_database(chain_items, monkeypatch, tmp_path):
    from hyperdjango.database import Database, connection

    tea = await PlanItem.objects.get(name="tea")
    for _ in range(2):
        await PlanItem.objects.get(id=tea.pk)
    calls = _counting_queryset_gets(monkeypatch)
    with timezone.override("Asia/Tokyo"):  # another zone: planned again there, not reused
        for _ in range(2):
            assert (await PlanItem.objects.get(id=tea.pk)).name == "tea"
    assert len(calls) == 1
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    await other.create_tables(PlanCategory, PlanItem)
    await PlanItem.objects.using(other).create(name="other", price=Decimal("1"))
    connection.set_default_database(other)  # the default changed: the other database's plan
    try:
        for _ in range(2):
            assert (await PlanItem.objects.get(id=1)).name == "other"
        assert (await PlanItem.objects.using(chain_items).get(id=tea.pk)).name == "tea"
    finally:
        connection.set_default_database(chain_items)
        await other.close()
    assert (await PlanItem.objects.get(id=tea.pk)).name == "tea"


async def test_a_managers_planned_filter_records_the_chain_querysets_filter_records(chain_items, monkeypatch):
    from hyperdjango.orm.query import QuerySet

    for _ in range(2):  # plans the lookups
        await PlanItem.objects.filter(active=True).first()
        await PlanItem.objects.filter(id=1).count()
    full = QuerySet.filter
    calls: list = []
    monkeypatch.setattr(QuerySet, "filter", lambda self, *c, **kw: calls.append(kw) or full(self, *c, **kw))
    for lookups in ({"active": False}, {"id": 2}, {"active": "no"}, {"name": "tea"}, {"id": 2, "active": True}):
        made, recorded = PlanItem.objects.filter(**lookups), full(PlanItem.objects.all(), **lookups)
        assert (made._chain, made._values, made._steps) == (recorded._chain, recorded._values, recorded._steps)
    assert calls == [{"active": "no"}, {"name": "tea"}, {"id": 2, "active": True}]  # converted values: QuerySet.filter
    assert [o.name for o in await PlanItem.objects.filter(active=False)] == ["jug", "pot"]
    assert (await PlanItem.objects.filter(active=False).first()).name == "jug"
    assert await PlanItem.objects.filter(active=False).count() == 2


async def test_a_planned_read_runs_in_the_callers_transaction_and_savepoint_and_their_rollback_undoes_it(chain_items):
    """``PlannedRead`` reads the transaction ContextVar itself: lists, get, first and count of
    planned chains see the rows of the caller's ``atomic()`` block (and of tasks it starts),
    a savepoint's rollback undoes its part, the outer rollback the rest."""
    from hyperdjango.database import atomic

    def reads():
        return asyncio.gather(PlanItem.objects.filter(active=True), PlanItem.objects.get(name="new"),
                              PlanItem.objects.filter(active=True).order_by("price").first(),
                              PlanItem.objects.filter(active=True).count(), PlanItem.objects.filter(name="new").exists())

    for _ in range(3):  # plans the lookups, then the chains
        await reads()
    outside = chain_items._target()
    assert outside is chain_items._core

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback):
        async with atomic(chain_items):
            assert chain_items._target() is not outside  # the transaction's connection
            await PlanItem.objects.create(name="new", price=Decimal("0.10"))
            rows, new, first, count, exists = await reads()
            assert (len(rows), new.name, first.name, count, exists) == (5, "new", "new", 5, True)
            with pytest.raises(Rollback):
                async with atomic(chain_items):
                    await PlanItem.objects.filter(name="new").update(active=False)
                    assert await PlanItem.objects.filter(active=True).count() == 4
                    raise Rollback
            rows, new, first, count, exists = await reads()
            assert (len(rows), new.active, count, exists) == (5, True, 5, True)
            raise Rollback
    rows, new, first, count, exists = await reads()
    assert (len(rows), new, first.name, count, exists) == (4, None, "mat", 4, False)
    assert chain_items._target() is outside


async def test_a_planned_read_on_an_object_that_is_no_database_calls_its_public_methods(chain_items):
    """A proxy (``CountingDatabase``) as the default database sees every planned read through
    its ``query_*`` methods: the rule of which connection is the wrapped database's own."""
    from hyperdjango.database import connection

    from support.orm import CountingDatabase

    counted = CountingDatabase(chain_items)
    connection.set_default_database(counted)
    try:
        for _ in range(3):  # plans the lookups, then the chains (keyed by the proxy), then reuses them
            counted.statements.clear()
            assert (await PlanItem.objects.get(id=1)).name == "tea"
            assert (await PlanItem.objects.filter(active=True).first()).name == "cup"
            assert await PlanItem.objects.filter(active=True).count() == 4
            assert len(await PlanItem.objects.filter(active=False)) == 2
            assert await PlanItem.objects.filter(name="tea").exists()
            assert len(counted.statements) == 5
    finally:
        connection.set_default_database(chain_items)


def test_a_planned_read_outside_a_running_loop_is_a_coroutine_and_each_new_loop_gets_its_own_bridge(tmp_path):
    """With no running loop a planned read is the database's coroutine, run later; on each new
    loop (and a loop in another thread) planned reads start on that loop's bridge, never on a
    bridge remembered for a loop that is gone."""
    import threading

    from hyperdjango.database import Database, connection

    db = Database(f"sqlite:///{tmp_path / 'loops.db'}")

    async def seed():
        await db.create_tables(PlanCategory, PlanItem)
        await PlanItem.objects.using(db).create(name="tea", price=Decimal("1.50"))

    async def reads():
        found = PlanItem.objects.get(id=1)
        exists = PlanItem.objects.exists()
        assert type(found) is _core.RustFuture and type(exists) is _core.RustFuture  # started on this loop
        return ((await found).name, (await PlanItem.objects.first()).name, await PlanItem.objects.count(),
                [o.name for o in await PlanItem.objects.all()], await exists)

    previous = connection._default
    connection.set_default_database(db)
    try:
        asyncio.run(seed())
        for _ in range(3):  # a new loop each time; plans, then reuses
            assert asyncio.run(reads()) == ("tea", "tea", 1, ["tea"], True)
        made = [PlanItem.objects.get(id=1), PlanItem.objects.first(), PlanItem.objects.count(), PlanItem.objects.exists()]
        assert all(asyncio.iscoroutine(m) and type(m) is not _core.RustFuture for m in made)

        async def run_made():
            return [await m for m in made]

        got = asyncio.run(run_made())
        assert ([got[0].name, got[1].name], got[2], got[3]) == (["tea", "tea"], 1, True)
        answers: list = []
        thread = threading.Thread(target=lambda: answers.append(asyncio.run(reads())))
        thread.start()
        thread.join()
        assert answers == [("tea", "tea", 1, ["tea"], True)]
        asyncio.run(db.close())
    finally:
        connection._default = previous
