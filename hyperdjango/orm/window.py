"""Window functions: a value computed over a row's partition, without grouping the rows.

>>> from hyperdjango.expressions import Window, Rank, Sum, RowRange
>>> Window(Rank(), partition_by="author", order_by="-price").partition_by
[F('author')]
>>> Window(Sum("pages"), order_by="published", frame=RowRange(start=-1, end=0)).frame
RowRange(start=-1, end=0)

As Django's (``django.db.models.Window`` and ``django.db.models.functions.window``):
``Window(expression, partition_by=, order_by=, frame=)`` over a window function or an
aggregate, with the same output types. A filter on a window annotation cannot go in the
WHERE clause (windows are computed after it): the compiler wraps the query in a subquery
and filters its rows outside (``split_qualify`` decides which conditions go where, by
Django's rules).
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from .expressions import Aggregate, Expression, F, Func, OrderBy
from .fields import Field, FloatField, IntegerField
from .functions import integer_argument

if TYPE_CHECKING:
    from .sql.compiler import SQLCompiler
    from .sql.query import Query


class WindowFunction(Func):
    """A function that only exists over a window (``RANK() OVER (...)``): use it in ``Window``."""


class RowNumber(WindowFunction):
    """The row's number in its partition, from 1 (an integer)."""

    function = "ROW_NUMBER"

    def infer_output(self, source: list[Expression]) -> Field:
        return IntegerField()


class Rank(RowNumber):
    """The row's rank in its partition, with gaps after ties (1, 1, 3)."""

    function = "RANK"


class DenseRank(RowNumber):
    """The row's rank in its partition, without gaps after ties (1, 1, 2)."""

    function = "DENSE_RANK"


class Ntile(RowNumber):
    """Which of ``num_buckets`` equal buckets of its partition the row falls in, from 1."""

    function = "NTILE"

    def __init__(self, num_buckets: int = 1) -> None:
        if num_buckets <= 0:
            raise ValueError("num_buckets must be greater than 0.")
        super().__init__(num_buckets)

    def as_sql(self, c: SQLCompiler) -> str:
        return f"NTILE({integer_argument(c, self.source[0])})"


class CumeDist(WindowFunction):
    """The fraction of the partition's rows ordered before or with this row (a float)."""

    function = "CUME_DIST"

    def infer_output(self, source: list[Expression]) -> Field:
        return FloatField()


class PercentRank(CumeDist):
    """``(rank - 1) / (rows in the partition - 1)`` (a float; 0 for a partition of one row)."""

    function = "PERCENT_RANK"


class FirstValue(WindowFunction):
    """The expression's value on the first row of the frame."""

    function = "FIRST_VALUE"

    def __init__(self, expression: Any) -> None:
        super().__init__(expression)


class LastValue(FirstValue):
    """The expression's value on the last row of the frame (the current row's peers with
    the default frame: give ``frame=`` for the partition's last row)."""

    function = "LAST_VALUE"


class NthValue(WindowFunction):
    """The expression's value on the ``nth`` row of the frame (from 1), NULL when there is none."""

    function = "NTH_VALUE"

    def __init__(self, expression: Any, nth: int = 1) -> None:
        if expression is None:
            raise ValueError(f"{type(self).__name__} requires a non-null source expression.")
        if nth is None or nth <= 0:
            raise ValueError(f"{type(self).__name__} requires a positive integer as for nth.")
        super().__init__(expression, nth)

    def as_sql(self, c: SQLCompiler) -> str:
        return f"{self.function}({self.source[0].as_sql(c)}, {integer_argument(c, self.source[1])})"


class Lag(WindowFunction):
    """The expression's value ``offset`` rows before this one in the partition, else ``default``."""

    function = "LAG"

    def __init__(self, expression: Any, offset: int = 1, default: Any = None) -> None:
        if expression is None:
            raise ValueError(f"{type(self).__name__} requires a non-null source expression.")
        if offset is None or offset <= 0:
            raise ValueError(f"{type(self).__name__} requires a positive integer for the offset.")
        super().__init__(expression, offset, *(() if default is None else (default,)))

    def as_sql(self, c: SQLCompiler) -> str:
        expression, offset, *default = self.source
        args = [expression.as_sql(c), integer_argument(c, offset), *(d.as_sql(c) for d in default)]
        return f"{self.function}({', '.join(args)})"


class Lead(Lag):
    """The expression's value ``offset`` rows after this one in the partition, else ``default``."""

    function = "LEAD"


class WindowFrameExclusion(Enum):
    """What a frame leaves out of itself (Django 5.1's ``exclusion=``)."""

    CURRENT_ROW = "CURRENT ROW"
    GROUP = "GROUP"
    TIES = "TIES"
    NO_OTHERS = "NO OTHERS"


class WindowFrame:
    """The rows of the partition a window function sees: ``start``/``end`` are offsets from the
    current row (negative: before it, 0: the current row, None: unbounded)."""

    frame_type = ""

    def __init__(self, start: int | None = None, end: int | None = None, exclusion: WindowFrameExclusion | None = None) -> None:
        if exclusion is not None and not isinstance(exclusion, WindowFrameExclusion):
            raise TypeError(f"{type(self).__qualname__}.exclusion must be a WindowFrameExclusion instance.")
        self.check(start, end)
        self.start, self.end, self.exclusion = start, end, exclusion

    def check(self, start: int | None, end: int | None) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(start={self.start}, end={self.end})"

    def __identity__(self) -> tuple[Any, ...]:
        return (type(self), self.start, self.end, self.exclusion)

    def as_sql(self) -> str:
        start = bound(self.start) or "UNBOUNDED PRECEDING"
        end = bound(self.end) or "UNBOUNDED FOLLOWING"
        exclude = f" EXCLUDE {self.exclusion.value}" if self.exclusion is not None else ""
        return f"{self.frame_type} BETWEEN {start} AND {end}{exclude}"


def bound(value: int | None) -> str | None:
    """One end of a frame in SQL (None: unbounded, for the caller to spell)."""
    if value is None:
        return None
    if value == 0:
        return "CURRENT ROW"
    # Checked integers (see check()): written into the SQL like LIMIT, part of the query's shape.
    return f"{abs(value)} {'PRECEDING' if value < 0 else 'FOLLOWING'}"


class RowRange(WindowFrame):
    """A frame counted in rows: ``RowRange(start=-2, end=0)`` is this row and the two before."""

    frame_type = "ROWS"

    def check(self, start: int | None, end: int | None) -> None:
        if start is not None and not isinstance(start, int):
            raise ValueError(f"start argument must be an integer, zero, or None, but got '{start}'.")
        if end is not None and not isinstance(end, int):
            raise ValueError(f"end argument must be an integer, zero, or None, but got '{end}'.")
        if isinstance(start, int) and isinstance(end, int) and start > end:
            raise ValueError("start cannot be greater than end.")


class ValueRange(WindowFrame):
    """A frame by the ordering's value: ``ValueRange(start=-10, end=0)`` is the rows whose
    value is at most 10 below this row's (one numeric or date ``order_by``)."""

    frame_type = "RANGE"

    def check(self, start: int | None, end: int | None) -> None:
        if (start is not None and not isinstance(start, int)) or (isinstance(start, int) and start > 0):
            raise ValueError(f"start argument must be a negative integer, zero, or None, but got '{start}'.")
        if (end is not None and not isinstance(end, int)) or (isinstance(end, int) and end < 0):
            raise ValueError(f"end argument must be a positive integer, zero, or None, but got '{end}'.")


def _expression(value: Any) -> Expression:
    return value if isinstance(value, Expression) else F(value)


def _ordering(value: Any) -> OrderBy | Expression:
    if isinstance(value, str) and value.startswith("-"):
        return OrderBy(F(value[1:]), descending=True)
    return _expression(value)


class Window(Expression):
    """``expression OVER (PARTITION BY ... ORDER BY ... frame)``: a window function or an
    aggregate computed for each row over the rows of its partition.

    ``partition_by`` and ``order_by`` take a field name, an expression or a list of them;
    ``order_by`` also takes ``"-name"`` and ``F("x").desc(nulls_last=True)``. The result has
    the expression's type. Filtering on a window annotation is allowed (see the module).
    """

    contains_over_clause = True

    def __init__(self, expression: Any, partition_by: Any = None, order_by: Any = None, frame: WindowFrame | None = None,
                 output_field: Field | None = None) -> None:
        if not isinstance(expression, (WindowFunction, Aggregate)):
            raise ValueError(f"Expression '{type(expression).__name__}' isn't compatible with OVER clauses.")
        if order_by is not None and not isinstance(order_by, (list, tuple, str, Expression)):
            raise ValueError("Window.order_by must be either a string reference to a field, an expression, or a list or tuple of them.")
        if frame is not None and not isinstance(frame, WindowFrame):
            raise TypeError(f"Window.frame takes a RowRange or a ValueRange, not {frame!r}")
        many = (list, tuple)
        self.expression = expression
        self.partition_by = [_expression(p) for p in (partition_by if isinstance(partition_by, many) else [partition_by])] if partition_by is not None else []
        self.order_by = [_ordering(o) for o in (order_by if isinstance(order_by, many) else [order_by])] if order_by is not None else []
        self.frame = frame
        self._output = output_field

    def __repr__(self) -> str:
        parts = [repr(self.expression)]
        if self.partition_by:
            parts.append(f"partition_by={self.partition_by!r}")
        if self.order_by:
            parts.append(f"order_by={self.order_by!r}")
        if self.frame is not None:
            parts.append(f"frame={self.frame!r}")
        return f"Window({', '.join(parts)})"

    def children(self) -> tuple[Expression, ...]:
        return (self.expression, *self.partition_by, *self.order_by)

    def resolve(self, query: Query) -> Expression:
        new = self._copy()
        new.expression = self.expression.resolve(query)
        new.partition_by = [p.resolve(query) for p in self.partition_by]
        new.order_by = [o.resolve(query) for o in self.order_by]
        new.output_field = self._output or new.expression.output_field
        # The aggregate inside is over the window, not over a GROUP BY (as Django).
        new.contains_aggregate = False
        return new

    def as_sql(self, c: SQLCompiler) -> str:
        window = []
        if self.partition_by:
            window.append("PARTITION BY " + ", ".join(p.as_sql(c) for p in self.partition_by))
        if self.order_by:
            window.append("ORDER BY " + ", ".join(o.as_sql(c) for o in self.order_by))
        if self.frame is not None:
            window.append(self.frame.as_sql())
        return f"{self.expression.as_sql(c)} OVER ({' '.join(window)})"


def window_group_by(e: Expression) -> list[Expression]:
    """What a grouped query must also group by for the windows in ``e``: the columns their
    partitions and orderings name (as Django's ``Window.get_group_by_cols``)."""
    terms = [term.expression if isinstance(term, OrderBy) else term
             for node in e.walk() if isinstance(node, Window) for term in (*node.partition_by, *node.order_by)]
    return [term for term in terms if not term.contains_aggregate]


def has_window(e: Expression) -> bool:
    """Whether ``e`` computes a window function (not counting subqueries, which have their own)."""
    return any(getattr(node, "contains_over_clause", False) for node in e.walk())


def split_qualify(conditions: list[Expression], grouped: bool) -> tuple[list[Expression], Expression | None]:
    """The WHERE conditions split as Django's ``split_having_qualify``: (those the query itself
    applies, the part that refers to window functions and so filters its rows from outside).

    An AND splits; an OR (or a negated AND, or an XOR) mixing window and other conditions
    stays whole outside, except in a grouped query where it mixes them with WHERE conditions
    (Django raises NotImplementedError: they would filter the rows before grouping).
    """
    from .sql.query import WhereNode

    def split(node: Expression, negated: bool) -> tuple[Expression | None, Expression | None]:
        if not has_window(node):
            return node, None
        if not isinstance(node, WhereNode):
            return None, node
        in_negated = negated ^ node.negated
        connected = (in_negated and node.connector == "AND") or (not in_negated and node.connector == "OR") or node.connector == "XOR"
        inner, outer = [], []
        for child in node.children_nodes:
            a, b = split(child, in_negated)
            if a is not None:
                inner.append(a)
            if b is not None:
                outer.append(b)
        if connected and outer and inner:
            if grouped and any(not part.contains_aggregate for part in inner):  # a WHERE part, not only HAVING ones
                raise NotImplementedError("Heterogeneous disjunctive predicates against window functions are not implemented "
                                          "when performing conditional aggregation.")
            return None, node
        return (WhereNode(inner, node.connector, node.negated) if inner else None,
                WhereNode(outer, node.connector, node.negated) if outer else None)

    kept, outside = [], []
    for condition in conditions:
        a, b = split(condition, False)
        if a is not None:
            kept.append(a)
        if b is not None:
            outside.append(b)
    if not outside:
        return kept, None
    return kept, outside[0] if len(outside) == 1 else WhereNode(outside)
