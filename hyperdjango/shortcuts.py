"""Django's view shortcuts, awaited: one object or a 404, a non-empty list or a 404.

>>> import asyncio
>>> from hyperdjango import HTTPException, Model
>>> from hyperdjango.database import Database
>>> class Gadget(Model):
...     class Meta:
...         database = Database("sqlite://:memory:")
...     name: str = ""
>>> async def main():
...     await Gadget._meta.database.execute("CREATE TABLE gadget (id INTEGER PRIMARY KEY, name TEXT)")
...     await Gadget(name="lamp").save()
...     found = await get_object_or_404(Gadget, name="lamp")
...     try:
...         await get_object_or_404(Gadget.objects.filter(name="lamp"), id=99)
...     except HTTPException as e:
...         return found.name, e.status_code
>>> asyncio.run(main())
('lamp', 404)
"""

from __future__ import annotations

from typing import Any

from .exceptions import HTTPException


def _queryset(klass: Any) -> Any:
    """A model class, a manager or a QuerySet, as a QuerySet."""
    if hasattr(klass, "_meta") and hasattr(klass, "objects"):
        return klass.objects.all()
    if hasattr(klass, "get_queryset"):
        return klass.get_queryset()
    if hasattr(klass, "filter"):
        return klass
    raise ValueError(f"the first argument must be a model, a manager or a QuerySet, not {type(klass).__name__}")


async def get_object_or_404(klass: Any, *conditions: Any, **lookups: Any) -> Any:
    """The one object matching ``lookups``; ``HTTPException(404)`` when none does.

    Several matches raise ``MultipleObjectsReturned``, as in Django (a server-side bug,
    not the client's).
    """
    qs = _queryset(klass)
    obj = await qs.get(*conditions, **lookups)
    if obj is None:
        raise HTTPException(404, f"No {qs.model.__name__} matches the given query.")
    return obj


async def get_list_or_404(klass: Any, *conditions: Any, **lookups: Any) -> list[Any]:
    """The objects matching ``lookups`` as a list; ``HTTPException(404)`` when there are none."""
    qs = _queryset(klass)
    objs = await qs.filter(*conditions, **lookups)
    if not objs:
        raise HTTPException(404, f"No {qs.model.__name__} matches the given query.")
    return list(objs)
