"""Loading relations for many instances at once: one query per relation, never one per row."""

from __future__ import annotations

from typing import Any

from .exceptions import FieldError
from .related import ForwardRelation, ManyToManyRelation, ReverseRelation


async def prefetch(instances: list[Any], name: str, db: Any) -> None:
    """Loads relation ``name`` of ``instances`` (all of one model) and caches it on each."""
    model = type(instances[0])
    relation = model._meta.relations.get(name)
    if relation is None:
        raise FieldError(f"{model.__name__} has no relation {name!r}; relations: {', '.join(model._meta.relations) or 'none'}")
    target = relation.target
    if isinstance(relation, ForwardRelation):
        fk = relation.field.name
        keys = {obj.__dict__.get(fk) for obj in instances} - {None}
        found = {o.pk: o for o in await target.objects.using(db).filter(pk__in=keys)} if keys else {}
        for obj in instances:
            obj.__dict__["_rel_" + name] = found.get(obj.__dict__.get(fk))
        return
    keys = [obj.pk for obj in instances]
    groups: dict[Any, list[Any]] = {key: [] for key in keys}
    if isinstance(relation, ReverseRelation):
        fk = relation.field.name
        for row in await target.objects.using(db).filter(**{f"{fk}__in": keys}):
            groups[row.__dict__[fk]].append(row)
    elif isinstance(relation, ManyToManyRelation):
        src, dst = relation.source_fk.name, relation.target_fk.name
        links = await relation.through.objects.using(db).filter(**{f"{src}__in": keys}).values_list(src, dst)
        owners: dict[Any, list[Any]] = {}
        for source, linked in links:
            owners.setdefault(linked, []).append(source)
        if owners:
            for row in await target.objects.using(db).filter(pk__in=list(owners)):
                for source in owners[row.pk]:
                    groups[source].append(row)
    for obj in instances:
        obj.__dict__["_pf_" + name] = groups[obj.pk]
