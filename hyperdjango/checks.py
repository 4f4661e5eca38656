"""``hyper check``: what can be found wrong with an app before it serves a request.

Like Django's system checks, each finding has a stable id, a level and a message
that says what to do. ``E`` ids are errors (``hyper check`` exits 1), ``W`` ids
warnings:

- models: ``E001`` a relation to a model that is never defined; Django's
  ``fields.E302``-``E305`` for the other side of a relation: an accessor or query name
  that is a field's name, or that another relation of the model has;
- routes: ``E010`` two routes the router cannot both hold (overlapping
  patterns, one name for two routes);
- settings: ``E020`` a limit that is not positive, ``E021`` a durable task queue
  in an in-memory database, ``W022`` ``debug=True``;
- database (unless ``--no-database``): ``E030`` it cannot be reached, ``W031``
  unapplied migrations.

>>> from hyperdjango import HyperApp
>>> app = HyperApp(database="sqlite://:memory:", debug=True)
>>> [issue.id for issue in check_app(app) if issue.id[0] == "W"]  # errors may come from any model imported anywhere
['W022']
"""

from __future__ import annotations

import sys
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
        return self.id.rpartition(".")[2].startswith("E")  # "E001", Django's "fields.E304"

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
    incoming: dict[Any, list[Any]] = {}  # model → the relations other models' keys give it
    swapped = _swapped()
    for by_module in registry.values():
        for model in by_module.values():
            if model in swapped:
                continue
            incoming.setdefault(model, []).extend(r for r in model._meta.reverse_relations if r.field.model not in swapped)
            for declaration in model._meta.many_to_many:
                if declaration.reverse is not None:
                    incoming.setdefault(declaration.reverse.model, []).append(declaration.reverse)
    for model, relations in incoming.items():
        issues += _clashes(model, relations)
    return issues


def _swapped() -> set[Any]:
    """Django's swapped-out models, whose relations are not checked: auth's ``User`` when
    ``set_user_model()`` chose another (whose ``groups`` give ``Group`` the same names)."""
    auth = sys.modules.get("hyperdjango.auth")
    return set() if auth is None else {auth.User} - {auth.get_user_model()}


def _clashes(model: Any, relations: list[Any]) -> list[Issue]:
    """Django's checks of the names ``relations`` give ``model``, with its ids and messages:
    an accessor (E302) or query name (E303) that is a field's name, an accessor that is
    another relation's (E304), a query name that is another's accessor (E305). Two query
    names alike with other accessors are E305 too, which Django lets pass (lookups could
    not tell them apart)."""
    from .orm.options import app_label

    label = lambda m: f"{app_label(m)}.{m.__name__}"  # noqa: E731 - Django's _meta.label
    names = [_names(r) for r in relations]
    fields = [*model._meta.field_map, *(n for n, r in model._meta.relations.items() if r.concrete and r.is_relation)]
    issues = []
    for (source, source_field), accessor, query in names:
        field_name = f"{label(source)}.{source_field}"
        for clash in dict.fromkeys(fields):
            clash_name = f"{label(model)}.{clash}"
            hint = f"HINT: Rename field '{clash_name}', or add/change a related_name argument to the definition for field '{field_name}'."
            if accessor == clash:
                issues.append(Issue("fields.E302", f"Reverse accessor '{model.__name__}.{accessor}' for '{field_name}' "
                                                   f"clashes with field name '{clash_name}'. {hint}"))
            if query == clash:
                issues.append(Issue("fields.E303", f"Reverse query name for '{field_name}' clashes with field name "
                                                   f"'{clash_name}'. {hint}"))
        for other, other_accessor, other_query in names:
            clash_name = f"{label(other[0])}.{other[1]}"
            if clash_name == field_name:
                continue
            hint = f"HINT: Add or change a related_name argument to the definition for '{field_name}' or '{clash_name}'."
            accessor_clash = accessor is not None and other_accessor == accessor
            if accessor_clash:
                issues.append(Issue("fields.E304", f"Reverse accessor '{model.__name__}.{accessor}' for '{field_name}' "
                                                   f"clashes with reverse accessor for '{clash_name}'. {hint}"))
            if query is not None and (other_accessor == query or other_query == query and not accessor_clash):
                issues.append(Issue("fields.E305", f"Reverse query name for '{field_name}' clashes with reverse query "
                                                   f"name for '{clash_name}'. {hint}"))
    return issues


def _names(relation: Any) -> tuple[tuple[Any, str], str | None, str | None]:
    """``((declaring model, field name), accessor, query name)`` of a reverse relation; None where hidden."""
    declaration = getattr(relation, "declaration", None)
    if declaration is None:  # a reverse foreign key
        return (relation.field.model, relation.field.relation_name), relation.accessor_name, relation.name or None
    visible = relation.accessor_name is not None or declaration.related_query_name
    return (declaration.model, declaration.name), relation.accessor_name, relation.name if visible else None


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
