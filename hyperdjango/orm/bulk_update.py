"""``bulk_update``: many instances' fields in one statement per batch, as Django 5.2.

Each batch is ``UPDATE t SET f = CASE WHEN pk = $1 THEN $2 WHEN pk = $4 THEN $5 ... ELSE f
END, ... WHERE pk IN ($1, $4, ...)``: one round trip, atomic by itself, and its row count
is Django's answer (the rows matched; a key given twice in a batch matches its row once, and
its first value wins, as in Django). Several batches run in one transaction.

``ELSE f`` instead of Django's ``Cast(Case(...), output_field=field)`` on PostgreSQL: a
CASE whose branches are all parameters is text there, and the column as the last branch
gives the CASE (and so every parameter) the column's own type, as ``SET f = $2`` would.
An explicit cast could not: ``CAST(... AS varchar(40))`` truncates a longer string without
error, and the driver encodes a parameter by the type the server infers for it, which for
text refuses bytes and durations. Every row of the batch has its WHEN, so ELSE never applies.

A value that is an expression (``F("hits") + 1``), or a QuerySet with filters (which, as in
Django, limit the rows updated), makes every batch Django's own form: a ``Case`` of
``When(pk=..., then=...)`` given to ``QuerySet.update()``, whose compiler resolves
expressions and conditions. Plain values take the cached statement above, the hot path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..database import atomic
from .backends import operations_for
from .expressions import Case, Expression, F, When
from .fields import Field
from .related import Relation, check_related_saved
from .sql.compiler import bulk_update_sql


async def bulk_update(queryset: Any, objs: Iterable[Any], fields: Iterable[str], batch_size: int | None) -> int:
    """``QuerySet.bulk_update``: the rows matched. Django's checks, messages and order."""
    if batch_size is not None and batch_size <= 0:
        raise ValueError("Batch size must be a positive integer.")
    if not fields:
        raise ValueError("Field names must be given to bulk_update().")
    objs = tuple(objs)
    meta = queryset.model._meta
    pk_name = meta.pk.name
    dicts = [obj.__dict__ for obj in objs]
    keys = [d.get(pk_name) for d in dicts]
    if None in keys:
        raise ValueError("All bulk_update() objects must have a primary key set.")
    chosen = [meta.get_field(name) for name in fields]
    if any(isinstance(f, Relation) for f in chosen):  # many-to-many, reverse: no column here
        raise ValueError("bulk_update() can only be used with concrete fields.")
    if meta.pk in chosen:
        raise ValueError("bulk_update() cannot be used with primary key fields.")
    if not objs:
        return 0
    # Only a chosen foreign key can hold an unsaved object; the check may also write its key.
    if any([field in chosen for field, _ in meta.related_caches]):
        for obj in objs:
            check_related_saved(obj, "bulk_update", chosen)
    db = queryset.db
    ops = operations_for(db.vendor)
    query = queryset._built_query()
    general = queryset._empty or bool(query.where) or query.is_sliced or query.combined is not None
    # Columns of plain values of their fields' own types hold no expression: the scan for one
    # runs only when some value is not such.
    columns = None if general else _unchecked_columns(chosen, objs, dicts)
    if columns is None:
        names = [f.name for f in chosen]
        general = general or any([isinstance(d.get(name), Expression) for d in dicts for name in names])
    # Parameters per object: its key (named again in the IN list) and its values; through
    # update(), a key per When and up to two a value (an expression's own, such as F("n") + 1).
    width = 1 + len(chosen) * (3 if general else 1)
    size = max(1, min(batch_size or len(objs), ops.max_params // width))
    starts = range(0, len(objs), size)
    if len(starts) == 1:
        return await _update(queryset, general, ops, meta, chosen, objs, keys, columns)
    matched = 0
    async with atomic(db):
        for start in starts:
            part = slice(start, start + size)
            matched += await _update(queryset, general, ops, meta, chosen, objs[part], keys[part],
                                     None if columns is None else [column[part] for column in columns])
    return matched


async def _update(queryset: Any, general: bool, ops: Any, meta: Any, chosen: list[Any], batch: tuple[Any, ...],
                  keys: list[Any], columns: list[list[Any]] | None) -> int:
    """One batch; ``columns``, when given, are its values already known to need no ``clean``."""
    if general:
        return await _update_with_expressions(queryset, chosen, batch)
    if columns is None:
        params: list[Any] = []
        for obj, key in zip(batch, keys):
            params.append(key)
            params += obj.clean(chosen)
    else:
        params = [value for row in zip(keys, *columns) for value in row]
    return await queryset.db.execute(bulk_update_sql(ops, meta, tuple(f.column for f in chosen), len(batch)), *params)


async def _update_with_expressions(queryset: Any, chosen: list[Any], batch: tuple[Any, ...]) -> int:
    cases = {}
    for field in chosen:
        whens = []
        for obj in batch:
            value = obj.__dict__.get(field.name)
            if not isinstance(value, Expression):
                (value,) = obj.clean([field])
            whens.append(When(pk=obj.pk, then=value))
        cases[field.name] = Case(*whens, default=F(field.name))
    return int(await queryset.filter(pk__in=[obj.pk for obj in batch]).update(**cases))


def _unchecked_columns(chosen: list[Any], batch: tuple[Any, ...], dicts: list[dict[str, Any]]) -> list[list[Any]] | None:
    """Each field's values in ``batch``, when ``Model.clean`` would return every one of them
    unchanged and with no message (each of its field's ``unconverted_type``, a field with no
    constraint, no model overriding ``clean``); otherwise None. A column at a time, in C
    loops: ``clean`` costs several Python calls an object."""
    from .models import Model  # not at the top: models imports this module (through the QuerySet)

    classes: set[Any] = set(map(type, batch))
    if any([cls.clean is not Model.clean for cls in classes]):
        return None
    columns = []
    for field in chosen:
        kind = _unchecked_type(field)
        column = [d.get(field.name) for d in dicts]
        if kind is None or set(map(type, column)) != {kind}:
            return None
        columns.append(column)
    return columns


def _unchecked_type(field: Field) -> type | None:
    """The type whose values ``field`` converts to themselves and accepts (its
    ``unconverted_type``, when it has no constraint to check), or None."""
    constrained = (field.choices, field.ge, field.le, field.min_length, field.max_length, field.pattern)
    if type(field).validate is not Field.validate or any([c is not None for c in constrained]):
        return None
    return field.unconverted_type
