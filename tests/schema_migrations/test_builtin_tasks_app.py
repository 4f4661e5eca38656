"""The task queue's table belongs to the built-in app ``hyperdjango.tasks``: migrated, or created on first use."""

from __future__ import annotations

from hyperdjango.migrations import migrate, show_migrations
from hyperdjango.tasks.database import DatabaseBackend
from hyperdjango.tasks.schema import TABLE
from support.migrations import tables


async def test_first_use_applies_the_builtin_migration_and_hyper_migrate_then_has_nothing_to_do(db):
    await DatabaseBackend(db).ensure_schema()
    assert TABLE in await tables(db)
    assert await show_migrations(db, "hyperdjango.tasks") == {"hyperdjango.tasks": [("0001_initial", True)]}
    assert await migrate(db, "hyperdjango.tasks") == []


async def test_the_builtin_app_reverses_and_comes_back_on_first_use(db):
    await migrate(db, "hyperdjango.tasks")
    assert await migrate(db, "hyperdjango.tasks", target="zero") == ["Unapplying hyperdjango.tasks.0001_initial"]
    assert TABLE not in await tables(db)
    await DatabaseBackend(db).ensure_schema()
    assert TABLE in await tables(db)
