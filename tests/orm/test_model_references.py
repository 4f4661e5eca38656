"""A model named by a string: ``"app_label.ClassName"`` across modules, resolved when it is defined.

Each test writes a small package (an app) to a temporary directory and imports
its modules in the order the test needs; package names are unique per test, so
the process-wide model registry never mixes two tests' models.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid

import pytest

from hyperdjango.orm import FieldError


@pytest.fixture
def app(tmp_path, monkeypatch):
    """Writes ``{module: source}`` as a fresh package; returns (package name, importer)."""
    name = f"refapp_{uuid.uuid4().hex[:8]}"
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(**modules: str):
        package = tmp_path / name
        package.mkdir(exist_ok=True)
        (package / "__init__.py").write_text("")
        for module, source in modules.items():
            (package / f"{module}.py").write_text(textwrap.dedent(source).replace("APP", name))
        importlib.invalidate_caches()
        return lambda module: importlib.import_module(f"{name}.{module}")

    yield name, write
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


CATALOG = """
    from hyperdjango import Field, Model

    class Category(Model):
        class Meta:
            table = "APP_categories"
        name: str = Field(max_length=50)

    class Tag(Model):
        class Meta:
            table = "APP_tags"
        name: str = ""
"""

ORDERS = """
    from hyperdjango import Field, ManyToMany, Model

    class Order(Model):
        class Meta:
            table = "APP_orders"
        ref: str = ""
        category_id: int | None = Field(foreign_key="APP.Category", on_delete="CASCADE", related_name="orders")
        tags = ManyToMany("APP.Tag", related_name="orders")
"""


async def test_a_model_of_another_module_is_named_by_app_label_and_resolved_once_imported(app, db):
    name, write = app
    load = write(catalog=CATALOG, orders=ORDERS)
    Order = load("orders").Order
    with pytest.raises(FieldError, match=f"'{name}.Category'"):   # not imported yet
        Order._meta.relations["category"].target
    catalog = load("catalog")
    Category, Tag = catalog.Category, catalog.Tag
    assert Order._meta.relations["category"].target is Category
    assert Category._meta.relations["orders"].target is Order     # the reverse side appeared too

    await db.create_tables(Category, Tag, Order)
    try:
        tea = await Category.objects.using(db).create(name="Tea")
        green = await Tag.objects.using(db).create(name="green")
        order = await Order.objects.using(db).create(ref="A1", category=tea)
        await order.tags.add(green)
        assert [o.ref for o in await Order.objects.using(db).filter(category__name="Tea", tags__name="green")] == ["A1"]
        assert [o.ref for o in await tea.orders.all()] == ["A1"]
        assert [o.ref for o in await green.orders.all()] == ["A1"]
    finally:
        await db.drop_tables(Order, Tag, Category)


def test_a_module_path_names_a_model_too(app):
    name, write = app
    load = write(catalog=CATALOG, orders=ORDERS.replace('"APP.Category"', '"APP.catalog.Category"'))
    Category = load("catalog").Category
    assert load("orders").Order._meta.relations["category"].target is Category


def test_a_model_that_never_appears_is_named_in_the_error(app):
    name, write = app
    load = write(orders=ORDERS.replace('"APP.Category"', '"APP.Nowhere"').replace('tags = ManyToMany("APP.Tag", related_name="orders")', ""))
    Order = load("orders").Order
    with pytest.raises(FieldError) as e:
        Order.objects.filter(category__name="Tea")
    assert f"'{name}.Nowhere'" in str(e.value) and "Order" in str(e.value) and "import" in str(e.value)


def test_a_bare_name_still_means_the_same_module(app):
    name, write = app
    load = write(catalog=CATALOG, orders=ORDERS.replace('"APP.Category"', '"Category"').replace('tags = ManyToMany("APP.Tag", related_name="orders")', ""))
    load("catalog")
    Order = load("orders").Order
    with pytest.raises(FieldError, match="no class Category"):
        Order._meta.relations["category"].target


def test_two_models_of_one_name_in_an_app_are_ambiguous(app):
    name, write = app
    load = write(catalog=CATALOG, archive=CATALOG.replace("APP_", "APP_old_"), orders=ORDERS)
    load("catalog")
    load("archive")
    with pytest.raises(FieldError, match="ambiguous"):
        load("orders")


def test_migrations_record_a_string_target_by_its_app_label(app):
    from hyperdjango.migrations.apps import label_of
    from hyperdjango.migrations.state import ProjectState

    name, write = app
    source = ORDERS.replace('"APP.Category"', '"APP.catalog.Category"').replace(
        'tags = ManyToMany("APP.Tag", related_name="orders")',
        'parent_id: int | None = Field(foreign_key="self", on_delete="CASCADE", related_name="children")',
    )
    load = write(catalog=CATALOG, orders=source)
    Category, Order = load("catalog").Category, load("orders").Order
    state = ProjectState.from_models({name: [Category, Order]}, label_of)
    fields = state.models[f"{name}.Order"].fields
    assert (fields["category_id"].foreign_key, fields["parent_id"].foreign_key) == (f"{name}.Category", f"{name}.Order")
    assert state.table_spec(state.models[f"{name}.Order"]) is not None   # both targets resolve in the state


def test_a_package_names_a_model_of_its_own_modules_by_its_app_label(app):
    name, write = app
    init = "from .catalog import Category\n" + textwrap.dedent(ORDERS.replace('tags = ManyToMany("APP.Tag", related_name="orders")', ""))
    write(catalog=CATALOG, __init__=init)
    package = importlib.import_module(name)       # Category exists before Order names it
    assert package.Order._meta.relations["category"].target is package.Category
