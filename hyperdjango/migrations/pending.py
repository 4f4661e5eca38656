"""Unapplied migrations, and the warning ``hyper run`` gives about them at start-up
(as Django's ``runserver`` does): the server starts anyway."""

from __future__ import annotations

import logging
from typing import Any

from ..database.errors import DatabaseError
from .apps import App, app_of_module, builtin_apps_of
from .executor import show_migrations
from .loader import MigrationError

log = logging.getLogger("hyperdjango.migrations")


async def unapplied_migrations(db: Any, *apps: App | str) -> dict[str, list[str]]:
    """The names of each app's migrations that ``db`` has not applied (apps with none left out)."""
    status = await show_migrations(db, *apps)
    return {label: [name for name, applied in found if not applied] for label, found in status.items() if not all(a for _, a in found)}


def warn_unapplied_at_startup(app: Any, module_name: str, target: str) -> None:
    """Adds a startup hook to ``app`` that logs a warning naming the unapplied
    migrations of ``module_name``'s app and the built-in apps it uses, and the
    command that applies them (``target`` as the user gave it). Only the first
    worker process checks; a database that cannot be asked is a warning too."""

    async def check() -> None:
        if app.worker_index != 0:
            return
        try:
            pending = await unapplied_migrations(app.database, *builtin_apps_of(app), app_of_module(module_name))
        except (DatabaseError, MigrationError) as e:
            log.warning("could not check for unapplied migrations: %s", e)
            return
        if pending:
            listed = "; ".join(f"{label}: {', '.join(names)}" for label, names in pending.items())
            count = sum(len(names) for names in pending.values())
            log.warning("You have %d unapplied migration(s) (%s). The app may not work properly until they are "
                        "applied: run 'hyper migrate %s'.", count, listed, target)

    app.on_startup(check)
