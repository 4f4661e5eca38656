"""``hyper makemigrations``, ``hyper migrate`` and ``hyper showmigrations``.

Each takes the module defining the models, as ``hyper run`` does (``examples.shop``
or ``examples.shop:app``); the app is that module's package. ``migrate`` and
``showmigrations`` also cover the built-in apps the HyperApp uses (the task
queue's table, when its ``task_backend`` is ``"database"``). The
database is ``--database URL``, else the module's ``HyperApp``'s, else
``$HYPERDJANGO_DATABASE_URL`` (the rule of :func:`hyperdjango.settings.database_url`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from ..importing import import_target
from ..database.errors import DatabaseError
from ..settings import DATABASE_URL_ENV
from .apps import app_for, app_of_module, builtin_apps_of
from .loader import MigrationError


def _database(args: argparse.Namespace, found: Any) -> Any:
    from ..app import HyperApp
    from ..database import Database

    if args.database:
        return Database(args.database)
    if isinstance(found, HyperApp):
        return found.database
    if os.environ.get(DATABASE_URL_ENV):
        return Database(os.environ[DATABASE_URL_ENV])
    raise SystemExit(f"hyper: which database? give --database URL, a module with a HyperApp, or set {DATABASE_URL_ENV}")


def _ask(args: argparse.Namespace) -> Any:
    if args.yes:
        return lambda question: print(f"{question} yes") or True
    if not sys.stdin.isatty():
        return lambda question: print(f"{question} no (not a terminal; --yes answers yes)") or False
    return lambda question: input(question + " ").strip().lower() in ("y", "yes")


def _makemigrations(args: argparse.Namespace) -> None:
    from .makemigrations import make_migrations

    module_name, _ = import_target(args.target)
    try:
        make_migrations(app_of_module(module_name), name=args.name, empty=args.empty, ask=_ask(args), log=print)
    except (MigrationError, ValueError) as e:
        raise SystemExit(f"hyper makemigrations: {e}") from None


def _run_on(command: str, db: Any, work: Any) -> Any:
    """Runs ``work`` and closes ``db``; a migration or database error ends the
    command with its message (SQLSTATE included), not a traceback."""

    async def run() -> Any:
        try:
            return await work
        finally:
            await db.close()

    try:
        return asyncio.run(run())
    except (MigrationError, DatabaseError) as e:
        raise SystemExit(f"hyper {command}: {e}") from None


def _migrate(args: argparse.Namespace) -> None:
    from .executor import migrate

    module_name, found = import_target(args.target)
    app = app_of_module(module_name)
    db = _database(args, found)
    apps: list[Any] = [app] if args.migration else [*builtin_apps_of(found), app]

    async def work() -> list[str]:
        from ..auth.permissions import create_permissions

        done = await migrate(db, *apps, target=args.migration, log=print, fake_initial=args.fake_initial)
        # As Django's post_migrate: every model gets its add/change/delete/view permissions.
        models = [m for a in apps for m in (app_for(a) if isinstance(a, str) else a).models]
        created = await create_permissions(db, models)
        if created:
            print(f"Created {created} permissions")
        return done

    done = _run_on("migrate", db, work())
    if not done:
        print("No migrations to apply.")


def _showmigrations(args: argparse.Namespace) -> None:
    from .executor import show_migrations

    module_name, found = import_target(args.target)
    db = _database(args, found)
    status = _run_on("showmigrations", db, show_migrations(db, *builtin_apps_of(found), app_of_module(module_name)))
    for label, migrations in status.items():
        print(label)
        for name, applied in migrations:
            print(f" [{'X' if applied else ' '}] {name}")
        if not migrations:
            print(" (no migrations)")


def add_commands(commands: Any) -> None:
    """Adds the three commands to ``hyper``'s subparsers."""
    make = commands.add_parser("makemigrations", help="write a migration from the changes to an app's models")
    make.add_argument("target", help="the module defining the models (module or module:app), e.g. examples.shop")
    make.add_argument("--name", help="the migration's name (default: from its operations)")
    make.add_argument("--empty", action="store_true", help="write a migration with no operations, to fill in by hand")
    make.add_argument("--yes", action="store_true", help="answer yes to every 'Did you rename ...?'")
    make.set_defaults(func=_makemigrations)

    migrate = commands.add_parser("migrate", help="apply (or reverse to a target) an app's migrations")
    migrate.add_argument("target", help="the module defining the models (module or module:app)")
    migrate.add_argument("migration", nargs="?", help="migrate the app to this migration (e.g. 0001), or 'zero' to reverse all")
    migrate.add_argument("--database", help="database URL (default: the app's, else $HYPERDJANGO_DATABASE_URL)")
    migrate.add_argument("--fake-initial", action="store_true",
                         help="record an app's first migration as applied when all the tables it creates exist already")
    migrate.set_defaults(func=_migrate)

    show = commands.add_parser("showmigrations", help="list migrations: [X] applied, [ ] not")
    show.add_argument("target", help="the module defining the models (module or module:app)")
    show.add_argument("--database", help="database URL (default: the app's, else $HYPERDJANGO_DATABASE_URL)")
    show.set_defaults(func=_showmigrations)
