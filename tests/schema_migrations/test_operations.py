"""RunSQL, async RunPython, rollbacks, quoting and the written files."""

from __future__ import annotations

import importlib.util

import pytest

from hyperdjango.migrations import MigrationError, make_migrations, migrate, show_migrations
from hyperdjango.migrations.apps import label_of
from hyperdjango.migrations.loader import MigrationGraph
from hyperdjango.migrations.state import ProjectState
from support.migrations import columns, tables

yes = lambda question: True  # noqa: E731

SHELF = """
class Shelf(Model):
    class Meta:
        table = "{p}_shelf"
    label: str = Field(max_length=20)
"""


def add_operations(path, source: str, imports: str = "") -> None:
    """Puts hand-written operations (and top-level code) into a migration written by ``--empty``."""
    text = path.read_text().replace("    operations = [\n    ]", "    operations = [\n" + source + "    ]")
    path.write_text(text.replace("from hyperdjango import migrations\n", "from hyperdjango import migrations\n" + imports))


async def test_run_sql_and_async_run_python_go_forwards_and_backwards(db, project):
    make_migrations(project.models(SHELF))
    path = make_migrations(project.app(), empty=True, name="data")
    add_operations(path, f"""\
        migrations.RunSQL(
            [("INSERT INTO {project.prefix}_shelf (label) VALUES ($1)", ["from sql"])],
            reverse_sql="DELETE FROM {project.prefix}_shelf WHERE label = 'from sql'",
        ),
        migrations.RunPython(add_python, remove_python),
""", imports=f'''

async def add_python(db):
    count = await db.query_val("SELECT COUNT(*) FROM {project.prefix}_shelf")
    await db.execute("INSERT INTO {project.prefix}_shelf (label) VALUES ($1)", f"python saw {{count}}")


async def remove_python(db):
    await db.execute("DELETE FROM {project.prefix}_shelf WHERE label LIKE 'python%'")
''')
    app = project.app()
    await migrate(db, app)
    labels = [r["label"] for r in await db.query(f"SELECT label FROM {project.prefix}_shelf ORDER BY id")]
    assert labels == ["from sql", "python saw 1"]
    assert await migrate(db, app, target="0001") == [f"Unapplying {project.label}.0002_data"]
    assert await db.query_val(f"SELECT COUNT(*) FROM {project.prefix}_shelf") == 0


async def test_a_failing_migration_rolls_back_entirely_and_is_not_recorded(db, project):
    make_migrations(project.models(SHELF))
    add_operations(make_migrations(project.app(), empty=True, name="broken"), """\
        migrations.AddField("Shelf", "extra", fields.IntegerField(default=0)),
        migrations.RunSQL("SELECT no_such_column FROM nowhere"),
""", imports="from hyperdjango.orm import fields\n")
    app = project.app()
    with pytest.raises(MigrationError, match="0002_broken failed and was rolled back"):
        await migrate(db, app)
    assert "extra" not in await columns(db, f"{project.prefix}_shelf")  # the AddField was undone too
    assert await show_migrations(db, app) == {project.label: [("0001_initial", True), ("0002_broken", False)]}


async def test_an_irreversible_migration_refuses_to_reverse(db, project):
    make_migrations(project.models(SHELF))
    add_operations(make_migrations(project.app(), empty=True, name="oneway"), '        migrations.RunSQL("SELECT 1"),\n')
    app = project.app()
    await migrate(db, app)
    with pytest.raises(MigrationError, match="0002_oneway cannot be reversed"):
        await migrate(db, app, target="0001")
    assert dict(await show_migrations(db, app))[project.label][1] == ("0002_oneway", True)


async def test_sqlite_table_rebuilds_keep_rows_and_do_not_cascade(db, project):
    make_migrations(project.models(SHELF + """
class Book(Model):
    class Meta:
        table = "{p}_book"
    title: str = ""
    shelf_id: int = Field(foreign_key=Shelf, on_delete="CASCADE")
"""))
    await migrate(db, project.app())
    shelf = await db.query_val(f"INSERT INTO {project.prefix}_shelf (label) VALUES ($1) RETURNING id", "top")
    for title in ("a", "b"):
        await db.execute(f"INSERT INTO {project.prefix}_book (title, shelf_id) VALUES ($1, $2)", title, shelf)
    # Altering the referenced table rebuilds it on SQLite (drop + rename): the books must survive.
    make_migrations(project.models(SHELF.replace("Field(max_length=20)", "Field(max_length=40, unique=True)") + """
class Book(Model):
    class Meta:
        table = "{p}_book"
    title: str = ""
    shelf_id: int = Field(foreign_key=Shelf, on_delete="CASCADE")
"""))
    await migrate(db, project.app())
    assert await db.query_val(f"SELECT COUNT(*) FROM {project.prefix}_book") == 2
    assert await db.query_val(f"SELECT label FROM {project.prefix}_shelf") == "top"
    await db.execute(f"DELETE FROM {project.prefix}_shelf")
    assert await db.query_val(f"SELECT COUNT(*) FROM {project.prefix}_book") == 0  # the foreign key still works
    await migrate(db, project.app(), target="0001")
    assert await db.query_val(f"SELECT COUNT(*) FROM {project.prefix}_shelf") == 0


async def test_identifiers_are_quoted(db, project):
    evil = 'we"ird; DROP TABLE x; --'
    table = f"{project.prefix}_{evil}"
    make_migrations(project.models(
        "class Odd(Model):\n"
        "    class Meta:\n"
        f"        table = {table!r}\n"
        "        indexes = [('select',)]\n"
        f"    select: str = Field(db_column={evil!r}, max_length=10)\n"
    ))
    app = project.app()
    await migrate(db, app)
    assert table in await tables(db)
    assert evil in await columns(db, table)
    await migrate(db, app, target="zero")
    assert table not in await tables(db)


def test_the_written_file_imports_and_round_trips(project):
    app = project.models(SHELF + """
class Book(Model):
    class Meta:
        table = "{p}_book"
        unique_together = [("title", "shelf_id")]
        indexes = [("title",)]
    title: str = Field(max_length=50, default="untitled")
    price: Decimal = Field(max_digits=6, decimal_places=2, default=Decimal("9.99"))
    meta: dict = Field(default_factory=dict)
    shelf_id: int | None = Field(foreign_key=Shelf, on_delete="SET_NULL")
    tags = ManyToMany("Shelf", related_name="books")
""")
    path = make_migrations(app)
    spec = importlib.util.spec_from_file_location("written_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # importable on its own
    assert 'Decimal("9.99")' in path.read_text()
    from_file = MigrationGraph([app]).final_state()
    from_models = ProjectState.from_models({app.label: app.models}, label_of)
    assert from_file.models.keys() == from_models.models.keys()
    for label, model in from_models.models.items():
        written = from_file.models[label]
        assert (written.table, written.unique_together, written.indexes) == (model.table, model.unique_together, model.indexes)
        assert {n: f.column for n, f in written.fields.items()} == {n: f.column for n, f in model.fields.items()}
    assert make_migrations(project.app()) is None


async def test_fake_initial_adopts_tables_made_before_migrations(db, project):
    app = project.models(SHELF)
    make_migrations(app)
    shelf = importlib.import_module(f"{project.label}.models").Shelf
    await db.create_tables(shelf)  # as a project that used create_tables before migrations
    with pytest.raises(MigrationError, match="rolled back"):
        await migrate(db, app)
    assert await migrate(db, app, fake_initial=True) == [f"Faking {project.label}.0001_initial (its tables exist)"]
    assert (await show_migrations(db, app))[project.label] == [("0001_initial", True)]
    # Not faked when a table is missing: the migration runs.
    await migrate(db, app, target="zero")
    assert await migrate(db, app, fake_initial=True) == [f"Applying {project.label}.0001_initial"]
    assert f"{project.prefix}_shelf" in await tables(db)
