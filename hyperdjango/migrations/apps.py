"""Apps: which models a migration folder is for.

The rule, as in Django where an app is a package: **an app is the package a
model's module lives in**, and its migrations live in that package's
``migrations/`` folder. ``examples/shop.py`` defines models of the app
``examples``, whose migrations are ``examples/migrations/0001_initial.py`` and
on. A top-level module ``shop.py`` is an app of its own (``shop``, migrations
in ``./migrations/``). The app label is the package's dotted name, so apps
never collide (the task queue's app is ``hyperdjango.tasks``).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..orm.options import app_label_of_module

#: Apps of hyperdjango itself, migrated with every project: the task queue, the database cache, sessions and users.
BUILTIN_APPS = ("hyperdjango.tasks", "hyperdjango.cache", "hyperdjango.sessions", "hyperdjango.auth")


@dataclass
class App:
    """An app: its label, its migrations folder and the models it declares."""

    label: str
    migrations_dir: Path
    models: list[Any] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<App {self.label} {len(self.models)} models, migrations in {self.migrations_dir}>"


def label_of(model: Any) -> str:
    """A model's label in migrations: ``"<app>.<Class>"``."""
    return f"{app_label_of_module(model.__module__)}.{model.__name__}"


def app_for(label: str) -> App:
    """The app ``label`` (a package or top-level module, imported if needed) with the models loaded so far."""
    module = importlib.import_module(label)
    if hasattr(module, "__path__"):
        directory = Path(next(iter(module.__path__)))
    else:
        directory = Path(module.__file__ or ".").resolve().parent
    return App(label, directory / "migrations", models_of(label))


def app_of_module(module_name: str) -> App:
    """The app that the models of ``module_name`` (imported if needed) belong to."""
    importlib.import_module(module_name)
    return app_for(app_label_of_module(module_name))


def models_of(label: str) -> list[Any]:
    """The concrete models the app's imported modules define now, with their many-to-many link models.

    A model counts while its module still holds it under its name, so a model
    deleted from (or renamed in) a reloaded module is gone from the app.
    """
    from ..orm.options import registry

    found: list[Any] = []
    for by_module in registry.values():
        for module_name, model in by_module.items():
            module = sys.modules.get(module_name)
            if app_label_of_module(module_name) == label and not model._meta.abstract and getattr(module, model.__name__, None) is model:
                found.append(model)
    links = [d.through for m in found for d in m._meta.many_to_many if d.through not in found]
    return sorted({*found, *links}, key=lambda m: m.__name__)


def builtin_apps_of(app: Any) -> list[str]:
    """The built-in apps to migrate with ``app`` (a HyperApp, or None): all of
    :data:`BUILTIN_APPS` but ``hyperdjango.tasks`` unless its task queue keeps jobs
    in the database (an in-process queue has no table)."""
    backend = getattr(getattr(app, "task_queue", None), "backend", None)
    durable_tasks = getattr(backend, "name", None) == "database"
    return [label for label in BUILTIN_APPS if label != "hyperdjango.tasks" or durable_tasks]
