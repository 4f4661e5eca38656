"""Deleting rows with what ``on_delete`` asks for the rows pointing at them.

The ORM does the cascade itself (children first, in one transaction) so that
the count is known, PROTECT can refuse with a clear error and the same rules
hold on both backends whatever the schema says.
"""

from __future__ import annotations

from typing import Any

from ..database import atomic
from .exceptions import ProtectedError
from .signals import post_delete, pre_delete

#: Keys per ``IN (...)`` when walking a cascade, well below both backends' parameter limits.
CHUNK = 1000


async def delete_rows(model: Any, queryset: Any, db: Any) -> int:
    """Deletes the rows of ``queryset``; returns the rows deleted, cascades included.

    With ``pre_delete``/``post_delete`` receivers connected, each row is loaded first
    and signalled (cascaded rows too), as Django does; without, nothing is loaded.
    """
    signalled = bool(pre_delete._receivers or post_delete._receivers)
    if not model._meta.reverse_relations and not signalled:
        return await queryset._delete_plain()
    async with atomic(db):
        keys = await queryset.order_by().values_list("pk", flat=True)
        return await _delete_keys(model, keys, db, set(), signalled)


async def _delete_keys(model: Any, keys: list[Any], db: Any, seen: set[tuple[Any, Any]], signalled: bool = False) -> int:
    keys = [k for k in keys if (model, k) not in seen]  # a cycle of cascades stops where it began
    seen.update((model, k) for k in keys)
    total = 0
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        for relation in model._meta.reverse_relations:
            field = relation.field
            children = field.model.objects.using(db).filter(**{f"{field.name}__in": chunk})
            if field.on_delete == "CASCADE":
                if field.model._meta.reverse_relations or signalled:
                    total += await _delete_keys(field.model, await children.values_list("pk", flat=True), db, seen, signalled)
                else:
                    total += await children._delete_plain()
            elif field.on_delete == "SET_NULL":
                await children.update(**{field.name: None})
            elif field.on_delete in ("PROTECT", "RESTRICT") and await children.exists():
                raise ProtectedError(
                    f"cannot delete {model.__name__} rows: {field.model.__name__}.{field.name} still references them "
                    f"(on_delete={field.on_delete}); delete or reassign those rows first"
                )
        rows = model.objects.using(db).filter(pk__in=chunk)
        objs = await rows.order_by() if signalled else ()
        for obj in objs:
            await pre_delete.asend(model, instance=obj, using=db, origin=obj)
        total += await rows._delete_plain()
        for obj in objs:
            obj.__dict__["_persisted"] = False
            await post_delete.asend(model, instance=obj, using=db, origin=obj)
    return total
