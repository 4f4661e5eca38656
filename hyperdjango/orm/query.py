"""QuerySet: a lazy, chainable, immutable description of rows; awaited at the end.

>>> import asyncio
>>> from hyperdjango import Model
>>> from hyperdjango.database import Database
>>> from hyperdjango.expressions import F, Q
>>> class Item(Model):
...     name: str = ""
...     stock: int = 0
>>> async def main():
...     db = Database("sqlite://:memory:")
...     await db.create_tables(Item)
...     await Item.objects.using(db).bulk_create([Item(name=n, stock=s) for n, s in [("tea", 3), ("pot", 0), ("cup", 5)]])
...     in_stock = Item.objects.using(db).filter(stock__gt=0).order_by("-stock")   # nothing has run yet
...     names = [i.name for i in await in_stock]
...     changed = await Item.objects.using(db).filter(Q(name="tea") | Q(name="cup")).update(stock=F("stock") - 1)
...     left = await Item.objects.using(db).values_list("stock", flat=True).order_by("name")
...     await db.close()
...     return names, changed, left
>>> asyncio.run(main())
(['cup', 'tea'], 2, [4, 0, 2])

Every method returns a new QuerySet; evaluation is asynchronous: ``await qs``
or ``await qs.all()`` (a list), ``async for``, ``await qs.get(...)`` (the
object or None), ``count``, ``exists``, ``aggregate``, ``update``, ``delete``.

Planned chains: a QuerySet started from ``Model.objects`` records its planned steps
(``filter(**lookups)`` of lookups planned in ``Options.lookup_plans``, an ordering planned
in ``Options.ordering_plans``, one slice; then ``all()``, ``first()``, ``get(**lookups)``,
``count()``, ``exists()``, ``aggregate(...)``)
instead of building a query tree per method. Each step adds its part to the chain's key
(the method and the shape of its arguments: lookup names and parameter types, ordering
names, whether there is an OFFSET and the LIMIT) and its parameters to the chain's values.
At evaluation the compiled SQL is found in ``Options.chain_plans`` by that key, the
database (so its vendor) and the current time zone: one dict lookup, no tree, no compilation.
On a miss the tree is built by replaying the steps (the same ``Query`` methods the other
QuerySet methods call) and compiled; the plan is kept only when the built query binds
exactly the recorded values. Any other method builds the tree (``query``) and goes on from
it as before; reading ``qs.query`` hands the tree out and ends the QuerySet's chain.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Awaitable, Coroutine, Generator, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, cast, overload

from typing_extensions import TypeVar

from ..database import IntegrityError, atomic, default_database
from ..database import connection as _connection
from ..timezone import current_zone_token, get_current_timezone
from .backends import operations_for
from .bulk_create import bulk_create
from .bulk_update import bulk_update
from .exceptions import FieldError, NotSupportedError, several_found
from .expressions import Aggregate, Col, Expression, Param, Q
from .fields import DateField, DateTimeField, TimeField
from .filtered_relation import FilteredRelation
from .prefetch import Prefetch, check_lookups, prefetch_all
from .related import ForwardRelation
from .sql.compiler import Compiled, compile_query
from .sql.query import MAX_PLANS, PLAIN_VALUES, Query, planned_param, slice_limits
from .window import has_window

if TYPE_CHECKING:
    from .models import Model

ModelT = TypeVar("ModelT", bound="Model")
#: What one row is: a model instance, or a dict / tuple / value after values() and values_list().
RowT = TypeVar("RowT", default=ModelT)


class QuerySet(Generic[ModelT, RowT]):
    """Rows of one model, described lazily. Build with ``filter``/``order_by``/...,
    then ``await`` it (a list) or call one of the async methods.

    ``QuerySet[Product]`` yields ``Product`` instances; ``values()`` makes a
    ``QuerySet[Product, dict[str, Any]]``, ``values_list()`` one of tuples (or bare values).
    """

    # Defaults at class level: a chained copy sets only what differs.
    _query: Query | None = None  # None until a recorded chain's tree is built
    _db: Any = None
    _prefetch: tuple[Prefetch, ...] = ()
    _empty = False
    _prefetched: list[Any] | None = None  # a related manager's rows, already loaded
    #: A recorded chain (see the module's docstring): its key, None when the QuerySet is
    #: described by its query tree. The model's plain QuerySet starts one (an empty key).
    _chain: tuple[Any, ...] | None = None
    _steps: tuple[tuple[Any, ...], ...] = ()  # (Query method, *arguments) that build the tree
    _values: tuple[Any, ...] = ()  # the parameters the steps bind, in order
    _sliced = False  # a chain ends at its slice: later steps build the tree

    def __init__(self, model: type[ModelT], query: Query | None = None, db: Any = None) -> None:
        self.model = model
        if query is None and db is None:
            self._chain = ()  # its tree, the model's prototype query, is found when needed
        else:
            self._query = query if query is not None else Query.for_model(model)
            self._db = db

    @property
    def query(self) -> Query:
        """The query tree. Handed out, it may be changed in place: the QuerySet then runs
        what the tree says (its recorded chain, if any, is set aside). Never the model's
        shared prototype query (``Query.for_model``): a copy of it, this QuerySet's own."""
        query = self._built_query()
        if query is Query.for_model(self.model):
            query = self._query = query.clone()
        self._chain = None
        return query

    @query.setter
    def query(self, query: Query) -> None:
        self._query, self._chain = query, None

    def _built_query(self) -> Query:
        """The query tree, built from the recorded steps on first use, for reading."""
        query = self._query
        if query is None:
            query = self._query = _replayed(self.model, self._steps)
        return query

    def _clone(self, query: Query | None = None) -> Self:
        """A copy with a copy of the query (to change), or with ``query``: a query may be
        shared because none is changed but the copy a method has just made. Never a chain."""
        new = QuerySet.__new__(type(self))
        new.model, new._query, new._db = self.model, self._built_query().clone() if query is None else query, self._db
        new._prefetch, new._empty = self._prefetch, self._empty
        return new

    def _chained(self, key: Any, values: tuple[Any, ...], step: tuple[Any, ...]) -> Self:
        """This chain with one more step: ``key`` its part of the chain's key, ``values`` the
        parameters it binds, ``step`` the Query method (and arguments) that builds it."""
        new = QuerySet.__new__(type(self))
        new.model = self.model
        new._chain = self._chain + (key,)  # type: ignore[operator]  # only chains are extended
        new._values = self._values + values if values else self._values
        new._steps = self._steps + (step,)
        return new

    def _extends_chain(self) -> bool:
        return self._chain is not None and not self._sliced and self._prefetched is None

    def _planned_lookups(self, lookups: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
        """``(shape, parameters)`` of ``filter(**lookups)`` when every lookup is planned
        (``Options.lookup_plans``: a plain value on a column of the model's own table): the
        lookups' names and their parameters' types, and the parameters, converted (and so
        checked) now, as the full path does. None when a lookup is not planned (yet)."""
        plans = self.model._meta.lookup_plans
        items = sorted(lookups.items()) if len(lookups) > 1 else lookups.items()  # Q's order
        shape: tuple[Any, ...] = ()
        params: tuple[Any, ...] = ()  # no comprehensions: this runs per call
        for name, value in items:
            plan = plans.get(name) if type(value) in PLAIN_VALUES else None
            if plan is None:
                return None
            param = value if type(value) is plan[4] else planned_param(plan, value)  # no call for an int key
            params += (param,)
            shape += (name, type(param))
        return shape, params

    def _plan(self, last: Any, values: tuple[Any, ...], steps: tuple[tuple[Any, ...], ...], kind: str = "select") -> tuple[Any, Compiled, Sequence[Any]]:
        """``(db, compiled, parameters)`` of this chain with a ``last`` step binding ``values``
        and built by ``steps``, compiled as ``kind`` (``compile_query``'s: the ``last`` step
        names any kind but select): found in ``Options.chain_plans``, or built, compiled and kept."""
        meta = self.model._meta
        db = meta._database  # Options.database written out (a property and a call less per query):
        if db is None:
            db = _connection._default or default_database()  # the call raises when there is none
        elif isinstance(db, str):  # a URL, made a Database on first use
            db = meta.database
        key = (self._chain, last, db, current_zone_token())  # the database, not its vendor: no call
        compiled = meta.chain_plans.get(key)
        if compiled is not None:
            values = self._values + values if values else self._values
            # The values themselves when they are the parameters: no call, no list (the driver takes a tuple).
            return db, compiled, values if len(values) == compiled.in_order else compiled.params(values)
        query = _replayed(self.model, self._steps + steps)
        compiled = compile_query(query, kind, operations_for(db.vendor))
        if len(meta.chain_plans) < MAX_PLANS and _binds_exactly(query.params, self._values + values):
            meta.chain_plans[key] = compiled
        return db, compiled, compiled.params(query.params)

    def __repr__(self) -> str:
        return f"<QuerySet {self.model.__name__}>"

    def _models(self) -> QuerySet[ModelT]:
        """This QuerySet seen as one of model instances, for the methods that read
        instances (``get_or_create``, ``in_bulk`` ...) whatever ``values()`` said."""
        return cast("QuerySet[ModelT]", self)

    @property
    def db(self) -> Any:
        """The database this QuerySet runs on: ``using(db)``, ``Meta.database`` or the default."""
        return self._db if self._db is not None else self.model._meta.database

    def _compiled(self, kind: str) -> tuple[Any, Any, list[Any]]:
        db = self.db
        query = self._built_query()
        compiled = compile_query(query, kind, operations_for(db.vendor))
        return db, compiled, compiled.params(query.params)

    # -- building -----------------------------------------------------------------

    def all(self) -> Self:
        """A copy; ``await qs.all()`` is the list of rows, as in the spec."""
        new = QuerySet.__new__(type(self))
        new.__dict__.update(self.__dict__)  # the query shared: none is changed but a fresh copy
        return new

    def _check_unsliced(self, action: str) -> None:
        query = self._built_query()
        if query.is_sliced:
            raise TypeError(f"cannot {action} a QuerySet once it has been sliced")
        if query.combined is not None:
            raise NotSupportedError(f"cannot {action} the result of union(), intersection() or difference(); "
                                    "filter the QuerySets before combining them")

    def filter(self, *conditions: Q | Expression, **lookups: Any) -> Self:
        """Rows matching every lookup (``name__icontains="tea"``) and condition (``Q``, ``Exists``)."""
        # _extends_chain() written out: filter() starts most planned chains, and the call cost
        # about as much as the rest of the planned step.
        if lookups and not conditions and self._chain is not None and not self._sliced and self._prefetched is None:
            planned = self._planned_lookups(lookups)
            if planned is not None:
                return self._chained(("filter", planned[0]), planned[1], (Query.add_filter, lookups))
        self._check_unsliced("filter")
        new = self._clone()
        if lookups and not conditions:
            new.query.add_filter(lookups)
        elif conditions or lookups:
            new.query.add_q(Q(*conditions, **lookups))
        return new

    def exclude(self, *conditions: Q | Expression, **lookups: Any) -> Self:
        """Rows not matching the lookups taken together (``NOT (a AND b)``)."""
        self._check_unsliced("filter")
        new = self._clone()
        new.query.add_q(~Q(*conditions, **lookups))
        return new

    def order_by(self, *fields: str | Expression) -> Self:
        """Ordering by field names (``"-price"`` descends, ``"?"`` is random) or expressions.

        Names must be fields (or annotations): anything else raises FieldError,
        so a name from a request cannot smuggle SQL in. No argument: no ordering.
        """
        if self._extends_chain() and fields in self.model._meta.ordering_plans:
            return self._chained(("order_by", fields), (), (Query.set_ordering, fields))
        new = self._clone()
        new.query.set_ordering(fields)
        return new

    def distinct(self, *fields: str) -> Self:
        """``SELECT DISTINCT``; with field names, PostgreSQL's ``DISTINCT ON (...)`` (one row
        per value of those fields: the first in the ordering, which must start with them)."""
        new = self._clone()
        q = new.query
        q.distinct = True
        if fields:
            q.distinct_fields = tuple(q.resolve_ref(name, f"distinct({name!r})") for name in fields)
        return new

    def reverse(self) -> Self:
        """The same rows in the opposite order (no effect on a QuerySet without ordering).
        A sliced QuerySet raises ``TypeError``, as Django's: its rows are the slice of one order."""
        if self._built_query().is_sliced:
            raise TypeError("cannot reverse a QuerySet once it has been sliced")
        new = self._clone()
        new.query.standard_ordering = not new.query.standard_ordering
        return new

    @property
    def ordered(self) -> bool:
        """Whether the rows come in a defined order: ``order_by()`` or ``Meta.ordering`` (which
        a grouping by an annotated aggregate sets aside, as in Django); ``none()`` is ordered,
        as Django's empty QuerySet."""
        return self._empty or self._built_query().ordered

    def alias(self, **expressions: Any) -> Self:
        """Like ``annotate()`` for filtering and ordering only: the expressions are not selected."""
        new = self.annotate(**expressions)
        new.query.hidden = new.query.hidden | frozenset(n for n, e in expressions.items() if not isinstance(e, FilteredRelation))
        if new.query.values is not None:
            new.query.values = tuple((n, e) for n, e in new.query.values if n not in expressions)
        return new

    def _combinator(self, kind: str, others: tuple[QuerySet[Any, Any], ...], all: bool) -> Self:
        rest = [o for o in others if not o._empty]
        if self._empty and kind == "UNION" and rest:  # none() adds no rows: the others' union
            return cast(Self, rest[0]._combinator(kind, tuple(rest[1:]), all))
        new = self._clone()
        q = new.query
        parts = []
        for other in others:
            if other._empty:
                continue  # adds no rows to a UNION, removes none in an EXCEPT
            inner = other.query.clone()
            inner.order_by, inner.default_ordering = (), False
            parts.append(q.embed(inner))
        own = q.clone()
        own.order_by, own.default_ordering = (), False
        q.combined = (kind + (" ALL" if all else ""), own, tuple(parts))
        q.order_by, q.default_ordering = (), False
        if kind == "INTERSECT" and any(o._empty for o in others):
            new._empty = True
        return new

    def union(self, *others: QuerySet[Any, Any], all: bool = False) -> Self:
        """Rows of this QuerySet or the others (``UNION``; ``all=True`` keeps duplicates).
        The QuerySets select the same columns; order and slice the result, not the parts."""
        return self._combinator("UNION", others, all)

    def intersection(self, *others: QuerySet[Any, Any]) -> Self:
        """Rows in this QuerySet and in every other (``INTERSECT``)."""
        return self._combinator("INTERSECT", others, False)

    def difference(self, *others: QuerySet[Any, Any]) -> Self:
        """Rows in this QuerySet and in none of the others (``EXCEPT``)."""
        return self._combinator("EXCEPT", others, False)

    def _selected(self, query: Query, fields: tuple[str, ...], expressions: dict[str, Any]) -> tuple[tuple[str, Expression], ...]:
        if query.group_by_values and query.values is not None and not query.grouped_by:
            # values("post").annotate(n=Count("id")).values("n"): still one row per post.
            query.grouped_by = tuple(e for _, e in query.values if not e.contains_aggregate)
        if not fields and not expressions:
            names = [f.name for f in self.model._meta.fields] + [n for n in query.annotations if n not in query.hidden]
        else:
            names = list(fields)
        for name, expr in expressions.items():
            query.annotations[name] = expr.resolve(query) if isinstance(expr, Expression) else _bad_expression(name, expr)
            names.append(name)
        return tuple((name, query.resolve_ref(name, f"values({name!r})")) for name in names)

    def values(self, *fields: str, **expressions: Any) -> QuerySet[ModelT, dict[str, Any]]:
        """Rows as dicts of the named fields (all fields without names); paths like
        ``"category__name"`` join. Followed by ``annotate(...)`` it groups by these fields."""
        new = self._clone()
        q = new.query
        q.values = self._selected(q, fields, expressions)
        q.values_kind = "dict"
        q.order_by_selected()
        _values_of_parts(q)
        return cast("QuerySet[ModelT, dict[str, Any]]", new)

    @overload
    def values_list(self, *fields: str | Expression, flat: Literal[False] = False, named: bool = False) -> QuerySet[ModelT, tuple[Any, ...]]: ...
    @overload
    def values_list(self, *fields: str | Expression, flat: bool, named: bool = False) -> QuerySet[ModelT, Any]: ...
    def values_list(self, *fields: str | Expression, flat: bool = False, named: bool = False) -> QuerySet[ModelT, Any]:
        """Rows as tuples; with ``flat=True`` and one field, the bare values; with ``named=True``
        named tuples (``row.name``). Fields may be expressions (``values_list(Lower("name"))``),
        named as Django names them (``lower1``)."""
        if flat and named:
            raise TypeError("values_list() takes flat=True or named=True, not both")
        if flat and len(fields) != 1:
            raise TypeError("values_list(flat=True) takes exactly one field")
        new = self._clone()
        q = new.query
        order: list[str] = []
        expressions: dict[str, Any] = {}
        for field in fields:
            if isinstance(field, Expression):
                counter = len(expressions) + 1
                prefix = type(field).__name__.lower()
                while f"{prefix}{counter}" in fields:
                    counter += 1
                expressions[f"{prefix}{counter}"] = field
                order.append(f"{prefix}{counter}")
            else:
                order.append(field)
        selected = dict(self._selected(q, tuple(f for f in fields if isinstance(f, str)), expressions))
        q.values = tuple((name, selected[name]) for name in order) if fields else tuple(selected.items())
        q.values_kind = "flat" if flat else "named" if named else "tuple"
        q.order_by_selected()
        _values_of_parts(q)
        return new

    def _field_names(self, names: tuple[str, ...], method: str) -> set[str]:
        meta = self.model._meta
        result = set()
        for name in names:
            relation = meta.relations.get(name)
            if isinstance(relation, ForwardRelation):
                name = relation.field.name
            if name == "pk":
                name = meta.pk.name
            if name not in meta.field_map:
                raise FieldError(f"{method}({name!r}): {self.model.__name__} has no such field; fields: {', '.join(meta.field_map)}")
            result.add(name)
        return result

    def only(self, *fields: str) -> Self:
        """Loads just these fields (and the key); reading another raises DeferredFieldNotLoaded."""
        new = self._clone()
        new.query.loaded = frozenset(self._field_names(fields, "only") | {self.model._meta.pk.name})
        return new

    def defer(self, *fields: str) -> Self:
        """Loads every field but these (the key is always loaded)."""
        new = self._clone()
        skipped = self._field_names(fields, "defer") - {self.model._meta.pk.name}
        current = new.query.loaded or frozenset(f.name for f in self.model._meta.fields)
        new.query.loaded = frozenset(current - skipped)
        return new

    def select_related(self, *paths: str | None) -> Self:
        """Loads forward foreign keys in the same query (a LEFT JOIN each): ``select_related("category")``.

        Without arguments: every foreign key of the model, one level deep; ``select_related(None)``
        clears the list.
        """
        new = self._clone()
        q = new.query
        if paths == (None,):
            q.related = ()
            return new
        if not paths:
            paths = tuple(n for n, r in self.model._meta.relations.items() if isinstance(r, ForwardRelation))
        for path in cast(tuple[str, ...], paths):  # None alone was handled above
            alias, model = 0, self.model
            parts = path.split("__")
            for i, part in enumerate(parts):
                if i == 0 and part in q.filtered_relations:  # the related object, or None where the condition fails
                    if q.crosses_many([part]):
                        raise FieldError(f"select_related({path!r}): {part!r} is a many-valued FilteredRelation "
                                         "(use its fields in values() or annotate())")
                    alias, model = q.filtered_join(part, f"select_related({path!r})")
                    if all(p != (part,) for p, _, _ in q.related):
                        q.related += (((part,), alias, model),)
                    continue
                relation = model._meta.relations.get(part)
                if not isinstance(relation, ForwardRelation):
                    forward = [n for n, r in model._meta.relations.items() if isinstance(r, ForwardRelation)]
                    raise FieldError(f"select_related({path!r}): {part!r} is not a foreign key of {model.__name__}; "
                                     f"foreign keys: {', '.join(forward) or 'none'} (use prefetch_related for the others)")
                alias = q.join(alias, relation.steps()[0])
                model = relation.target
                key = tuple(parts[: i + 1])
                if all(p != key for p, _, _ in q.related):
                    q.related += ((key, alias, model),)
        return new

    def prefetch_related(self, *lookups: str | Prefetch | None) -> Self:
        """Loads relations with one extra query per level after the main one: reverse
        foreign keys, many-to-many and forward keys, nested with ``__``
        (``prefetch_related("products__tags")``), or a ``Prefetch(lookup, queryset=, to_attr=)``.
        Then ``await obj.products.all()`` needs no query. ``prefetch_related(None)`` clears them."""
        new = self._clone()
        if lookups == (None,):
            new._prefetch = ()
            return new
        added = tuple(item if isinstance(item, Prefetch) else Prefetch(cast(str, item)) for item in lookups)
        check_lookups(self.model, self._prefetch + added)
        new._prefetch = self._prefetch + added
        return new

    def annotate(self, *aggregates: Aggregate, **expressions: Any) -> Self:
        """Adds computed columns: ``annotate(n=Count("products"))`` (an attribute on each
        instance, or a key of ``values()``). After ``values(...)`` it groups by those values."""
        new = self._clone()
        q = new.query
        named = {_default_alias(a): a for a in aggregates}
        named.update(expressions)
        for name, expr in named.items():
            if name in self.model._meta.field_map or name in q.annotations or name in q.filtered_relations:
                raise ValueError(f"annotate(): {name!r} is already a field or annotation of {self.model.__name__}")
            if isinstance(expr, FilteredRelation):
                q.add_filtered_relation(name, expr)
                continue
            if not isinstance(expr, Expression):
                _bad_expression(name, expr)
            resolved = expr.resolve(q)
            q.annotations[name] = resolved
            q.grouped = q.grouped or resolved.contains_aggregate
            if q.values is not None:
                q.values += ((name, resolved),)
                if resolved.contains_aggregate:
                    q.group_by_values = True
        return new

    def select_for_update(self, skip_locked: bool = False, nowait: bool = False) -> Self:
        """Locks the rows until the transaction ends (``FOR UPDATE``); a no-op on SQLite,
        where a writing transaction already excludes every other writer."""
        if skip_locked and nowait:
            raise ValueError("skip_locked and nowait exclude each other")
        new = self._clone()
        new.query.for_update = (skip_locked, nowait)
        return new

    def using(self, database: Any) -> Self:
        """Runs on ``database`` instead of the model's."""
        new = self._clone()
        new._db = database
        new.query.vendor = database.vendor  # so str(qs.query) shows this database's SQL
        return new

    def none(self) -> Self:
        """A QuerySet that matches nothing and never queries."""
        new = self._clone()
        new._empty = True
        return new

    @overload
    def __getitem__(self, key: int) -> Coroutine[Any, Any, RowT]: ...
    @overload
    def __getitem__(self, key: slice) -> Self: ...
    def __getitem__(self, key: int | slice) -> Coroutine[Any, Any, RowT] | Self:
        """``qs[:5]``, ``qs[10:20]`` → QuerySets (LIMIT/OFFSET); ``await qs[3]`` → one object (IndexError past the end)."""
        if isinstance(key, slice):
            if key.step not in (None, 1):
                raise ValueError("QuerySet slices take no step")
            if (key.start or 0) < 0 or (key.stop or 0) < 0:
                raise ValueError("QuerySets have no negative indexing")
            start, stop = key.start, key.stop
            if self._extends_chain() and type(start or 0) is int and (stop is None or type(stop) is int):
                low, _, limit = slice_limits(0, None, start, stop)  # OFFSET bound when low, LIMIT written
                new = self._chained(("slice", bool(low), limit), (low,) if low else (), (Query.set_limits, start, stop))
                new._sliced = True
                return new
            new = self._clone()
            new.query.set_limits(key.start, key.stop)
            return new
        if not isinstance(key, int) or key < 0:
            raise TypeError("QuerySet indices are non-negative integers or slices")
        return self._one_at(key)

    async def _one_at(self, index: int) -> RowT:
        rows = await self[index : index + 1]
        if not rows:
            raise IndexError(f"{self.model.__name__} QuerySet index {index} out of range")
        return rows[0]

    # -- evaluating ---------------------------------------------------------------------

    def _fetch(self) -> Awaitable[list[RowT]]:
        """The rows; for a recorded chain the driver's awaitable itself (no coroutine of ours)."""
        if self._chain is not None and self._prefetched is None:
            db, compiled, params = self._plan(None, (), ())
            return cast("Awaitable[list[RowT]]", compiled.fetch(db, params))
        return self._fetch_built()

    async def _fetch_built(self) -> list[RowT]:
        if self._empty:
            return []
        if self._prefetched is not None:
            return list(self._prefetched)
        db, compiled, params = self._compiled("select")
        result = await compiled.fetch(db, params)
        if self._built_query().values is None and (self._db is not None or self._prefetch):
            await self._after_load(result, db)
        return result

    async def _after_load(self, objs: list[Any], db: Any) -> None:
        if self._db is not None:
            for obj in objs:
                obj.__dict__["_db"] = self._db
        if self._prefetch and objs:
            await prefetch_all(objs, self._prefetch, db)

    def __await__(self) -> Generator[Any, None, list[RowT]]:
        return self._fetch().__await__()

    async def __aiter__(self) -> AsyncIterator[RowT]:
        for obj in await self._fetch():
            yield obj

    async def aiterator(self, chunk_size: int = 1000, keyset: bool = False) -> AsyncIterator[RowT]:
        """Streams the rows ``chunk_size`` at a time, so memory stays flat however many match.

        By default through a server-side cursor (``db.iterate``), which holds a connection
        (and, on PostgreSQL, a transaction) until the loop ends. With ``keyset=True`` each
        chunk is a short query of its own, ``WHERE pk > <last key> ORDER BY pk LIMIT n``
        (never an OFFSET scan): nothing is held between chunks, and rows added meanwhile
        with keys past the last one read are seen too. Keyset pages go by the primary key, so the QuerySet must
        be unordered (its ``Meta.ordering`` is set aside) or ordered by ``"pk"``/``"-pk"``.
        """
        if chunk_size < 1:
            raise ValueError(f"aiterator(chunk_size={chunk_size}): a chunk holds at least one row")
        if self._empty:
            return
        if keyset:
            async for obj in self._keyset_pages(chunk_size):
                yield obj
            return
        db, compiled, params = self._compiled("select")
        chunk: list[Any] = []
        async for row in db.iterate(compiled.sql, *params, chunk_size=chunk_size):
            chunk.append(row)
            if len(chunk) >= chunk_size:
                for obj in await self._read_chunk(compiled, chunk, db):
                    yield obj
                chunk = []
        if chunk:
            for obj in await self._read_chunk(compiled, chunk, db):
                yield obj

    async def _keyset_pages(self, chunk_size: int) -> AsyncIterator[RowT]:
        q, pk = self._built_query(), self.model._meta.pk
        if q.is_sliced or q.values is not None:
            raise ValueError("aiterator(keyset=True) pages model rows by their key: not a sliced or values() QuerySet")
        descending = False
        if not q.default_ordering:
            keys = [(t.expression.key, t.descending) for t in q.order_by]
            if len(keys) != 1 or keys[0][0] != Col(0, pk).key:
                raise ValueError("aiterator(keyset=True) pages by the primary key: order the QuerySet by 'pk' or '-pk' (or not at all)")
            descending = keys[0][1]
        page = self._models().order_by("-pk" if descending else "pk")
        after = f"pk__{'lt' if descending else 'gt'}"
        rows = await page[:chunk_size]
        while rows:
            for obj in rows:
                yield cast(RowT, obj)
            if len(rows) < chunk_size:
                return
            rows = await page.filter(**{after: rows[-1].pk})[:chunk_size]

    async def _read_chunk(self, compiled: Any, rows: list[Any], db: Any) -> list[Any]:
        objs = compiled.reader(rows)
        if self._built_query().values is None:
            await self._after_load(objs, db)
        return objs

    def get(self, *conditions: Q, **lookups: Any) -> Coroutine[Any, Any, RowT | None]:
        """The one matching object, or None when nothing matches (the spec's behaviour);
        ``MultipleObjectsReturned`` when several do.

        On a chain of planned steps (``Model.objects.filter(...).get(id=...)``) this is the
        driver's awaitable, finished in Rust with the instance (no coroutine of ours, no
        Task under ``asyncio.gather``); the statement is then sent when ``get()`` is called."""
        # _extends_chain() and the planned get written out: this runs per call, and each
        # Python call here cost about as much as the Rust that reads the row.
        if not conditions and self._chain is not None and not self._sliced and self._prefetched is None:
            try:
                planned = self._planned_lookups(lookups)
                if planned is not None:
                    steps = ((Query.add_filter, lookups), _LIMIT_FOR_GET) if lookups else (_LIMIT_FOR_GET,)
                    db, compiled, params = self._plan(("get", planned[0]), planned[1], steps)
            except Exception as error:  # a value the lookup refuses: raised by await, as from the coroutine
                return _raising(error)
            if planned is not None:
                return compiled.fetch_first(db, params, (several_found, self.model, lookups or conditions))
        return self._get_built(conditions, lookups)

    async def _get_built(self, conditions: tuple[Q, ...], lookups: dict[str, Any]) -> RowT | None:
        rows = await self._get_query(conditions, lookups)
        if len(rows) > 1:
            raise several_found(self.model, lookups or conditions)
        return rows[0] if rows else None

    def _get_query(self, conditions: tuple[Q, ...], lookups: dict[str, Any]) -> Self:
        qs = self.filter(*conditions, **lookups) if conditions or lookups else self
        if qs is self or qs._chain is not None:
            qs = qs._clone()  # a query of its own, to change
        qs.query.limit_for_get()
        return qs

    def first(self) -> Coroutine[Any, Any, RowT | None]:
        """The first object in the QuerySet's order (by key when it has none), or None.
        On a chain of planned steps, the driver's awaitable (as ``get()``)."""
        if self._chain is not None and not self._sliced and self._prefetched is None:  # _extends_chain(): per call
            try:
                db, compiled, params = self._plan("first", (), _LIMIT_TO_FIRST)
            except Exception as error:
                return _raising(error)
            return cast("Coroutine[Any, Any, RowT | None]", compiled.fetch_first(db, params, None))
        return self._first_built()

    async def _first_built(self) -> RowT | None:
        if not self.ordered:
            self._check_grouped_by_key("first")
        qs = self._clone()  # one copy: what order_by("pk")[:1] does
        qs.query.limit_to_first()
        rows = await qs
        return rows[0] if rows else None

    async def last(self) -> RowT | None:
        """The last object in the QuerySet's order (by key when it has none), or None."""
        self._check_unsliced("reverse")
        qs = self._clone()
        if self.ordered:
            qs.query.reverse_ordering()
        else:
            self._check_grouped_by_key("last")
            qs.query.set_ordering(("-pk",))
        rows = await qs[:1]
        return rows[0] if rows else None

    def _check_grouped_by_key(self, method: str) -> None:
        """Django's refusal to order a ``values(...).annotate(<aggregate>)`` grouping by a key
        it does not group by (the groups have no key to go by)."""
        q, pk = self._built_query(), self.model._meta.pk
        if q.values is not None and q.group_by_values and not any(isinstance(e, Col) and e.field is pk for e in q.grouped_by or (e for _, e in q.values)):
            raise TypeError(f"Cannot use QuerySet.{method}() on an unordered queryset performing aggregation. Add an ordering with order_by().")

    async def latest(self, *fields: str) -> RowT | None:
        """The last object by ``fields`` (or ``Meta.get_latest_by``), or None when there is none
        (as ``get()``: see "Differences from Django" in docs/orm.md)."""
        return await self._edge(fields, "latest")

    async def earliest(self, *fields: str) -> RowT | None:
        """The first object by ``fields`` (or ``Meta.get_latest_by``), or None when there is none."""
        return await self._edge(fields, "earliest")

    async def _edge(self, fields: tuple[str, ...], method: str) -> RowT | None:
        self._check_unsliced(f"call {method}() on")
        fields = fields or self.model._meta.get_latest_by
        if not fields:
            raise ValueError(f"{method}() needs field names or Meta.get_latest_by on {self.model.__name__}")
        if method == "latest":
            fields = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in fields)
        return await self.order_by(*fields).first()

    async def contains(self, obj: ModelT) -> bool:
        """Whether ``obj`` (a saved instance) is among the rows: False for another model's, as Django."""
        if self._built_query().values is not None:
            raise TypeError("Cannot call QuerySet.contains() after .values() or .values_list().")
        meta = getattr(obj, "_meta", None)
        if meta is None:
            raise TypeError("'obj' must be a model instance.")
        if meta.model is not self.model:
            return False
        if obj.pk is None:
            raise ValueError("QuerySet.contains() cannot be used on unsaved objects.")
        if self._prefetched is not None:
            return any(o.pk == obj.pk for o in self._prefetched)
        return await self.filter(pk=obj.pk).exists()

    def dates(self, field: str, kind: str, order: str = "ASC") -> QuerySet[ModelT, datetime.date]:
        """The distinct dates of ``field`` truncated to ``kind`` (year, month, week, day); a
        datetime's date in the current time zone (:mod:`hyperdjango.timezone`), as Django's.
        A QuerySet of them, as Django's: ``await qs.dates("published", "year").reverse()``."""
        if kind not in ("year", "month", "week", "day"):
            raise ValueError(f"dates(kind={kind!r}): kind is 'year', 'month', 'week' or 'day'")
        return self._truncated(field, kind, order, "dates")

    def datetimes(self, field: str, kind: str, order: str = "ASC", tzinfo: datetime.tzinfo | None = None) -> QuerySet[ModelT, datetime.datetime]:
        """The distinct datetimes of ``field`` truncated to ``kind`` (year ... second) in ``tzinfo``
        (default: the current time zone), each read back as its instant in UTC; a QuerySet of them."""
        if kind not in ("year", "month", "week", "day", "hour", "minute", "second"):
            raise ValueError(f"datetimes(kind={kind!r}): kind is one of year, month, week, day, hour, minute, second")
        return self._truncated(field, kind, order, "datetimes", tzinfo or get_current_timezone())

    def _truncated(self, field: str, kind: str, order: str, method: str, tzinfo: datetime.tzinfo | None = None) -> QuerySet[ModelT, Any]:
        from .functions_datetime import Trunc

        if order not in ("ASC", "DESC"):
            raise ValueError(f"{method}(order={order!r}): 'ASC' or 'DESC'")
        datetimes = method == "datetimes"
        kinds = (DateTimeField,) if datetimes else (DateField, DateTimeField)
        # The field may be reached through relations (``dates("author__born", "year")``), as in Django.
        output = self._clone().query.resolve_ref(field, f"{method}({field!r})").output_field
        if not isinstance(output, kinds):
            # Django's Trunc: a TypeError for what is no date, time or datetime, a ValueError otherwise.
            error = ValueError if isinstance(output, (DateField, TimeField)) else TypeError
            raise error(f"{method}({field!r}): {field!r} is not a {'DateTimeField' if datetimes else 'date or datetime field'} of {self.model.__name__}")
        truncated = Trunc(field, kind, output_field=None if datetimes else DateField(), tzinfo=tzinfo)
        qs = self.annotate(__truncated=truncated).filter(**{f"{field}__isnull": False})
        return qs.values_list("__truncated", flat=True).distinct().order_by(("-" if order == "DESC" else "") + "__truncated")

    def count(self) -> Coroutine[Any, Any, int]:
        """The number of rows (``SELECT COUNT(*)``).
        On a recorded chain, the driver's awaitable (as ``get()``): the statement is sent when
        ``count()`` is called."""
        if self._chain is not None and self._prefetched is None:  # a recorded chain: planned
            try:
                db, compiled, params = self._plan("count", (), (), "count")
            except Exception as error:  # raised by await, as from the coroutine
                return _raising(error)
            return cast("Coroutine[Any, Any, int]", compiled.read.value(db, params))
        return self._count_built()

    async def _count_built(self) -> int:
        if self._empty:
            return 0
        if self._prefetched is not None:
            return len(self._prefetched)
        db, compiled, params = self._compiled("count")
        return await db.query_val(compiled.sql, *params)

    def exists(self) -> Coroutine[Any, Any, bool]:
        """Whether there is at least one row (``SELECT 1 ... LIMIT 1``).
        On a recorded chain, the driver's awaitable (as ``count()``)."""
        if self._chain is not None and self._prefetched is None:  # a recorded chain: planned
            try:
                db, compiled, params = self._plan("exists", (), (), "exists")
            except Exception as error:  # raised by await, as from the coroutine
                return _raising(error)
            return cast("Coroutine[Any, Any, bool]", compiled.read.exists(db, params))
        return self._exists_built()

    async def _exists_built(self) -> bool:
        if self._empty:
            return False
        if self._prefetched is not None:
            return bool(self._prefetched)
        db, compiled, params = self._compiled("exists")
        return await db.query_exists(compiled.sql, *params)

    async def aggregate(self, *aggregates: Aggregate, **named: Aggregate) -> dict[str, Any]:
        """One row of aggregates over the QuerySet: ``aggregate(total=Sum("amount"), n=Count("id"))``."""
        named = {**{_default_alias(a): a for a in aggregates}, **named}
        if not named:
            return {}
        if self._empty:
            return {name: getattr(a, "empty_value", None) if getattr(a, "default", None) is None else a.default for name, a in named.items()}
        for name, expr in named.items():
            if not isinstance(expr, Expression):
                _bad_expression(name, expr)
        if self._chain is not None and self._prefetched is None:
            # A recorded chain: planned under the aggregates' names and keys (what they are,
            # values included), so the same aggregate again costs one lookup, no tree.
            shape = tuple([(name, expr.key) for name, expr in named.items()])
            db, compiled, params = self._plan(("aggregate", shape), (), ((Query.add_aggregates, named),), "aggregate")
        else:
            qs = self._clone()
            qs.query.add_aggregates(named)
            db, compiled, params = qs._compiled("aggregate")
        assert compiled.reader is not None  # an aggregate query reads its one row into a dict
        return cast("dict[str, Any]", compiled.reader(await db.query(compiled.sql, *params)))

    async def update(self, **values: Any) -> int:
        """``UPDATE`` every matching row; values may be expressions (``stock=F("stock") - 1``).
        Returns the number of rows changed. Values are converted to the field types."""
        self._check_unsliced("update")
        if self._empty or not values:
            return 0
        qs = self._clone()
        q = qs.query
        meta = self.model._meta
        updates = []
        for name, value in values.items():
            relation = meta.relations.get(name)
            field = relation.field if isinstance(relation, ForwardRelation) else meta.field_map.get(name)
            if field is None:
                raise FieldError(f"update({name}=...): {self.model.__name__} has no such field; fields: {', '.join(meta.field_map)}")
            if isinstance(value, Expression):
                joins = len(q.joins)
                expr = value.resolve(q)
                if len(q.joins) != joins:
                    raise FieldError(f"update({name}=...): expressions may only use fields of {self.model.__name__} itself")
                if has_window(expr):  # SQL has no window functions in SET (Django's FieldError)
                    raise FieldError(f"Window expressions are not allowed in this query ({name}={value!r}).")
            else:
                if hasattr(value, "_meta"):
                    value = value.pk
                value = field.convert(value)
                from .exceptions import ValidationError

                messages = field.validate(value)
                if messages:
                    raise ValidationError({field.name: messages})
                expr = Param(q.add_param(value), type(value), field)
            updates.append((field, expr))
        q.updates = tuple(updates)
        db, compiled, params = qs._compiled("update")
        return await db.execute(compiled.sql, *params)

    async def delete(self) -> int:
        """Deletes the matching rows, and per each foreign key's ``on_delete`` the rows
        pointing at them (CASCADE deletes, SET_NULL clears, PROTECT/RESTRICT refuse with
        ProtectedError). Returns the number of rows deleted, cascades included."""
        self._check_unsliced("delete")
        if self._empty:
            return 0
        from .deletion import delete_rows

        return await delete_rows(self.model, self._clone(), self.db)

    async def _delete_plain(self) -> int:
        db, compiled, params = self._compiled("delete")
        return await db.execute(compiled.sql, *params)

    async def create(self, **values: Any) -> ModelT:
        """Builds, saves and returns an instance."""
        obj = self.model(**values)
        await obj.save(using=self._db)
        return obj

    async def bulk_create(self, objs: Iterable[ModelT], batch_size: int | None = None, ignore_conflicts: bool = False,
                          update_conflicts: bool = False, update_fields: Iterable[str] | None = None,
                          unique_fields: Iterable[str] | None = None) -> list[ModelT]:
        """INSERTs many instances with multi-row statements (``batch_size`` rows each, one
        transaction) and fills the keys of those without one from ``RETURNING``, as Django 5.2.
        ``ignore_conflicts`` skips rows a unique constraint refuses (their keys stay unset);
        ``update_conflicts`` with ``unique_fields`` and ``update_fields`` updates them instead
        (``ON CONFLICT (unique_fields) DO UPDATE``). On PostgreSQL, a thousand rows or more
        without conflict handling are loaded with binary COPY (``orm/bulk_copy.py``)."""
        return await bulk_create(self.model, self.db, self._db, objs, batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields)

    async def bulk_update(self, objs: Iterable[ModelT], fields: Iterable[str], batch_size: int | None = None) -> int:
        """UPDATEs ``fields`` of every instance, as Django 5.2: one ``UPDATE ... SET f = CASE
        WHEN pk = ... THEN ... END WHERE pk IN (...)`` per ``batch_size`` objects (all of them
        by default, within the database's parameter limit), several batches in one transaction.
        Values are converted and validated by their fields; an expression (``F("hits") + 1``)
        is written as such. Returns the rows matched (an object given twice in a batch counts
        once, and its first value is written). Raises Django's ``ValueError`` for no fields, an
        object without a key, a primary key or many-to-many field among ``fields``, or
        ``batch_size`` below 1, and ``FieldDoesNotExist`` for an unknown field."""
        return await bulk_update(self, objs, fields, batch_size)

    async def in_bulk(self, id_list: Iterable[Any] | None = None, field_name: str = "pk") -> dict[Any, ModelT]:
        """``{key: object}`` for the given keys (or every row)."""
        qs = self._models() if id_list is None else self._models().filter(**{f"{field_name}__in": list(id_list)})
        attr = self.model._meta.pk.name if field_name == "pk" else field_name
        return {getattr(obj, attr): obj for obj in await qs}

    async def get_or_create(self, defaults: dict[str, Any] | None = None, **lookups: Any) -> tuple[ModelT, bool]:
        """``(object, created)``: the matching object, or a new one from the lookups and ``defaults``.

        Race-safe: when a concurrent request inserts the same row first (an
        IntegrityError on a unique constraint), the row it made is returned.
        """
        models = self._models()
        obj = await models.get(**lookups)
        if obj is not None:
            return obj, False
        values = {k: v for k, v in lookups.items() if "__" not in k}
        values.update({k: (v() if callable(v) else v) for k, v in (defaults or {}).items()})
        try:
            async with atomic(self.db):  # a savepoint: the failed INSERT must not doom an outer transaction
                return await self.create(**values), True
        except IntegrityError:
            obj = await models.get(**lookups)
            if obj is None:
                raise
            return obj, False

    async def update_or_create(self, defaults: dict[str, Any] | None = None, **lookups: Any) -> tuple[ModelT, bool]:
        """``(object, created)``: updates the matching object with ``defaults``, or creates it.
        The row is locked while it is updated (PostgreSQL), and a concurrent create is retried."""
        defaults = {k: (v() if callable(v) else v) for k, v in (defaults or {}).items()}
        async with atomic(self.db):
            found = await self._models().select_for_update().get(**lookups)
            if found is None:
                obj, created = await self.get_or_create(defaults, **lookups)
                if created:
                    return obj, True
            else:
                obj = found
            for name, value in defaults.items():
                setattr(obj, name, value)
            if defaults:
                relations = self.model._meta.relations
                await obj.save(update_fields=[r.field.name if isinstance(r := relations.get(n), ForwardRelation) else n for n in defaults], using=self._db)
            return obj, False

    async def explain(self) -> str:
        """The database's plan for this QuerySet (``EXPLAIN`` / ``EXPLAIN QUERY PLAN``)."""
        db, compiled, params = self._compiled("select")
        ops = operations_for(db.vendor)
        rows = await db.query(f"{ops.explain_prefix} {compiled.sql}", *params)
        return "\n".join(str(row[len(row) - 1]) for row in rows)

    # -- Django's async names: the same coroutines, so that code from Django's async
    # documentation runs unchanged (the spec's names stay the primary ones) --------------

    async def aget(self, *conditions: Q, **lookups: Any) -> RowT | None:
        """Django's async name for ``get()``; like it, None when nothing matches."""
        return await self.get(*conditions, **lookups)

    async def afirst(self) -> RowT | None:
        """Django's async name for ``first()``."""
        return await self.first()

    async def alast(self) -> RowT | None:
        """Django's async name for ``last()``."""
        return await self.last()

    async def alatest(self, *fields: str) -> RowT | None:
        """Django's async name for ``latest()``."""
        return await self.latest(*fields)

    async def aearliest(self, *fields: str) -> RowT | None:
        """Django's async name for ``earliest()``."""
        return await self.earliest(*fields)

    async def acontains(self, obj: ModelT) -> bool:
        """Django's async name for ``contains()``."""
        return await self.contains(obj)

    async def acount(self) -> int:
        """Django's async name for ``count()``."""
        return await self.count()

    async def aexists(self) -> bool:
        """Django's async name for ``exists()``."""
        return await self.exists()

    async def aaggregate(self, *aggregates: Aggregate, **named: Aggregate) -> dict[str, Any]:
        """Django's async name for ``aggregate()``."""
        return await self.aggregate(*aggregates, **named)

    async def aupdate(self, **values: Any) -> int:
        """Django's async name for ``update()``."""
        return await self.update(**values)

    async def adelete(self) -> int:
        """Django's async name for ``delete()``."""
        return await self.delete()

    async def acreate(self, **values: Any) -> ModelT:
        """Django's async name for ``create()``."""
        return await self.create(**values)

    async def abulk_create(self, objs: Iterable[ModelT], batch_size: int | None = None, ignore_conflicts: bool = False,
                           update_conflicts: bool = False, update_fields: Iterable[str] | None = None,
                           unique_fields: Iterable[str] | None = None) -> list[ModelT]:
        """Django's async name for ``bulk_create()``."""
        return await self.bulk_create(objs, batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields)

    async def abulk_update(self, objs: Iterable[ModelT], fields: Iterable[str], batch_size: int | None = None) -> int:
        """Django's async name for ``bulk_update()``."""
        return await self.bulk_update(objs, fields, batch_size)

    async def ain_bulk(self, id_list: Iterable[Any] | None = None, field_name: str = "pk") -> dict[Any, ModelT]:
        """Django's async name for ``in_bulk()``."""
        return await self.in_bulk(id_list, field_name)

    async def aget_or_create(self, defaults: dict[str, Any] | None = None, **lookups: Any) -> tuple[ModelT, bool]:
        """Django's async name for ``get_or_create()``."""
        return await self.get_or_create(defaults, **lookups)

    async def aupdate_or_create(self, defaults: dict[str, Any] | None = None, **lookups: Any) -> tuple[ModelT, bool]:
        """Django's async name for ``update_or_create()``."""
        return await self.update_or_create(defaults, **lookups)

    async def aexplain(self) -> str:
        """Django's async name for ``explain()``."""
        return await self.explain()

    def sql(self) -> tuple[str, list[Any]]:
        """``(sql, params)`` this QuerySet runs on its database (nothing is sent)."""
        db, compiled, params = self._compiled("select")
        return compiled.sql, params

    def __str__(self) -> str:
        return repr(self)


class RawQuerySet(Generic[ModelT]):
    """``Model.objects.raw(sql, *params)``: instances from SQL you wrote ($1, $2 ... placeholders).

    Columns are matched to fields by column name; other columns become attributes.
    """

    def __init__(self, model: type[ModelT], sql: str, params: tuple[Any, ...], db: Any = None) -> None:
        self.model, self.raw_sql, self.params, self._db = model, sql, params, db

    def using(self, database: Any) -> RawQuerySet[ModelT]:
        """Runs on ``database`` instead of the model's."""
        return RawQuerySet(self.model, self.raw_sql, self.params, database)

    async def _fetch(self) -> list[ModelT]:
        db = self._db if self._db is not None else self.model._meta.database
        ops = operations_for(db.vendor)
        by_column = {f.column: f for f in self.model._meta.fields}
        out = []
        for row in await db.query(self.raw_sql, *self.params):
            obj = object.__new__(self.model)
            d = obj.__dict__
            for column, value in row.items():
                field = by_column.get(column)
                convert = ops.field_converter(field) if field is not None else None
                d[field.name if field is not None else column] = convert(value) if convert else value
            d["_persisted"] = True
            out.append(obj)
        return out

    def __await__(self) -> Generator[Any, None, list[ModelT]]:
        return self._fetch().__await__()

    async def __aiter__(self) -> AsyncIterator[ModelT]:
        for obj in await self._fetch():
            yield obj


async def _raising(error: Exception) -> Any:
    """A coroutine that raises ``error``: what a method that is not ``async def`` returns for
    an error an ``async def`` one would raise at ``await``."""
    raise error


#: The last steps of a planned get() and first(), made once.
_LIMIT_FOR_GET = (Query.limit_for_get,)
_LIMIT_TO_FIRST = ((Query.limit_to_first,),)


def _replayed(model: Any, steps: tuple[tuple[Any, ...], ...]) -> Query:
    """The query tree a recorded chain describes: its steps applied to a copy of the
    model's prototype query (the prototype itself for no step: no query is changed in place
    but a copy made to be)."""
    if not steps:
        return Query.for_model(model)
    query = Query.for_model(model).clone()
    for apply, *arguments in steps:
        apply(query, *arguments)
    return query


def _binds_exactly(built: tuple[Any, ...], recorded: tuple[Any, ...]) -> bool:
    """Whether a query built from a chain's steps binds the values the chain recorded (the
    same types, equal): only then may later calls bind their recorded values to its SQL."""
    if len(built) != len(recorded) or any(type(a) is not type(b) for a, b in zip(built, recorded)):
        return False
    try:
        return built == recorded
    except ArithmeticError:  # a signalling decimal NaN refuses comparison: not kept
        return False


def _values_of_parts(q: Query) -> None:
    """``union(...).values(...)``: each part of the combination selects the same columns."""
    if q.combined is None:
        return
    from .sql.query import Embedded

    operator, own, others = q.combined
    names = [name for name, _ in q.values or ()]
    if any(name in q.annotations for name in names):
        raise NotSupportedError("values() after union()/intersection()/difference() takes field names; annotate the parts instead")

    def narrowed(part: Query) -> Query:
        part = part.clone()
        part.values = tuple((name, part.resolve_ref(name, f"values({name!r})")) for name in names)
        _values_of_parts(part)  # a union of unions
        return part

    parts = tuple(Embedded(narrowed(e.inner), e.base, e.outer_cols, e.exists) for e in others)
    q.combined = (operator, narrowed(own), parts)


def _default_alias(aggregate: Any) -> str:
    if not isinstance(aggregate, Aggregate):
        raise TypeError(f"positional arguments must be aggregates (Sum, Count, ...), not {aggregate!r}; name it instead")
    source = aggregate.source[0] if aggregate.source else None
    name = getattr(source, "name", None) if not getattr(aggregate, "star", False) else None
    return f"{name or 'all'}__{type(aggregate).__name__.lower()}"


def _bad_expression(name: str, value: Any) -> Any:
    raise TypeError(f"{name}={value!r}: expected an expression (F, Value, Count, ...); wrap plain values in Value()")
