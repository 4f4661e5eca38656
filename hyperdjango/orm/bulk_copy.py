"""``bulk_create`` of many rows on PostgreSQL: binary ``COPY`` instead of INSERTs.

COPY cannot return the keys it generates, and Django's ``bulk_create`` sets them on
PostgreSQL. So the keys the rows need are first reserved from the key column's
sequence (``nextval`` once per row, one query), the same values INSERTs would have
taken, then every row, key included, is loaded with one ``COPY`` per batch
(``Database.copy_in``). The objects get their keys only once their rows are in.

Used for ``COPY_MIN_ROWS`` rows or more (below that the extra round trips cost more
than the INSERTs they replace), never with ``ignore_conflicts``/``update_conflicts``
(COPY has no ``ON CONFLICT``), and not for a key column without a sequence: ``bulk_create``
then inserts as before.
"""

from __future__ import annotations

from typing import Any

from ..database import atomic
from .backends import features_for, operations_for

#: Fewer rows than this are INSERTed (see benchmarks/results/bulk-create-copy.txt).
COPY_MIN_ROWS = 1000

#: One key per row, in row order, from the sequence behind the key column (NULL: none).
RESERVE_KEYS_SQL = "SELECT nextval(pg_get_serial_sequence($1, $2)) FROM generate_series(1, $3)"


def copy_applies(db: Any, objs: list[Any]) -> bool:
    """Whether ``bulk_create`` (without conflict handling) loads ``objs`` with COPY."""
    return len(objs) >= COPY_MIN_ROWS and features_for(db.vendor).supports_copy_from


async def copy_create(db: Any, model: Any, objs: list[Any], batch_size: int | None, using: Any) -> bool:
    """Loads ``objs`` (already stamped) with COPY and sets their keys; False, having
    changed nothing, when the key column has no sequence to reserve keys from."""
    meta = model._meta
    pk = meta.pk
    others = [f for f in meta.fields if f is not pk]
    generated = [i for i, obj in enumerate(objs) if obj.pk is None and pk.auto]
    is_generated = set(generated)
    # The key first: a reserved one for the rows that get one, the object's own otherwise.
    rows = [[None if i in is_generated else obj.clean([pk])[0], *obj.clean(others)] for i, obj in enumerate(objs)]
    keys: list[Any] = []
    if generated:
        table = operations_for(db.vendor).quote(meta.table)
        keys = [row[0] for row in await db.query(RESERVE_KEYS_SQL, table, pk.column, len(generated))]
        if not keys or keys[0] is None:
            return False
        for i, key in zip(generated, keys):
            rows[i][0] = key
    fields = [pk, *others]
    columns = [f.column for f in fields]
    size = batch_size or len(rows)
    if size >= len(rows):
        await db.copy_in(meta.table, columns, rows)
    else:
        async with atomic(db):
            for start in range(0, len(rows), size):
                await db.copy_in(meta.table, columns, rows[start : start + size])
    for i, key in zip(generated, keys):
        objs[i].__dict__[pk.name] = key
    for obj in objs:
        obj.__dict__["_persisted"] = True
        if using is not None:
            obj.__dict__["_db"] = using
    return True
