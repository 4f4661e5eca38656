"""Loading migration files and putting them in the order they apply.

Files are ``<app>/migrations/NNNN_<name>.py`` defining ``class Migration``;
an app's migrations apply in their number order, after their
``dependencies`` (which may name other apps' migrations).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from .apps import App
from .migration import Migration
from .state import ProjectState

FILE_NAME = re.compile(r"^(\d{4})_\w+\.py$")


class MigrationError(Exception):
    """A migration that cannot be loaded, ordered, applied or reversed; the message says which and why."""


def migration_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if FILE_NAME.match(p.name))


def load_migration(app: str, path: Path) -> Migration:
    """Imports one migration file (by path: a migrations folder needs no ``__init__.py``)."""
    module_name = f"hyperdjango_migrations.{app}.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        sys.modules.pop(module_name, None)
        raise MigrationError(f"{path}: cannot import the migration: {type(e).__name__}: {e}") from e
    cls = getattr(module, "Migration", None)
    if not (isinstance(cls, type) and issubclass(cls, Migration)):
        raise MigrationError(f"{path}: defines no `class Migration(migrations.Migration)`")
    return cls(app, path.stem)


class MigrationGraph:
    """Every migration of some apps, in the order they apply, and the states between them."""

    def __init__(self, apps: list[App]) -> None:
        self.apps = {app.label: app for app in apps}
        self.migrations: dict[tuple[str, str], Migration] = {}
        for app in apps:
            previous = None
            for path in migration_files(app.migrations_dir):
                migration = load_migration(app.label, path)
                # Each migration follows the one before it in its app, whatever it lists.
                migration.parents = [previous] if previous else []
                self.migrations[migration.key] = migration
                previous = migration.key
        for migration in self.migrations.values():
            for listed in migration.dependencies:
                dependency = tuple(listed)
                if dependency[0] in self.apps and dependency not in self.migrations:
                    raise MigrationError(f"{migration!r} depends on {dependency[0]}.{dependency[1]}, which does not exist")
                if dependency in self.migrations and dependency not in migration.parents:
                    migration.parents.append(dependency)
        self.plan = self._order()

    def _order(self) -> list[Migration]:
        ordered: list[Migration] = []
        done: set[tuple[str, str]] = set()

        def visit(key: tuple[str, str], path: tuple[tuple[str, str], ...]) -> None:
            if key in done:
                return
            if key in path:
                raise MigrationError(f"circular migration dependencies: {' -> '.join('.'.join(k) for k in (*path, key))}")
            migration = self.migrations[key]
            for parent in migration.parents:
                visit(parent, (*path, key))
            done.add(key)
            ordered.append(migration)

        for key in self.migrations:
            visit(key, ())
        return ordered

    def leaf(self, app: str) -> Migration | None:
        """The app's last migration."""
        last = [m for m in self.plan if m.app == app]
        return max(last, key=lambda m: m.name) if last else None

    def of_app(self, app: str) -> list[Migration]:
        return sorted((m for m in self.plan if m.app == app), key=lambda m: m.name)

    def find(self, app: str, prefix: str) -> Migration:
        """The app's migration whose name is or starts with ``prefix`` (``0001`` → ``0001_initial``)."""
        found = [m for m in self.of_app(app) if m.name == prefix or m.name.startswith(prefix)]
        if len(found) != 1:
            names = ", ".join(m.name for m in self.of_app(app)) or "none"
            why = "no" if not found else "more than one"
            raise MigrationError(f"{why} migration of {app} matches {prefix!r}; its migrations: {names}")
        return found[0]

    def state_before(self) -> list[ProjectState]:
        """``states[i]``: the project state before ``plan[i]`` applies (one more entry: after all)."""
        state = ProjectState()
        states = [state]
        for migration in self.plan:
            state = state.clone()
            for operation in migration.operations:
                operation.state_forwards(migration.app, state)
            states.append(state)
        return states

    def final_state(self) -> ProjectState:
        return self.state_before()[-1]
