"""makemigrations + migrate create, alter and reverse a schema on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import sys
from decimal import Decimal

import pytest

from hyperdjango.migrations import MigrationError, make_migrations, migrate, show_migrations
from support.migrations import columns, indexes, tables

yes = lambda question: True  # noqa: E731

SHELF_V1 = """
class Shelf(Model):
    class Meta:
        table = "{p}_shelf"
    label: str = Field(max_length=20)
    stock: int = 0
    note: str | None = None
"""


async def test_initial_migration_creates_the_tables_and_is_recorded(db, project):
    app = project.models(SHELF_V1)
    path = make_migrations(app)
    assert path.name == "0001_initial.py"
    assert await migrate(db, app) == [f"Applying {project.label}.0001_initial"]
    assert await columns(db, f"{project.prefix}_shelf") == {"id": False, "label": False, "stock": False, "note": True}
    assert await show_migrations(db, app) == {project.label: [("0001_initial", True)]}
    assert await migrate(db, app) == []  # nothing left to apply


async def test_makemigrations_finds_no_changes_when_the_models_match(project):
    app = project.models(SHELF_V1)
    make_migrations(app)
    assert make_migrations(project.app()) is None
    assert project.migrations == ["0001_initial"]


async def test_add_remove_alter_and_rename_fields_keep_the_data(db, project):
    make_migrations(project.models(SHELF_V1))
    await migrate(db, project.app())
    table = f"{project.prefix}_shelf"
    await db.execute(f'INSERT INTO "{table}" (label, stock, note) VALUES ($1, $2, $3)', "top", 7, "n")
    app = project.models("""
    class Shelf(Model):
        class Meta:
            table = "{p}_shelf"
        title: str = Field(max_length=20)             # renamed from label
        stock: int | None = None                       # now nullable
        price: Decimal = Field(max_digits=6, decimal_places=2, default=Decimal("1.50"))  # added
    """)
    path = make_migrations(app, ask=yes)
    source = path.read_text()
    for operation in ("RenameField", "RemoveField", "AddField", "AlterField"):
        assert f"migrations.{operation}(" in source
    await migrate(db, app)
    assert await columns(db, table) == {"id": False, "title": False, "stock": True, "price": False}
    row = await db.query_one(f'SELECT title, stock, price FROM "{table}"')
    assert (row["title"], row["stock"], Decimal(str(row["price"])).quantize(Decimal("0.01"))) == ("top", 7, Decimal("1.50"))
    await db.execute(f'INSERT INTO "{table}" (title, stock, price) VALUES ($1, NULL, $2)', "x" * 20, Decimal("2"))

    await db.execute(f'DELETE FROM "{table}" WHERE stock IS NULL')
    assert await migrate(db, app, target="0001") == [f"Unapplying {project.label}.0002_{path.stem[5:]}"]
    assert await columns(db, table) == {"id": False, "label": False, "stock": False, "note": True}
    row = await db.query_one(f'SELECT label, stock, note FROM "{table}"')
    assert (row["label"], row["stock"], row["note"]) == ("top", 7, None)  # a removed column comes back empty


async def test_without_a_yes_a_rename_is_a_remove_and_an_add(project):
    make_migrations(project.models(SHELF_V1))
    questions = []
    app = project.models(SHELF_V1.replace("label:", "title:"))
    source = make_migrations(app, ask=lambda q: questions.append(q) or False).read_text()
    assert questions == ["Did you rename Shelf.label to Shelf.title (a field of the same type)? [y/N]"]
    assert "RemoveField" in source and "AddField" in source and "RenameField" not in source


async def test_reverse_to_zero_drops_everything_in_reverse_order(db, project):
    make_migrations(project.models(SHELF_V1))
    make_migrations(project.models(SHELF_V1 + """
class Book(Model):
    class Meta:
        table = "{p}_book"
    shelf_id: int = Field(foreign_key=Shelf, on_delete="CASCADE")
"""))
    app = project.app()
    assert len(await migrate(db, app)) == 2
    assert {f"{project.prefix}_shelf", f"{project.prefix}_book"} <= await tables(db)
    assert await migrate(db, app, target="zero") == [f"Unapplying {project.label}.{name}" for name in reversed(project.migrations)]
    assert not {f"{project.prefix}_shelf", f"{project.prefix}_book"} & await tables(db)
    assert await show_migrations(db, app) == {project.label: [(name, False) for name in project.migrations]}
    with pytest.raises(MigrationError, match="no migration of .* matches '0009'"):
        await migrate(db, app, target="0009")


async def test_unique_together_and_indexes_are_added_and_removed(db, project):
    make_migrations(project.models(SHELF_V1))
    app = project.models("""
    class Shelf(Model):
        class Meta:
            table = "{p}_shelf"
            unique_together = [("label", "stock")]
            indexes = [("stock", "note")]
        label: str = Field(max_length=20)
        stock: int = 0
        note: str | None = None
    """)
    source = make_migrations(app).read_text()
    assert "migrations.AddConstraint(" in source and "migrations.AddIndex(" in source
    await migrate(db, app)
    table = f"{project.prefix}_shelf"
    assert await indexes(db, table) == {f"{table}_stock_note_idx"}
    await db.execute(f'INSERT INTO "{table}" (label, stock) VALUES ($1, $2)', "a", 1)
    with pytest.raises(Exception, match="(?i)unique"):
        await db.execute(f'INSERT INTO "{table}" (label, stock) VALUES ($1, $2)', "a", 1)
    await migrate(db, app, target="0001")
    assert await indexes(db, table) == set()
    await db.execute(f'INSERT INTO "{table}" (label, stock) VALUES ($1, $2)', "a", 1)  # no longer unique


async def test_rename_model_and_its_table_keeps_rows_and_foreign_keys(db, project):
    make_migrations(project.models("""
    class Shelf(Model):
        class Meta:
            table = "{p}_shelf"
        label: str = Field(max_length=20, index=True)
    class Book(Model):
        class Meta:
            table = "{p}_book"
        shelf_id: int = Field(foreign_key=Shelf, on_delete="CASCADE")
    """))
    await migrate(db, project.app())
    shelf_id = await db.query_val(f'INSERT INTO "{project.prefix}_shelf" (label) VALUES ($1) RETURNING id', "top")
    await db.execute(f'INSERT INTO "{project.prefix}_book" (shelf_id) VALUES ($1)', shelf_id)
    app = project.models("""
    class Rack(Model):
        class Meta:
            table = "{p}_rack"
        label: str = Field(max_length=20, index=True)
    class Book(Model):
        class Meta:
            table = "{p}_book"
        shelf_id: int = Field(foreign_key=Rack, on_delete="CASCADE")
    """)
    source = make_migrations(app, ask=yes).read_text()
    assert "migrations.RenameModel(" in source and "migrations.AlterModelTable(" in source and "CreateModel" not in source
    await migrate(db, app)
    assert f"{project.prefix}_rack" in await tables(db) and f"{project.prefix}_shelf" not in await tables(db)
    assert await indexes(db, f"{project.prefix}_rack") == {f"{project.prefix}_rack_label_idx"}
    assert await db.query_val(f'SELECT label FROM "{project.prefix}_rack"') == "top"
    await db.execute(f'DELETE FROM "{project.prefix}_rack"')  # the foreign key follows the renamed table
    assert await db.query_val(f'SELECT COUNT(*) FROM "{project.prefix}_book"') == 0
    await migrate(db, app, target="0001")
    assert f"{project.prefix}_shelf" in await tables(db)
    assert make_migrations(project.app()) is None  # back at 0001 the models still match 0002


async def test_renaming_a_field_renames_the_indexes_and_constraints_over_it(db, project):
    v1 = """
    class Shelf(Model):
        class Meta:
            table = "{p}_shelf"
            unique_together = [("label", "stock")]
            indexes = [("label", "stock")]
        label: str = Field(max_length=20, index=True)
        stock: int = 0
    """
    make_migrations(project.models(v1))
    make_migrations(project.models(v1.replace("label", "title")), ask=yes)
    v3 = v1.replace("label", "title").replace('unique_together = [("title", "stock")]', "").replace('indexes = [("title", "stock")]', "pass")
    make_migrations(project.models(v3))
    app = project.app()
    await migrate(db, app, target="0002")
    table = f"{project.prefix}_shelf"
    assert await indexes(db, table) == {f"{table}_title_idx", f"{table}_title_stock_idx"}
    await migrate(db, app)  # finds the renamed index and constraint to drop
    assert await indexes(db, table) == {f"{table}_title_idx"}
    await db.execute(f'INSERT INTO "{table}" (title, stock) VALUES ($1, 1), ($1, 1)', "a")
    await db.execute(f'DELETE FROM "{table}"')
    await migrate(db, app, target="0001")
    assert await indexes(db, table) == {f"{table}_label_idx", f"{table}_label_stock_idx"}


async def test_altering_a_column_type_converts_the_values(db, project):
    make_migrations(project.models(SHELF_V1))
    app = project.app()
    await migrate(db, app)
    table = f"{project.prefix}_shelf"
    await db.execute(f'INSERT INTO "{table}" (label, stock) VALUES ($1, $2)', "top", 7)
    source = make_migrations(project.models(SHELF_V1.replace("stock: int = 0", 'stock: Decimal = Field(max_digits=8, decimal_places=2, default=Decimal("0"))'))).read_text()
    assert "migrations.AlterField(" in source and "fields.DecimalField(max_digits=8, decimal_places=2" in source
    await migrate(db, project.app())
    assert Decimal(str(await db.query_val(f'SELECT stock FROM "{table}"'))) == 7
    await db.execute(f'INSERT INTO "{table}" (label, stock) VALUES ($1, $2)', "half", Decimal("0.5"))
    assert Decimal(str(await db.query_val(f'SELECT SUM(stock) FROM "{table}"'))) == Decimal("7.5")


async def test_the_same_orm_query_runs_after_its_column_type_changed_in_the_same_process(db, project):
    make_migrations(project.models(SHELF_V1))
    await migrate(db, project.app())
    shelves = sys.modules[f"{project.label}.models"].Shelf.objects.using(db)
    await shelves.create(label="top", stock=7)
    assert await shelves.filter(stock=7).count() == 1
    make_migrations(project.models(SHELF_V1.replace("stock: int = 0", 'stock: Decimal = Field(max_digits=8, decimal_places=2, default=Decimal("0"))')))
    await migrate(db, project.app())
    # The same INSERT and SELECT texts as before, now binding numeric instead of integer.
    shelves = sys.modules[f"{project.label}.models"].Shelf.objects.using(db)
    await shelves.create(label="half", stock=Decimal("0.5"))
    assert await shelves.filter(stock=Decimal("0.5")).count() == 1
    assert await shelves.filter(stock=7).count() == 1


async def test_a_duration_default_is_written_into_the_migration_and_backfills_the_rows(db, project):
    make_migrations(project.models(SHELF_V1))
    await migrate(db, project.app())
    await sys.modules[f"{project.label}.models"].Shelf.objects.using(db).create(label="top")
    with_duration = SHELF_V1.replace("stock: int = 0", "stock: int = 0\n    wait: datetime.timedelta = datetime.timedelta(days=1, minutes=5)")
    source = make_migrations(project.models("import datetime\n" + with_duration)).read_text()
    assert "import datetime" in source and "default=datetime.timedelta(days=1, seconds=300)" in source
    await migrate(db, project.app())
    shelves = sys.modules[f"{project.label}.models"].Shelf.objects.using(db)
    assert await shelves.values_list("wait", flat=True) == [datetime.timedelta(days=1, minutes=5)]
    assert await migrate(db, project.app(), target="0001") == [f"Unapplying {project.label}.0002_{project.migrations[1][5:]}"]
