"""``bulk_create``: many instances in few statements, with Django 5.2's options and answers.

Rows are INSERTed with multi-row statements (``batch_size`` rows each, one transaction).
``ignore_conflicts=True`` skips the rows a unique constraint refuses (``ON CONFLICT DO
NOTHING``); ``update_conflicts=True`` updates them instead: ``ON CONFLICT (unique_fields)
DO UPDATE SET f = EXCLUDED.f`` for each of ``update_fields``. The options are checked as
Django checks them, with its messages, in its order.

Keys: an instance without a key gets the one its row took (``RETURNING``), on both backends,
also with ``update_conflicts`` (the key of the row it updated); with ``ignore_conflicts`` it
keeps ``None``, as in Django. An instance that had a key keeps it. On PostgreSQL, a thousand
rows or more without conflict handling are loaded by COPY (``bulk_copy.py``); COPY cannot
handle conflicts, so ``ignore_conflicts``/``update_conflicts`` always INSERT
(``benchmarks/results/bulk-create-upsert.txt`` measures why not COPY into a temporary table).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..database import atomic
from .backends import operations_for
from .bulk_copy import copy_applies, copy_create
from .related import Relation, check_related_saved
from .sql.compiler import insert_sql, on_conflict_sql


def conflict_clause(meta: Any, vendor: str, ignore_conflicts: bool, update_conflicts: bool,
                    update_fields: Iterable[str] | None, unique_fields: Iterable[str] | None) -> str:
    """The statement's ``ON CONFLICT`` clause ("" for none), after Django's checks."""
    # The primary key may be named "pk" among unique_fields only, as in Django.
    unique = [meta.get_field(meta.pk.name if name == "pk" else name) for name in unique_fields or ()]
    update = [meta.get_field(name) for name in update_fields or ()]
    if ignore_conflicts and update_conflicts:
        raise ValueError("ignore_conflicts and update_conflicts are mutually exclusive.")
    if ignore_conflicts:
        return on_conflict_sql(operations_for(vendor), (), ())
    if not update_conflicts:
        return ""
    if not update:
        raise ValueError("Fields that will be updated when a row insertion fails on conflicts must be provided.")
    # Both backends name the conflict's target (Django's supports_update_conflicts_with_target).
    if not unique:
        raise ValueError("Unique fields that can trigger the upsert must be provided.")
    if any(isinstance(f, Relation) for f in update):  # many-to-many, reverse: no column here
        raise ValueError("bulk_create() can only be used with concrete fields in update_fields.")
    if meta.pk in update:
        raise ValueError("bulk_create() cannot be used with primary keys in update_fields.")
    if any(isinstance(f, Relation) for f in unique):
        raise ValueError("bulk_create() can only be used with concrete fields in unique_fields.")
    return on_conflict_sql(operations_for(vendor), tuple(f.column for f in unique), tuple(f.column for f in update))


async def bulk_create(model: Any, db: Any, using: Any, objs: Iterable[Any], batch_size: int | None, ignore_conflicts: bool,
                      update_conflicts: bool, update_fields: Iterable[str] | None, unique_fields: Iterable[str] | None) -> list[Any]:
    """``QuerySet.bulk_create`` (``using`` is the QuerySet's ``using()``, set on the objects)."""
    if batch_size is not None and batch_size <= 0:
        raise ValueError("Batch size must be a positive integer.")
    objs = list(objs)
    if not objs:
        return objs
    meta = model._meta
    on_conflict = conflict_clause(meta, db.vendor, ignore_conflicts, update_conflicts, update_fields, unique_fields)
    for obj in objs:
        check_related_saved(obj, "bulk_create")
        obj._stamp(True)
    if not on_conflict and copy_applies(db, objs) and await copy_create(db, model, objs, batch_size, using):
        return objs
    ops = operations_for(db.vendor)
    generated = [o for o in objs if o.pk is None and meta.pk.auto]
    given = [o for o in objs if not (o.pk is None and meta.pk.auto)]
    # Django's order: rows with keys first (on SQLite an explicit key moves the next
    # automatic one). Keys come back for the generated ones only; DO NOTHING returns no
    # row for a skipped one, so no keys are read then.
    groups = [(given, list(meta.fields), False), (generated, [f for f in meta.fields if f is not meta.pk], not ignore_conflicts)]
    statements = []
    for group, fields, returning in groups:
        if not group:
            continue
        rows = [obj.clean(fields) for obj in group]
        size = max(1, min(batch_size or len(rows), ops.max_params // max(1, len(fields))))
        columns = tuple(f.column for f in fields)
        for start in range(0, len(rows), size if columns else 1):
            chunk = rows[start : start + (size if columns else 1)]
            sql = insert_sql(ops, meta, columns, len(chunk), returning, on_conflict)
            statements.append((sql, [v for row in chunk for v in row], group[start : start + len(chunk)], returning))
    if len(statements) == 1:
        await _insert(db, meta.pk.name, using, *statements[0])
    else:
        async with atomic(db):
            for statement in statements:
                await _insert(db, meta.pk.name, using, *statement)
    return objs


async def _insert(db: Any, pk: str, using: Any, sql: str, params: list[Any], objs: list[Any], returning: bool) -> None:
    if returning:
        for obj, row in zip(objs, await db.query(sql, *params)):
            obj.__dict__[pk] = row[0]
            _saved(obj, using)
        return
    await db.execute(sql, *params)
    for obj in objs:
        if obj.pk is not None:  # Django marks every object that has a key as saved
            _saved(obj, using)


def _saved(obj: Any, using: Any) -> None:
    obj.__dict__["_persisted"] = True
    if using is not None:
        obj.__dict__["_db"] = using
