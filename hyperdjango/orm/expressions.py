"""Expressions: what a QuerySet computes in SQL instead of Python.

>>> from hyperdjango.expressions import F, Q, Sum, Count, Value
>>> F("stock") - 1
F('stock') - Value(1)
>>> Q(active=True) & ~Q(stock=0)
<Q AND: ('active', True), <Q NOT AND: ('stock', 0)>>

An expression is resolved against a query (``resolve``), which binds field names
to table aliases and values to parameter numbers, and returns a resolved copy
that the compiler turns into SQL (``as_sql``). Every resolved node has a
``key``: its structure without values (derived from all its attributes), from
which compiled SQL is cached.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from .fields import (
    FIELD_TYPES,
    BooleanField,
    DecimalField,
    Field,
    FloatField,
    IntegerField,
)

if TYPE_CHECKING:
    from .sql.compiler import SQLCompiler
    from .sql.query import Embedded, Query


#: A function name written into SQL (``Func(function=...)``): never anything else.
SQL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")

#: Values that describe themselves in a cache key.
ATOMS = frozenset({int, str, bool, float, bytes, type(None), type, frozenset})


def identity(value: Any) -> Any:
    """A hashable description of ``value`` for the compiled-SQL cache key: expressions by
    their ``key``, containers item by item, fields by what they are."""
    kind = type(value)
    if kind in ATOMS:
        return value
    if kind is tuple or kind is list:
        return tuple([v.key if isinstance(v, Expression) else identity(v) for v in value]) if value else ()
    if isinstance(value, Expression):
        return value.key
    if kind is dict:
        return tuple([(k, identity(v)) for k, v in value.items()])
    if isinstance(value, Field):
        if value.model is not None:
            return value  # a model's field: itself (lives as long as the model)
        # A free field (output_field=DecimalField(...)): its type and options.
        return (kind, tuple([(k, v if type(v) in ATOMS else repr(v)) for k, v in value.options.items()]))
    if isinstance(value, type):
        return value
    identify = getattr(value, "__identity__", None)
    return identify() if identify is not None else value


class Expression:
    """Base of every SQL expression; ``+ - * /`` combine them (plain values become ``Value``).

    ``key`` is structural, as Django's ``BaseExpression.identity``: the type and every
    attribute of the resolved node (``identity_skip`` names those that only repeat what
    others say). A new attribute is part of the key without anyone remembering to add
    it, so two nodes with the same key always compile to the same SQL and read the same way.
    """

    # Attributes with a class-level default (like this one) are left out of the instance, and
    # so out of ``key``, until set: nodes are built for every QuerySet, keys computed for each.
    contains_aggregate = False
    #: Whether it is a condition (combines with Q objects by & and |).
    conditional = False
    output_field: Field | None = None
    identity_skip: frozenset[str] = frozenset()

    @property
    def key(self) -> Any:
        d = self.__dict__
        key = d.get("_key")
        if key is None:
            skip = self.identity_skip
            # Atoms and nested expressions inline: identity() for the rest (containers, fields).
            key = (type(self), *[(n, v if type(v) in ATOMS else v.key if isinstance(v, Expression) else identity(v) if v else ())
                                 for n, v in d.items() if n not in skip])
            d["_key"] = key  # resolved nodes are not changed once compiled
        return key

    def resolve(self, query: Query) -> Expression:
        """A copy bound to ``query``'s tables and parameters."""
        raise NotImplementedError

    def as_sql(self, c: SQLCompiler) -> str:
        raise NotImplementedError

    def _copy(self) -> Any:
        # copy.copy goes through __reduce_ex__: several times slower, and resolve()
        # copies a node for every expression of every QuerySet built.
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.pop("_key", None)
        return new

    def walk(self):
        """This node and every node below it."""
        yield self
        for child in self.children():
            yield from child.walk()

    def children(self) -> tuple[Expression, ...]:
        return ()

    def _combine(self, op: str, other: Any, reverse: bool = False) -> Combined:
        other = other if isinstance(other, Expression) else Value(other)
        return Combined(other, op, self) if reverse else Combined(self, op, other)

    def __add__(self, other: Any) -> Combined:
        return self._combine("+", other)

    def __sub__(self, other: Any) -> Combined:
        return self._combine("-", other)

    def __mul__(self, other: Any) -> Combined:
        return self._combine("*", other)

    def __truediv__(self, other: Any) -> Combined:
        return self._combine("/", other)

    def __mod__(self, other: Any) -> Combined:
        return self._combine("%", other)

    def __pow__(self, other: Any) -> Combined:
        """``F("x") ** 2``: Django's power operator (``^``), integers staying integers."""
        return self._combine("^", other)

    def __neg__(self) -> Combined:
        """``-F("pages")``: the expression times -1, as Django writes it."""
        return self._combine("*", -1)

    def __radd__(self, other: Any) -> Combined:
        return self._combine("+", other, True)

    def __rsub__(self, other: Any) -> Combined:
        return self._combine("-", other, True)

    def __rmul__(self, other: Any) -> Combined:
        return self._combine("*", other, True)

    def __rtruediv__(self, other: Any) -> Combined:
        return self._combine("/", other, True)

    def __rmod__(self, other: Any) -> Combined:
        return self._combine("%", other, True)

    def __rpow__(self, other: Any) -> Combined:
        return self._combine("^", other, True)

    def asc(self, *, nulls_first: bool | None = None, nulls_last: bool | None = None) -> OrderBy:
        """Ascending; ``nulls_first=True``/``nulls_last=True`` place NULLs (else the database does)."""
        return OrderBy(self, descending=False, nulls_first=nulls_first, nulls_last=nulls_last)

    def desc(self, *, nulls_first: bool | None = None, nulls_last: bool | None = None) -> OrderBy:
        """Descending; ``nulls_first=True``/``nulls_last=True`` place NULLs (else the database does)."""
        return OrderBy(self, descending=True, nulls_first=nulls_first, nulls_last=nulls_last)

    def __and__(self, other: Any) -> Q:
        """``Exists(...) & Q(...)``: conditions combine like Q objects."""
        return self._as_q() & other

    def __or__(self, other: Any) -> Q:
        return self._as_q() | other

    def _as_q(self) -> Q:
        if not self.conditional:
            raise TypeError(f"{type(self).__name__} is not a condition: only Q, Exists and boolean expressions combine with & and |")
        return Q(self)


class F(Expression):
    """A column of the row, by field name (``F("stock")``, ``F("category__name")``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"F({self.name!r})"

    def resolve(self, query: Query) -> Expression:
        return query.resolve_ref(self.name)


#: What an ``OuterRef`` names: a field of the query around the subquery, or
#: ``("outer", <name>)`` for a name of the query around that one.
OuterName: TypeAlias = "str | tuple[Any, ...]"


class OuterRef(F):
    """In a ``Subquery``/``Exists``, a column of the query that contains it;
    ``OuterRef(OuterRef("pk"))`` names the query two levels out."""

    def __repr__(self) -> str:
        return f"OuterRef({self.name!r})"

    def resolve(self, query: Query) -> Expression:
        return query.outer_ref(self.reference())

    def reference(self) -> OuterName:
        """The name in the query it refers to: a field name, or ``("outer", <reference>)``
        for a name of the query around that one."""
        return self.name if isinstance(self.name, str) else ("outer", self.name.reference())


class Col(Expression):
    """A resolved column: table alias + field."""

    def __init__(self, alias: int, field: Field) -> None:
        self.alias = alias
        self.field = self.output_field = field

    def resolve(self, query: Query) -> Expression:
        return self

    def as_sql(self, c: SQLCompiler) -> str:
        return f"{c.alias(self.alias)}.{c.quote(self.field.column)}"

    def __repr__(self) -> str:
        return f"Col({self.alias}.{self.field.column})"


class OuterCol(Expression):
    """A column of the enclosing query, named by ``OuterRef``; bound when the subquery is embedded."""

    def __init__(self, name: OuterName) -> None:
        self.name = name

    def as_sql(self, c: SQLCompiler) -> str:
        return c.outer_col(self.name)


def _infer_field(value: Any) -> Field | None:
    cls = FIELD_TYPES.get(type(value))
    return cls() if cls is not None else None


class Value(Expression):
    """A literal value, always sent as a bound parameter (never spliced into SQL)."""

    def __init__(self, value: Any, output_field: Field | None = None) -> None:
        self.value = value
        self.output_field = output_field or _infer_field(value)

    def __repr__(self) -> str:
        return f"Value({self.value!r})"

    def resolve(self, query: Query) -> Expression:
        return Param(query.add_param(self.value), type(self.value), self.output_field, cast=True)


class Param(Expression):
    """A resolved value: parameter number ``idx`` of its query."""

    # Defaults at class level: the key walks only what an instance sets (one per value of every query).
    cast = False
    adapt: Any = None

    def __init__(self, idx: int, python_type: type, output_field: Field | None = None, cast: bool = False, adapt: Any = None) -> None:
        self.idx = idx
        self.python_type = python_type
        self.output_field = output_field
        if cast:
            self.cast = cast
        if adapt is not None:
            self.adapt = adapt

    def as_sql(self, c: SQLCompiler) -> str:
        sql = c.param(self.idx, self.adapt)
        # PostgreSQL infers a bare $n in a select list or arithmetic as text or
        # from the other operand; a literal value states its own type.
        return c.ops.cast_param(sql, self.python_type) if self.cast else sql


class Combined(Expression):
    """``lhs op rhs``, from ``F("price") * 2`` and friends."""

    identity_skip = frozenset({"_output"})  # the type, found from lhs and rhs when first asked

    def __init__(self, lhs: Expression, op: str, rhs: Expression) -> None:
        self.lhs, self.op, self.rhs = lhs, op, rhs

    def __repr__(self) -> str:
        return f"{self.lhs!r} {self.op} {self.rhs!r}"

    def children(self) -> tuple[Expression, ...]:
        return (self.lhs, self.rhs)

    def resolve(self, query: Query) -> Expression:
        from .functions_datetime import temporal_arithmetic

        new = self._copy()
        new.__dict__.pop("_output", None)
        new.lhs, new.rhs = self.lhs.resolve(query), self.rhs.resolve(query)
        temporal = temporal_arithmetic(self.op, new.lhs, new.rhs)
        if temporal is not None:  # dates minus dates, datetimes plus durations: the backend's arithmetic
            return temporal
        new.contains_aggregate = new.lhs.contains_aggregate or new.rhs.contains_aggregate
        return new

    @property
    def output_field(self) -> Field | None:
        """The type of ``lhs op rhs`` (see combined_output), found when something asks: as in
        Django, one that cannot be inferred is an error only then, so that
        ``ExpressionWrapper(F("price") ** 2, output_field=...)`` gives it instead."""
        d = self.__dict__
        if "output_field" in d:  # given
            return d["output_field"]
        if "_output" not in d:
            d["_output"] = combined_output(self.op, self.lhs.output_field, self.rhs.output_field)
        return d["_output"]

    @output_field.setter
    def output_field(self, field: Field | None) -> None:
        self.__dict__["output_field"] = field

    def as_sql(self, c: SQLCompiler) -> str:
        lhs, rhs = self.lhs.as_sql(c), self.rhs.as_sql(c)
        if self.op == "^":
            return c.ops.power(lhs, rhs)
        return f"({lhs} {self.op} {rhs})"


#: The numeric types in Django's order of precedence for arithmetic (see combined_output).
NUMERIC = (IntegerField, DecimalField, FloatField)


def combined_output(op: str, lhs: Field | None, rhs: Field | None) -> Field | None:
    """The type of ``lhs op rhs`` by Django's rules: the same numeric type on both sides
    gives that type, an integer with a decimal gives a decimal, an integer with a float a
    float; a decimal with a float must be given an ``output_field``. A decimal result has
    no scale of its own: ``F("price") / 3`` keeps the quotient's full precision."""
    if lhs is None or rhs is None:
        return lhs or rhs
    kinds = {next((k for k in NUMERIC if isinstance(f, k)), None) for f in (lhs, rhs)}
    if None in kinds:  # dates, text...: the left side's type, as before
        return lhs
    if op == "^" and len(kinds) > 1:
        from .exceptions import FieldError

        raise FieldError(f"cannot infer the type of '^' (**) between a {type(lhs).__name__} and a {type(rhs).__name__}: "
                         "give output_field= (ExpressionWrapper), as Django requires")
    if kinds == {DecimalField, FloatField}:
        from .exceptions import FieldError

        raise FieldError(f"cannot infer the type of {op!r} between a DecimalField and a FloatField: give output_field=")
    kind = DecimalField if DecimalField in kinds else FloatField if FloatField in kinds else IntegerField
    if kind is IntegerField and isinstance(lhs, IntegerField):
        return lhs
    return kind()


class Func(Expression):
    """``FUNCTION(arg, ...)``; subclasses name the function."""

    function = ""

    def __init__(self, *expressions: Any, output_field: Field | None = None, function: str | None = None) -> None:
        self.source = [e if isinstance(e, Expression) else (F(e) if isinstance(e, str) else Value(e)) for e in expressions]
        self._output = output_field
        if function is not None:  # Func(F("rating"), function="SUM"), as Django's
            if not SQL_NAME.fullmatch(function):
                raise ValueError(f"Func(function={function!r}): a function name is letters, digits, '_' and '.'")
            self.function = function

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.source))})"

    def children(self) -> tuple[Expression, ...]:
        return tuple(self.source)

    def resolve(self, query: Query) -> Expression:
        return self.resolved([e.resolve(query) for e in self.source])

    def resolved(self, source: list[Expression]) -> Expression:
        """A copy over ``source``, already resolved (also how a transform applies to a column in a filter)."""
        new = self._copy()
        new.source = source
        new.output_field = self._output or self.infer_output(source)
        new.contains_aggregate = any(e.contains_aggregate for e in source)
        return new

    def infer_output(self, source: list[Expression]) -> Field | None:
        return next((e.output_field for e in source if e.output_field is not None), None)

    def as_sql(self, c: SQLCompiler) -> str:
        return f"{self.function}({', '.join(e.as_sql(c) for e in self.source)})"


class Coalesce(Func):
    """The first argument that is not NULL: ``Coalesce("nickname", "name")``."""

    function = "COALESCE"

    def __init__(self, *expressions: Any, output_field: Field | None = None) -> None:
        if len(expressions) < 2:
            raise ValueError("Coalesce needs at least two expressions")
        super().__init__(*expressions, output_field=output_field)


class Aggregate(Func):
    """An aggregate over the rows of a group: ``Sum("amount")``, ``Count("id", distinct=True)``."""

    contains_aggregate = True

    #: What the aggregate of no rows is, when not NULL (Count: 0); such aggregates take no default.
    empty_value: Any = None

    def __init__(self, expression: Any, distinct: bool = False, output_field: Field | None = None, *, filter: Q | None = None, default: Any = None) -> None:
        super().__init__(expression, output_field=output_field)
        self.distinct = distinct
        if default is not None and self.empty_value is not None:
            raise TypeError(f"{type(self).__name__} does not allow default")
        self.filter: Any = filter  # a Q, its resolved condition once resolved; only the rows matching it: ``Count("books", filter=Q(books__pages__gt=300))``
        self.default = default  # instead of NULL when there are no rows: ``Sum("amount", default=0)``

    def resolve(self, query: Query) -> Expression:
        if self.default is not None:
            # As Django: COALESCE(aggregate, default), typed as the aggregate.
            inner = self._copy()
            inner.default = None
            return Coalesce(inner, self.default).resolve(query)
        new = cast(Aggregate, super().resolve(query))
        if any(e.contains_aggregate for e in new.source):
            from .exceptions import FieldError

            raise FieldError(f"{type(self).__name__} cannot contain an aggregate")
        if self.filter is not None:
            new.filter = query.build_condition(self.filter if isinstance(self.filter, Q) else Q(self.filter), split=False)
        new.contains_aggregate = True
        return new

    def filter_sql(self, c: SQLCompiler) -> str:
        return f" FILTER (WHERE {self.filter.as_sql(c)})" if self.filter is not None else ""

    def as_sql(self, c: SQLCompiler) -> str:
        return f"{self.function}({'DISTINCT ' if self.distinct else ''}{self.source[0].as_sql(c)}){self.filter_sql(c)}"


class Sum(Aggregate):
    """The sum of an expression over the rows (``filter=``, ``default=`` as Django's)."""

    function = "SUM"


class Min(Aggregate):
    """The smallest value of an expression over the rows (``filter=``, ``default=`` as Django's)."""

    function = "MIN"


class Max(Aggregate):
    """The largest value of an expression over the rows (``filter=``, ``default=`` as Django's)."""

    function = "MAX"


class Avg(Aggregate):
    """The mean: a Decimal for decimal fields, a float otherwise."""

    function = "AVG"

    def infer_output(self, source: list[Expression]) -> Field:
        return DecimalField() if isinstance(source[0].output_field, DecimalField) else FloatField()


class Count(Aggregate):
    """The number of rows (``Count("*")``) or of non-NULL values; ``distinct=True`` counts each once."""

    function = "COUNT"

    empty_value = 0

    def __init__(self, expression: Any = "*", distinct: bool = False, *, filter: Q | None = None, default: Any = None) -> None:
        self.star = expression == "*"
        if self.star and filter is not None:
            raise ValueError("Count('*', filter=...): name a field to count (as Django asks)")
        super().__init__(Value(None) if self.star else expression, distinct=distinct, filter=filter, default=default)

    def resolve(self, query: Query) -> Expression:
        if self.star:
            new = self._copy()
            new.source, new.output_field = [], IntegerField()
            return new
        new = super().resolve(query)
        new.output_field = IntegerField()
        return new

    def as_sql(self, c: SQLCompiler) -> str:
        return "COUNT(*)" if self.star else super().as_sql(c)


class Q:
    """Conditions combined with ``&``, ``|`` and ``~``: ``Q(stock=0) | Q(active=False)``."""

    AND, OR, XOR = "AND", "OR", "XOR"

    def __init__(self, *args: Q | Expression, _connector: str = "AND", _negated: bool = False, **kwargs: Any) -> None:
        self.children: list[Any] = [*args, *sorted(kwargs.items())]
        self.connector = _connector
        self.negated = _negated

    def _parts(self, connector: str) -> list[Any]:
        # (a & b) & c is kept flat as AND(a, b, c): same SQL, shorter shape and repr.
        if not self.negated and (self.connector == connector or len(self.children) == 1):
            return list(self.children)
        return [self]

    def _combine(self, other: Q, connector: str) -> Q:
        if isinstance(other, Expression) and other.conditional:
            other = Q(other)  # Q(...) & Exists(...)
        if not isinstance(other, Q):
            raise TypeError(f"cannot combine Q with {type(other).__name__}")
        combined = Q(_connector=connector)
        combined.children = self._parts(connector) + other._parts(connector)
        return combined

    def __and__(self, other: Q) -> Q:
        return self._combine(other, self.AND)

    def __or__(self, other: Q) -> Q:
        return self._combine(other, self.OR)

    def __xor__(self, other: Q) -> Q:
        """True when an odd number of the conditions are (Django 4.1+)."""
        return self._combine(other, self.XOR)

    def __invert__(self) -> Q:
        inverted = Q(_connector=self.connector, _negated=not self.negated)
        inverted.children = list(self.children)
        return inverted

    def __repr__(self) -> str:
        inner = ", ".join(map(repr, self.children))
        return f"<Q {'NOT ' if self.negated else ''}{self.connector}: {inner}>"


class When(Expression):
    """One branch of a ``Case``: ``When(stock=0, then=Value("sold out"))`` (or a Q)."""

    def __init__(self, condition: Q | None = None, then: Any = None, **lookups: Any) -> None:
        if condition is None and not lookups:
            raise TypeError("When needs a condition: a Q or lookups")
        self.condition: Any = Q(condition, **lookups) if condition is not None else Q(**lookups)  # resolved: a condition node
        self.then = then if isinstance(then, Expression) else Value(then)

    def resolve(self, query: Query) -> Expression:
        new = self._copy()
        new.condition = query.build_condition(self.condition, split=False)
        new.then = self.then.resolve(query)
        new.output_field = new.then.output_field
        return new

    def children(self) -> tuple[Expression, ...]:
        return (self.then,)

    def as_sql(self, c: SQLCompiler) -> str:
        return f"WHEN {self.condition.as_sql(c)} THEN {self.then.as_sql(c)}"


class Case(Expression):
    """``CASE WHEN ... THEN ... ELSE default END``."""

    def __init__(self, *whens: When, default: Any = None, output_field: Field | None = None) -> None:
        if not whens or not all(isinstance(w, When) for w in whens):
            raise TypeError("Case takes one or more When(...)")
        self.whens = list(whens)
        self.default = default if isinstance(default, Expression) else Value(default)
        self._output = output_field

    def children(self) -> tuple[Expression, ...]:
        return (*self.whens, self.default)

    def resolve(self, query: Query) -> Expression:
        new = self._copy()
        new.whens = [w.resolve(query) for w in self.whens]
        new.default = self.default.resolve(query)
        new.output_field = self._output or next((w.output_field for w in new.whens if w.output_field), new.default.output_field)
        return new

    def as_sql(self, c: SQLCompiler) -> str:
        return f"CASE {' '.join(w.as_sql(c) for w in self.whens)} ELSE {self.default.as_sql(c)} END"


class Subquery(Expression):
    """A QuerySet used as a value: ``Subquery(Order.objects.filter(user_id=OuterRef("pk")).values("total")[:1])``."""

    identity_skip = frozenset({"queryset"})  # the resolved node's ``embedded`` holds its query
    embedded: Embedded  # set by resolve()

    def __init__(self, queryset: Any, output_field: Field | None = None) -> None:
        self.queryset = queryset
        self._output = output_field

    def resolve(self, query: Query) -> Expression:
        inner = self.queryset.query
        if inner.values is not None and len(inner.values) > 1:
            from .exceptions import FieldError

            raise FieldError(f"Subquery selects {len(inner.values)} columns ({', '.join(n for n, _ in inner.values)}): "
                             "a value is one column, name it with values('field')")
        new = self._copy()
        new.embedded = query.embed(inner)
        new.output_field = self._output or inner.single_output_field()
        return new

    def as_sql(self, c: SQLCompiler) -> str:
        return f"({self.embedded.as_sql(c)})"


class Exists(Subquery):
    """True when the QuerySet has a row: ``filter(Exists(Order.objects.filter(user_id=OuterRef("pk"))))``."""

    conditional = True

    def __init__(self, queryset: Any) -> None:
        super().__init__(queryset, output_field=BooleanField())

    def resolve(self, query: Query) -> Expression:
        new = self._copy()
        new.embedded = query.embed(self.queryset.query, exists=True)
        new.output_field = BooleanField()
        return new

    def __invert__(self) -> Q:
        """``~Exists(qs)``: NOT EXISTS, usable in ``filter()`` like a ``Q``."""
        return ~Q(self)

    def as_sql(self, c: SQLCompiler) -> str:
        return f"EXISTS ({self.embedded.as_sql(c)})"


class OrderBy(Expression):
    """An ordering term: ``F("price").desc(nulls_last=True)``."""

    def __init__(self, expression: Expression, descending: bool = False, nulls_first: bool | None = None, nulls_last: bool | None = None) -> None:
        if nulls_first and nulls_last:
            raise ValueError("nulls_first and nulls_last are mutually exclusive")
        if nulls_first is False or nulls_last is False:
            raise ValueError("nulls_first and nulls_last take True or None (as in Django)")
        self.expression = expression
        self.descending = descending
        self.nulls = "FIRST" if nulls_first else "LAST" if nulls_last else None

    def resolve(self, query: Query) -> OrderBy:
        new = self._copy()
        new.expression = self.expression.resolve(query)
        return new

    def flipped(self) -> OrderBy:
        """The same term in the other direction (``reverse()``): NULLs placed explicitly move too."""
        new = self._copy()
        new.descending = not self.descending
        new.nulls = {"FIRST": "LAST", "LAST": "FIRST"}.get(self.nulls) if self.nulls else None
        return new

    def as_sql(self, c: SQLCompiler) -> str:
        return self.with_sql(self.expression.as_sql(c))

    def with_sql(self, sql: str) -> str:
        """This ordering of ``sql`` (the expression's SQL, or its position in the SELECT)."""
        sql = f"{sql}{' DESC' if self.descending else ' ASC'}"
        return f"{sql} NULLS {self.nulls}" if self.nulls else sql


#: Python types Value() can cast on PostgreSQL (see the backends' cast_param).
CASTABLE = (bool, int, float, decimal.Decimal, str, datetime.datetime, datetime.date, datetime.time, uuid.UUID, bytes)

__all__ = [
    "Avg",
    "Case",
    "Coalesce",
    "Count",
    "Exists",
    "Expression",
    "F",
    "Func",
    "Max",
    "Min",
    "OrderBy",
    "OuterRef",
    "Q",
    "Subquery",
    "Sum",
    "Value",
    "When",
]
