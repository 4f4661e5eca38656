"""Loading relations for many instances at once: one query per relation and level, never one per row.

``prefetch_related("products__tags")`` loads each category's products (one
query), then the tags of all those products (a second query, plus one for the
link table); each level may be a forward foreign key, a reverse one or a
many-to-many. ``Prefetch(lookup, queryset=..., to_attr=...)`` chooses the rows
of the last level and where they go.
"""

from __future__ import annotations

from typing import Any, NoReturn

from .exceptions import FieldError
from .related import ForwardRelation, ManyToManyRelation, ReverseRelation


class Prefetch:
    """A ``prefetch_related`` lookup with its own QuerySet and, optionally, its own attribute.

    ``Prefetch("products", queryset=Product.objects.filter(stock__gt=0), to_attr="in_stock")``
    loads only the products in stock, into the list ``category.in_stock``; without
    ``to_attr`` they become what ``await category.products.all()`` returns. A later
    lookup may continue from ``to_attr``: ``"in_stock__tags"``.
    """

    def __init__(self, lookup: str, queryset: Any = None, to_attr: str | None = None) -> None:
        if queryset is not None and queryset.query.values is not None:
            raise ValueError(f"Prefetch({lookup!r}): the queryset must return model instances, not values()")
        self.lookup = lookup
        self.queryset = queryset
        self.to_attr = to_attr

    def __repr__(self) -> str:
        return f"Prefetch({self.lookup!r}{', to_attr=' + repr(self.to_attr) if self.to_attr else ''})"


def check_lookups(model: Any, lookups: tuple[Prefetch, ...]) -> None:
    """Checks each ``Prefetch``'s queryset and ``to_attr`` against the relations its lookup follows.

    A name that is no accessor is left for the evaluation to refuse, as Django does: only
    once there are rows (``prefetch``), so a lookup that matches nothing never raises."""
    named: dict[tuple[str, ...], Any] = {(): model}  # paths already reachable (to_attr included) → model
    for lookup in lookups:
        parts = lookup.lookup.split("__")
        current = owner = model
        for i, part in enumerate(parts):
            owner = current
            reached = named.get(tuple(parts[: i + 1]))
            if reached is not None:
                current = reached
                continue
            relation = current._meta.accessors.get(part)  # by accessor, as Django's
            if relation is None:
                break
            current = relation.target
            named[tuple(parts[: i + 1])] = current
        else:  # the whole lookup follows relations: check what it asks of the last one
            if lookup.queryset is not None and lookup.queryset.model is not current:
                raise FieldError(f"Prefetch({lookup.lookup!r}): the queryset is of {lookup.queryset.model.__name__}, "
                                 f"the relation leads to {current.__name__}")
            if lookup.to_attr is not None:
                if lookup.to_attr in owner._meta.field_map or lookup.to_attr in owner._meta.accessors:
                    raise ValueError(f"Prefetch(to_attr={lookup.to_attr!r}) would hide a field or relation of the same name")
                named[(*parts[:-1], lookup.to_attr)] = current


async def prefetch_all(instances: list[Any], lookups: tuple[Prefetch, ...], db: Any) -> None:
    """Runs every lookup over ``instances`` (all of one model); a level shared by two lookups loads once."""
    loaded: dict[tuple[str, ...], list[Any]] = {}
    for lookup in lookups:
        parts = lookup.lookup.split("__")
        level = instances
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            path = tuple(parts[: i + 1])
            custom = last and (lookup.queryset is not None or lookup.to_attr is not None)
            if path in loaded and not custom:
                level = loaded[path]
                continue
            to_attr = lookup.to_attr if last else None
            level = await prefetch(level, part, db, lookup.queryset if last else None, to_attr, lookup.lookup)
            loaded[(*parts[:i], to_attr) if to_attr else path] = level


def _refuse(instance: Any, name: str, lookup: str) -> NoReturn:
    """Django's error for a ``prefetch_related`` name that is no relation of ``instance``:
    ValueError for one of its fields, AttributeError for anything else."""
    if name in instance._meta.field_map:
        raise ValueError(f"{lookup!r} does not resolve to an item that supports prefetching - "
                         "this is an invalid parameter to prefetch_related().")
    raise AttributeError(f"Cannot find {name!r} on {type(instance).__name__} object, {lookup!r} is an invalid "
                         "parameter to prefetch_related()")


async def prefetch(instances: list[Any], name: str, db: Any, queryset: Any = None, to_attr: str | None = None,
                   lookup: str | None = None) -> list[Any]:
    """Loads relation ``name`` of ``instances`` (all of one model), caches it on each
    (or sets ``to_attr``) and returns the related objects loaded, each once. ``lookup``
    is the whole ``prefetch_related`` path, for the error about a name that is no relation."""
    if not instances:
        return []
    model = type(instances[0])
    relation = model._meta.accessors.get(name)
    if relation is None:
        _refuse(instances[0], name, lookup or name)
    target = relation.target
    rows = queryset if queryset is not None else target.objects.all()
    if rows._db is None:
        rows = rows.using(db)
    if isinstance(relation, ForwardRelation):
        fk = relation.field.name
        keys = {obj.__dict__.get(fk) for obj in instances} - {None}
        found = {o.pk: o for o in await rows.filter(pk__in=keys)} if keys else {}
        for obj in instances:
            obj.__dict__[to_attr or "_rel_" + name] = found.get(obj.__dict__.get(fk))
        return list(found.values())
    pks = [obj.pk for obj in instances]
    groups: dict[Any, list[Any]] = {key: [] for key in pks}
    loaded: dict[int, Any] = {}
    if isinstance(relation, ReverseRelation):
        fk = relation.field.name
        for row in await rows.filter(**{f"{fk}__in": pks}):
            groups[row.__dict__[fk]].append(row)
            loaded[id(row)] = row
    elif isinstance(relation, ManyToManyRelation):
        src, dst = relation.source_fk.name, relation.target_fk.name
        links = await relation.through.objects.using(db).filter(**{f"{src}__in": pks}).values_list(src, dst)
        owners: dict[Any, list[Any]] = {}
        for source, linked in links:
            owners.setdefault(linked, []).append(source)
        if owners:
            for row in await rows.filter(pk__in=list(owners)):
                loaded[id(row)] = row
                for source in owners[row.pk]:
                    groups[source].append(row)
    for obj in instances:
        obj.__dict__[to_attr or "_pf_" + name] = groups[obj.pk]
    return list(loaded.values())
