"""``hyper check``: what can be found wrong with an app before it serves a request.

Like Django's system checks, each finding has a stable id, a level and a message
that says what to do. ``E`` ids are errors (``hyper check`` exits 1), ``W`` ids
warnings:

- models: ``E001`` a relation to a model that is never defined, ``E002`` two
  reverse accessors with one name on a model, or one that hides a field;
- routes: ``E010`` two routes the router cannot both hold (overlapping
  patterns, one name for two routes);
- settings: ``E020`` a limit that is not positive, ``E021`` a durable task queue
  in an in-memory database, ``W022`` ``debug=True``;
- database (unless ``--no-database``): ``E030`` it cannot be reached, ``W031``
  unapplied migrations.

>>> from hyperdjango import HyperApp
>>> app = HyperApp(database="sqlite://:memory:", debug=True)
>>> [issue.id for issue in check_app(app) if not issue.id.startswith("E00")]  # E00x: models imported anywhere
['W022']
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from .database.errors import DatabaseError


@dataclass(frozen=True)
class Issue:
    """One finding: ``id`` (``E001``...), whether it is an ``error``, and the message."""

    id: str
    message: str

    @property
    def error(self) -> bool:
        return self.id.startswith("E")

    def __str__(self) -> str:
        return f"{self.id}: {self.message}"


def check_app(app: Any) -> list[Issue]:
    """The checks that need no database: models, routes and settings."""
    return [*_models(), *_routes(app), *_settings(app)]


async def check_database(app: Any, module_name: str) -> list[Issue]:
    """Whether ``app.database`` answers, and whether the migrations of ``module_name``'s app are applied."""
    from .migrations.apps import app_of_module, builtin_apps_of
    from .migrations.loader import MigrationError
    from .migrations.pending import unapplied_migrations

    try:
        await app.database.query_val("SELECT 1")
    except (DatabaseError, OSError) as e:
        return [Issue("E030", f"the database {app.database!r} cannot be reached: {e}")]
    try:
        pending = await unapplied_migrations(app.database, *builtin_apps_of(app), app_of_module(module_name))
    except MigrationError as e:
        return [Issue("W031", f"the migrations cannot be read: {e}")]
    return [
        Issue("W031", f"{label} has unapplied migrations: {', '.join(names)}; run 'hyper migrate'")
        for label, names in pending.items()
    ]


def _models() -> list[Issue]:
    from .orm.options import _pending, registry

    issues = [
        Issue("E001", f"a relation refers to the model {name!r} of {where!r}, which is never defined "
                      f"(a typo, or the module defining it is never imported)")
        for (where, name), waiting in _pending.items() if waiting
    ]
    for by_module in registry.values():
        for model in by_module.values():
            meta = model._meta
            names = Counter(r.name for r in meta.reverse_relations if r.name)  # query names (hidden: "")
            for name, count in names.items():
                if count > 1:
                    issues.append(Issue("E002", f"{model.__name__} gets {count} reverse relations named {name!r}: "
                                                f"give the foreign keys pointing at it distinct related_name="))
                elif name in meta.field_map:
                    issues.append(Issue("E002", f"the reverse relation {model.__name__}.{name} hides the field "
                                                f"of that name: give its foreign key another related_name="))
    return issues


def _routes(app: Any) -> list[Issue]:
    try:
        app.compile_routes()
    except ValueError as e:
        return [Issue("E010", str(e))]
    return []


def _settings(app: Any) -> list[Issue]:
    issues = [
        Issue("E020", f"{name} is {value}: it must be positive")
        for name, value in (("max_body_size", app.max_body_size), ("task_queue_size", app.task_queue_size),
                            ("thread_pool_size", app.thread_pool_size))
        if value < 1
    ]
    if app.task_queue.backend.name == "database" and ":memory:" in app.database.url:
        issues.append(Issue("E021", "task_backend='database' on an in-memory SQLite database: jobs vanish with the "
                                    "process and no other process sees them; use a file or PostgreSQL"))
    if app.debug:
        issues.append(Issue("W022", "debug=True: a server error shows its traceback to the client; turn it off in production"))
    return issues
