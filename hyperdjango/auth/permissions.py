"""The permissions ``hyper migrate`` creates: add/change/delete/view for every model."""

from __future__ import annotations

from typing import Any

from ..database.errors import DatabaseError
from ..orm.options import app_label_of_module

#: Django's default permissions, in its order.
ACTIONS = ("add", "change", "delete", "view")


def _verbose_name(model: Any) -> str:
    name = model.__name__
    return "".join(f" {c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


async def create_permissions(db: Any, models: list[Any]) -> int:
    """Creates the missing ``<app_label>.<action>_<model>`` permissions of ``models``
    (many-to-many link tables excluded); returns how many were created. Does
    nothing before ``hyperdjango.auth`` is migrated."""
    from .models import Permission

    links = {d.through for m in models for d in m._meta.many_to_many}
    try:
        existing = {(p.app_label, p.codename) for p in await Permission.objects.using(db).all()}
    except DatabaseError:  # no permissions table: auth is not in use here
        return 0
    created = 0
    for model in models:
        if model in links:
            continue
        label = app_label_of_module(model.__module__)
        for action in ACTIONS:
            codename = f"{action}_{model.__name__.lower()}"
            if (label, codename) not in existing:
                await Permission.objects.using(db).create(name=f"Can {action} {_verbose_name(model)}", app_label=label, codename=codename)
                existing.add((label, codename))
                created += 1
    return created
