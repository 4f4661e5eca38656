"""``Model.objects``: where QuerySets start.

>>> from hyperdjango import Model
>>> class Note(Model):
...     text: str = ""
>>> Note.objects.filter(text__icontains="tea")
<QuerySet Note>

``Manager[M]`` declares every QuerySet method and forwards it to
``get_queryset()`` (or, when that is not overridden, to one QuerySet the manager
keeps and shares: see ``_start``), so a type checker sees ``Note.objects.filter(...)`` as a
``QuerySet[Note]`` and ``await Note.objects.get(...)`` as ``Note | None``.
Each forwarding method returns what the QuerySet's method returns (its
coroutine, for the async ones), and carries that method's docstring.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import AsyncIterator, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, cast, overload

from typing_extensions import TypeVar

from .._core import InstanceReader
from ..database import connection as _connection
from ..timezone import current_zone_token
from .exceptions import several_found
from .sql.query import Query

if TYPE_CHECKING:
    from .expressions import Aggregate, Expression, Q
    from .models import Model
    from .prefetch import Prefetch
    from .query import QuerySet, RawQuerySet

ModelT = TypeVar("ModelT", bound="Model")


class Manager(Generic[ModelT]):
    """The entry point of a model's queries: ``Product.objects.filter(active=True)``.

    Every QuerySet method is available on the manager; ``raw(sql, *params)``
    runs SQL of your own and returns model instances. A custom manager
    subclasses ``Manager["Product"]`` and is assigned as ``objects`` in the
    model's body.
    """

    #: The model this manager queries, set when the model class is made.
    model: type[ModelT]
    #: What the methods start from when ``get_queryset`` is not overridden: one QuerySet per
    #: manager, made on first use and shared. It is a chain with no step, which no QuerySet
    #: method changes (each returns a new QuerySet), and it is never handed out:
    #: ``get_queryset()`` makes a new one, which its caller may change.
    _root: QuerySet[ModelT] | None = None

    def bind(self, model: type[Any]) -> Self:
        """A copy of this manager for ``model`` (each model class gets its own)."""
        manager = type(self).__new__(type(self))
        manager.__dict__.update(self.__dict__)
        manager.__dict__.pop("_root", None)  # another model's
        manager.model = model
        return manager

    def __get__(self, instance: None, owner: type[Any]) -> Self:
        if instance is not None:
            raise AttributeError(f"a manager is reached through the class ({owner.__name__}.objects), not an instance")
        return self

    def get_queryset(self) -> QuerySet[ModelT]:
        """The QuerySet every method starts from; override to change what a manager sees."""
        return queryset_class()(self.model)

    def _start(self) -> QuerySet[ModelT]:
        """The QuerySet a method starts from: ``get_queryset()``, or the shared root when it
        is not overridden (building a QuerySet per ``Model.objects.filter(...)`` cost more
        than the filter itself). The methods run most often read ``_root`` first
        (``self._root or self._start()``: a QuerySet is true): a call less per query."""
        root = self._root
        if root is None:
            if type(self).get_queryset is not Manager.get_queryset:
                return self.get_queryset()
            root = self._root = queryset_class()(self.model)
        return root

    def raw(self, sql: str, *params: Any) -> RawQuerySet[ModelT]:
        """``await Product.objects.raw("SELECT * FROM products WHERE price > $1", 10)`` → instances.

        The columns are matched to fields by name; unknown columns become attributes.
        """
        from .query import RawQuerySet

        return RawQuerySet(self.model, sql, params)

    def __aiter__(self) -> AsyncIterator[ModelT]:
        return self._start().__aiter__()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {getattr(getattr(self, 'model', None), '__name__', '?')}>"

    # -- QuerySets (the docstrings are the QuerySet's, copied by query.py) ------------------

    def all(self) -> QuerySet[ModelT]:
        return (self._root or self._start()).all()

    def filter(self, *conditions: Q | Expression, **lookups: Any) -> QuerySet[ModelT]:
        # One planned lookup of a value bound as it is (see get()): the root chain's filter
        # step made here, what QuerySet.filter and _planned_lookups make for it, two calls less.
        root = self._root
        if len(lookups) == 1 and not conditions and root is not None:
            [(name, value)] = lookups.items()
            plan = self.model._meta.lookup_plans.get(name)
            if plan is not None and type(value) is plan[4]:
                return root._chained(("filter", (name, plan[4])), (value,), (Query.add_filter, lookups))
        return (root or self._start()).filter(*conditions, **lookups)

    def exclude(self, *conditions: Q | Expression, **lookups: Any) -> QuerySet[ModelT]:
        return self._start().exclude(*conditions, **lookups)

    def order_by(self, *fields: str | Expression) -> QuerySet[ModelT]:
        return (self._root or self._start()).order_by(*fields)

    def distinct(self, *fields: str) -> QuerySet[ModelT]:
        return self._start().distinct(*fields)

    def reverse(self) -> QuerySet[ModelT]:
        return self._start().reverse()

    def values(self, *fields: str, **expressions: Any) -> QuerySet[ModelT, dict[str, Any]]:
        return self._start().values(*fields, **expressions)

    @overload
    def values_list(self, *fields: str | Expression, flat: Literal[False] = False, named: bool = False) -> QuerySet[ModelT, tuple[Any, ...]]: ...
    @overload
    def values_list(self, *fields: str | Expression, flat: bool, named: bool = False) -> QuerySet[ModelT, Any]: ...
    def values_list(self, *fields: str | Expression, flat: bool = False, named: bool = False) -> QuerySet[ModelT, Any]:
        return self._start().values_list(*fields, flat=flat, named=named)

    def only(self, *fields: str) -> QuerySet[ModelT]:
        return self._start().only(*fields)

    def defer(self, *fields: str) -> QuerySet[ModelT]:
        return self._start().defer(*fields)

    def select_related(self, *paths: str | None) -> QuerySet[ModelT]:
        return self._start().select_related(*paths)

    def prefetch_related(self, *lookups: str | Prefetch | None) -> QuerySet[ModelT]:
        return self._start().prefetch_related(*lookups)

    def annotate(self, *aggregates: Aggregate, **expressions: Any) -> QuerySet[ModelT]:
        return self._start().annotate(*aggregates, **expressions)

    def alias(self, **expressions: Any) -> QuerySet[ModelT]:
        return self._start().alias(**expressions)

    def select_for_update(self, skip_locked: bool = False, nowait: bool = False) -> QuerySet[ModelT]:
        return self._start().select_for_update(skip_locked=skip_locked, nowait=nowait)

    def using(self, database: Any) -> QuerySet[ModelT]:
        return self._start().using(database)

    def none(self) -> QuerySet[ModelT]:
        return self._start().none()

    def union(self, *others: QuerySet[Any, Any], all: bool = False) -> QuerySet[ModelT]:
        return self._start().union(*others, all=all)

    def intersection(self, *others: QuerySet[Any, Any]) -> QuerySet[ModelT]:
        return self._start().intersection(*others)

    def difference(self, *others: QuerySet[Any, Any]) -> QuerySet[ModelT]:
        return self._start().difference(*others)

    # -- results ----------------------------------------------------------------------

    def aiterator(self, chunk_size: int = 1000, keyset: bool = False) -> AsyncIterator[ModelT]:
        return self._start().aiterator(chunk_size, keyset)

    def get(self, *conditions: Q, **lookups: Any) -> Coroutine[Any, Any, ModelT | None]:
        # ``Model.objects.get(name=value)`` already planned, written out: the root chain's get
        # plan looked up in ``Options.chain_plans`` under the key ``QuerySet._plan`` made it
        # with, and started by its ``PlannedRead`` (the driver's awaitable, in the caller's
        # transaction), with no frame between: each Python call here cost about as much as
        # the Rust that reads the row. Only for a value of the exact type the lookup binds as
        # it is (``planned_param``: no conversion, so no error before await); anything else
        # or a miss takes ``QuerySet.get``.
        if len(lookups) == 1 and not conditions and self._root is not None:
            [(name, value)] = lookups.items()
            meta = self.model._meta
            plan = meta.lookup_plans.get(name)
            if plan is not None and type(value) is plan[4]:
                db: Any = meta._database or _connection._default  # a URL or None: in no key
                compiled = meta.chain_plans.get(((), ("get", (name, plan[4])), db, current_zone_token()))
                if compiled is not None and compiled.in_order == 1 and type(compiled.reader) is InstanceReader:
                    return cast("Coroutine[Any, Any, ModelT | None]", compiled.read.first(db, (value,), (several_found, self.model, lookups)))
        return (self._root or self._start()).get(*conditions, **lookups)

    def first(self) -> Coroutine[Any, Any, ModelT | None]:
        return (self._root or self._start()).first()

    def last(self) -> Coroutine[Any, Any, ModelT | None]:
        return self._start().last()

    def latest(self, *fields: str) -> Coroutine[Any, Any, ModelT | None]:
        return self._start().latest(*fields)

    def earliest(self, *fields: str) -> Coroutine[Any, Any, ModelT | None]:
        return self._start().earliest(*fields)

    def contains(self, obj: ModelT) -> Coroutine[Any, Any, bool]:
        return self._start().contains(obj)

    def dates(self, field: str, kind: str, order: str = "ASC") -> QuerySet[ModelT, datetime.date]:
        return self._start().dates(field, kind, order)

    def datetimes(self, field: str, kind: str, order: str = "ASC", tzinfo: datetime.tzinfo | None = None) -> QuerySet[ModelT, datetime.datetime]:
        return self._start().datetimes(field, kind, order, tzinfo)

    def count(self) -> Coroutine[Any, Any, int]:
        return (self._root or self._start()).count()

    def exists(self) -> Coroutine[Any, Any, bool]:
        return (self._root or self._start()).exists()

    def aggregate(self, *aggregates: Aggregate, **named: Aggregate) -> Coroutine[Any, Any, dict[str, Any]]:
        return self._start().aggregate(*aggregates, **named)

    def update(self, **values: Any) -> Coroutine[Any, Any, int]:
        return self._start().update(**values)

    def delete(self) -> Coroutine[Any, Any, int]:
        return self._start().delete()

    def create(self, **values: Any) -> Coroutine[Any, Any, ModelT]:
        return self._start().create(**values)

    def bulk_create(self, objs: Iterable[ModelT], batch_size: int | None = None, ignore_conflicts: bool = False,
                    update_conflicts: bool = False, update_fields: Iterable[str] | None = None,
                    unique_fields: Iterable[str] | None = None) -> Coroutine[Any, Any, list[ModelT]]:
        return self._start().bulk_create(objs, batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields)

    def bulk_update(self, objs: Iterable[ModelT], fields: Iterable[str], batch_size: int | None = None) -> Coroutine[Any, Any, int]:
        return self._start().bulk_update(objs, fields, batch_size)

    def in_bulk(self, id_list: Iterable[Any] | None = None, field_name: str = "pk") -> Coroutine[Any, Any, dict[Any, ModelT]]:
        return self._start().in_bulk(id_list, field_name)

    def get_or_create(self, defaults: dict[str, Any] | None = None, **lookups: Any) -> Coroutine[Any, Any, tuple[ModelT, bool]]:
        return self._start().get_or_create(defaults, **lookups)

    def update_or_create(self, defaults: dict[str, Any] | None = None, **lookups: Any) -> Coroutine[Any, Any, tuple[ModelT, bool]]:
        return self._start().update_or_create(defaults, **lookups)

    def explain(self) -> Coroutine[Any, Any, str]:
        return self._start().explain()

    # -- Django's async names: the same coroutines as the spec's names ---------------------

    aget = get
    afirst = first
    alast = last
    alatest = latest
    aearliest = earliest
    acontains = contains
    acount = count
    aexists = exists
    aaggregate = aggregate
    aupdate = update
    adelete = delete
    acreate = create
    abulk_create = bulk_create
    abulk_update = bulk_update
    ain_bulk = in_bulk
    aget_or_create = get_or_create
    aupdate_or_create = update_or_create
    aexplain = explain


def copy_queryset_docs(queryset: type) -> None:
    """Gives the manager's forwarding methods the docstrings of the QuerySet methods they
    call. The package runs it once both modules are loaded: the manager reaches the QuerySet
    only lazily (query.py imports this module through related.py)."""
    for name, method in vars(Manager).items():
        if callable(method) and method.__doc__ is None and hasattr(queryset, name):
            method.__doc__ = getattr(queryset, name).__doc__


@functools.cache
def queryset_class() -> type[QuerySet[Any]]:
    """``QuerySet``, imported once: query.py imports this module (through related.py), and
    an import statement in ``get_queryset`` cost every QuerySet a module lookup."""
    from .query import QuerySet

    return QuerySet
