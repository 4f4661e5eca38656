"""Migrations: the schema's history as Python files, applied in transactions.

Django's workflow, async: ``hyper makemigrations examples.shop`` writes
``examples/migrations/0001_initial.py`` from the models; ``hyper migrate
examples.shop`` applies what the database lacks and records it in
``hyper_migrations``; ``hyper migrate examples.shop 0001`` reverses to 0001.
From Python: ``make_migrations(app)``, ``await migrate(db, app)``,
``await show_migrations(db, app)``. See ``docs/migrations.md``.
"""

from .apps import BUILTIN_APPS, App, app_for, app_of_module
from .autodetector import detect_changes
from .executor import MigrationExecutor, migrate, show_migrations
from .loader import MigrationError
from .makemigrations import make_migrations
from .migration import Migration
from .operations import (
    AddConstraint,
    AddField,
    AddIndex,
    AlterField,
    AlterModelTable,
    CreateModel,
    DeleteModel,
    IrreversibleError,
    RemoveConstraint,
    RemoveField,
    RemoveIndex,
    RenameField,
    RenameModel,
    RunPython,
    RunSQL,
)

__all__ = [
    "BUILTIN_APPS",
    "AddConstraint",
    "AddField",
    "AddIndex",
    "AlterField",
    "AlterModelTable",
    "App",
    "CreateModel",
    "DeleteModel",
    "IrreversibleError",
    "Migration",
    "MigrationError",
    "MigrationExecutor",
    "RemoveConstraint",
    "RemoveField",
    "RemoveIndex",
    "RenameField",
    "RenameModel",
    "RunPython",
    "RunSQL",
    "app_for",
    "app_of_module",
    "detect_changes",
    "make_migrations",
    "migrate",
    "show_migrations",
]
