"""Row readers: database rows → model instances, dicts, tuples or single values.

A reader is built once per compiled query shape. A query of the model's own
columns reads its rows with a ``_core.InstanceReader``: the instances are made
in Rust straight from the driver's values (``__dict__`` filled, the few
conversions the backend needs applied, ``ops.field_converter``), with no
``Row`` and no Python per row (``Database.query_instances``). With
``select_related`` objects or annotations, the instances are made in Rust
(``_core.instances_from_rows``) and completed here. No per-field validation.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..._core import InstanceReader, instances_from_rows
from ..expressions import Col

if TYPE_CHECKING:
    from ..backends.base.operations import BaseOperations
    from ..fields import Field
    from .query import Query


def _converter(expr: Any, ops: BaseOperations) -> Callable[[Any], Any] | None:
    if isinstance(expr, Col):
        return ops.field_converter(expr.field)
    return ops.expression_converter(expr.output_field)


def model_reader(query: Query, ops: BaseOperations, fields: list[Field], related: list[tuple], annotation_start: int) -> Callable:
    model = query.model
    names = [f.name for f in fields]
    converters = [(i, c) for i, f in enumerate(fields) if (c := ops.field_converter(f)) is not None]
    new = object.__new__
    # select_related: (index of the parent among the built objects, cache key, model, start, names, converters)
    specs = []
    for path, start, rmodel, rfields in related:
        parent = next((k + 1 for k, (p, *_) in enumerate(related) if p == path[:-1]), 0)
        rnames = [f.name for f in rfields]
        rconv = [(i, c) for i, f in enumerate(rfields) if (c := ops.field_converter(f)) is not None]
        pk_index = start + rnames.index(rmodel._meta.pk.name)
        # A FilteredRelation's object is an attribute of its own name (no relation descriptor reads it).
        key = path[0] if len(path) == 1 and path[0] in query.filtered_relations else "_rel_" + path[-1]
        specs.append((parent, key, rmodel, start, rnames, rconv, pk_index))
    shown = [(name, e) for name, e in query.annotations.items() if name not in query.hidden]
    annotations = [(name, annotation_start + i, _converter(e, ops)) for i, (name, e) in enumerate(shown)]
    names_tuple = tuple(names)
    loaded = {"_persisted": True}
    if not specs and not annotations:
        return InstanceReader(model, names_tuple, loaded, converters)

    def read(rows: list[Any]) -> list[Any]:
        out = instances_from_rows(rows, model, names_tuple, loaded)
        if converters or specs or annotations:
            for obj, row in zip(out, rows):
                values = row.values()
                d = obj.__dict__
                for i, convert in converters:
                    d[names[i]] = convert(values[i])
                if specs:
                    built = [obj]
                    for parent, key, rmodel, start, rnames, rconv, pk_index in specs:
                        rel = None
                        if values[pk_index] is not None:
                            rel = new(rmodel)
                            rd = rel.__dict__
                            rd.update(zip(rnames, values[start:]))
                            rd["_persisted"] = True
                            for i, convert in rconv:
                                rd[rnames[i]] = convert(values[start + i])
                        built.append(rel)
                        owner = built[parent]
                        if owner is not None:
                            owner.__dict__[key] = rel
                for name, i, to_python in annotations:
                    d[name] = values[i] if to_python is None else to_python(values[i])
        return out

    return read


def values_reader(query: Query, ops: BaseOperations) -> Callable:
    selected = query.values or ()  # a values() query: never None here
    names = [n for n, _ in selected]
    converters = [(i, c) for i, (_, e) in enumerate(selected) if (c := _converter(e, ops)) is not None]
    kind = query.values_kind

    def convert(row: Any) -> list[Any]:
        values = list(row.values())
        for i, c in converters:
            values[i] = c(values[i])
        return values

    if kind == "flat":
        if converters:
            return lambda rows: [convert(r)[0] for r in rows]
        return lambda rows: [r[0] for r in rows]
    if kind == "named":
        row_type = named_row(tuple(names))
        return lambda rows: [row_type._make(convert(r)[:len(names)]) for r in rows]
    if kind == "tuple":
        width = len(names)  # DISTINCT may have selected the ordering's columns after these
        if converters:
            return lambda rows: [tuple(convert(r)[:width]) for r in rows]
        return lambda rows: [tuple(r.values()[:width]) for r in rows]
    if converters:
        return lambda rows: [dict(zip(names, convert(r))) for r in rows]
    return lambda rows: [dict(zip(names, r.values())) for r in rows]


@functools.lru_cache(maxsize=256)
def named_row(names: tuple[str, ...]) -> type[Any]:
    """The named tuple ``values_list(named=True)`` returns (one class per set of names, as Django)."""
    return collections.namedtuple("Row", names, rename=True)


def aggregate_reader(query: Query, ops: BaseOperations) -> Callable:
    specs = [(name, _converter(e, ops)) for name, e in query.aggregates]

    def read(rows: list[Any]) -> dict[str, Any]:
        values = rows[0].values() if rows else (None,) * len(specs)
        return {name: (v if c is None else c(v)) for (name, c), v in zip(specs, values)}

    return read
