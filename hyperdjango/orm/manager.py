"""``Model.objects``: where QuerySets start.

>>> from hyperdjango import Model
>>> class Note(Model):
...     text: str = ""
>>> Note.objects.filter(text__icontains="tea")
<QuerySet Note>
"""

from __future__ import annotations

from typing import Any

#: QuerySet methods a manager offers directly (``Product.objects.filter(...)``).
QUERYSET_METHODS = (
    "all", "filter", "exclude", "order_by", "distinct", "values", "values_list", "only", "defer",
    "select_related", "prefetch_related", "annotate", "select_for_update", "using", "none",
    "get", "first", "last", "count", "exists", "aggregate", "update", "delete", "create",
    "bulk_create", "bulk_update", "in_bulk", "get_or_create", "update_or_create", "aiterator",
    "explain", "reverse", "alias", "union", "intersection", "difference", "latest", "earliest", "contains",
    "dates", "datetimes",
    # Django's async names (see query.ASYNC_ALIASES)
    "aget", "acount", "afirst", "alast", "aexists", "acreate", "aupdate", "adelete", "aaggregate", "aget_or_create",
    "aupdate_or_create", "ain_bulk", "abulk_create", "abulk_update", "acontains", "alatest", "aearliest", "aexplain",
)


class Manager:
    """The entry point of a model's queries: ``Product.objects.filter(active=True)``.

    Every QuerySet method is available on the manager; ``raw(sql, *params)``
    runs SQL of your own and returns model instances.
    """

    def __init__(self) -> None:
        self.model: Any = None

    def bind(self, model: Any) -> Manager:
        manager = type(self).__new__(type(self))
        manager.__dict__.update(self.__dict__)
        manager.model = model
        return manager

    def __get__(self, instance: Any, owner: Any) -> Manager:
        if instance is not None:
            raise AttributeError(f"a manager is reached through the class ({owner.__name__}.objects), not an instance")
        return self

    def get_queryset(self) -> Any:
        """The QuerySet every method starts from; override to change what a manager sees."""
        from .query import QuerySet

        return QuerySet(self.model)

    def raw(self, sql: str, *params: Any) -> Any:
        """``await Product.objects.raw("SELECT * FROM products WHERE price > $1", 10)`` → instances.

        The columns are matched to fields by name; unknown columns become attributes.
        """
        from .query import RawQuerySet

        return RawQuerySet(self.model, sql, params)

    def __aiter__(self) -> Any:
        return self.get_queryset().__aiter__()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {getattr(self.model, '__name__', '?')}>"


def _proxy(name: str) -> Any:
    def method(self: Manager, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.get_queryset(), name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


for _name in QUERYSET_METHODS:
    setattr(Manager, _name, _proxy(_name))
