"""``FilteredRelation``: a relation joined with a condition in its ON clause.

>>> from hyperdjango.expressions import FilteredRelation, Q
>>> FilteredRelation("reviews", condition=Q(reviews__rating__gte=4))
FilteredRelation('reviews', condition=<Q AND: ('reviews__rating__gte', 4)>)

``Book.objects.annotate(good=FilteredRelation("reviews", condition=Q(reviews__rating__gte=4)))``
names a LEFT JOIN of the reviews whose ON clause also requires the condition: a book without
a good review keeps its row (with NULLs for ``good``), which a ``filter()`` on the reviews
would drop. ``good__rating``, ``Count("good")``, ``values("good__note")`` then use that join.
As in Django, the join is made when the name is first used; the condition may only name the
relation's own fields and the model's.
"""

from __future__ import annotations

from .expressions import Q
from .lookups import LOOKUPS, TRANSFORMS


class FilteredRelation:
    """A relation (``relation_name``, a path like ``"books"`` or ``"books__reviews"``) joined
    on ``condition`` too: for ``annotate()``/``alias()``, then used by its name."""

    def __init__(self, relation_name: str, *, condition: Q = Q()) -> None:  # noqa: B008 (Django's signature; the Q is never changed)
        if not relation_name:
            raise ValueError("relation_name cannot be empty.")
        if not isinstance(condition, Q):
            raise ValueError("condition argument must be a Q() instance.")
        self.relation_name = relation_name
        self.condition = condition

    def __repr__(self) -> str:
        return f"FilteredRelation({self.relation_name!r}, condition={self.condition!r})"


def renamed_condition(relation: FilteredRelation, alias: str) -> Q:
    """The condition with its paths starting at ``alias`` instead of the relation's name
    (``reviews__rating__gte`` → ``good__rating__gte``), checked as Django checks it."""
    relation_parts = relation.relation_name.split("__")
    for part in relation_parts:
        if part in LOOKUPS or part in TRANSFORMS:
            raise ValueError(f"FilteredRelation's relation_name cannot contain lookups (got {relation.relation_name!r}).")

    def rename(q: Q) -> Q:
        renamed = Q(_connector=q.connector, _negated=q.negated)
        for child in q.children:
            if isinstance(child, Q):
                renamed.children.append(rename(child))
                continue
            if not isinstance(child, tuple):  # an expression (Exists...): as it is
                renamed.children.append(child)
                continue
            key, value = child
            parts = key.split("__")
            fields = list(parts)
            while len(fields) > 1 and (fields[-1] in LOOKUPS or fields[-1] in TRANSFORMS):
                fields.pop()
            # Django's check: the path to the compared field (to its relation, without a lookup).
            path = fields[: -1 if len(fields) < len(parts) else -2]
            if any(i < len(relation_parts) and part != relation_parts[i] for i, part in enumerate(path)):
                raise ValueError(f"FilteredRelation's condition doesn't support relations outside the "
                                 f"{relation.relation_name!r} (got {key!r}).")
            if len(fields) > len(relation_parts) + 1:
                raise ValueError(f"FilteredRelation's condition doesn't support nested relations deeper than the "
                                 f"relation_name (got {key!r} for {relation.relation_name!r}).")
            if parts[: len(relation_parts)] == relation_parts:  # else a field of the model itself
                key = "__".join([alias, *parts[len(relation_parts):]])
            renamed.children.append((key, value))
        return renamed

    return rename(relation.condition)
