"""Database functions with Django's names, arguments and output types (``django.db.models.functions``).

>>> from hyperdjango.expressions import Lower, Length, Concat, Greatest
>>> Lower("name")
Lower(F('name'))

Each is a ``Func``: arguments are expressions, field names (strings) or plain
values (bound as parameters). Where PostgreSQL and SQLite spell a function
differently, ``as_sql`` asks the backend's operations (``c.ops``); where they answer differently
(``Greatest``/``Least`` with a NULL), each keeps its database's answer, as Django does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .expressions import Aggregate, Expression, Func, Q, Value
from .fields import DecimalField, Field, FloatField, IntegerField

if TYPE_CHECKING:
    from .backends.base.operations import BaseOperations
    from .sql.compiler import SQLCompiler


class SameType(Func):
    """Arguments of one type, which is the result's: mixed types need ``output_field=``, as in
    Django (``Concat("pages", Value("p"))`` is a ``FieldError``)."""

    def infer_output(self, source: list[Expression]) -> Field | None:
        fields = [e.output_field for e in source if e.output_field is not None]
        for field in fields[1:]:
            if not isinstance(field, type(fields[0])):
                from .exceptions import FieldError

                kinds = ", ".join(sorted({type(f).__name__ for f in fields}))
                raise FieldError(f"{type(self).__name__}: the arguments have mixed types ({kinds}); give output_field=")
        return fields[0] if fields else None


class Transform(Func):
    """A function of one expression whose result has the expression's type."""

    def __init__(self, expression: Any, output_field: Field | None = None) -> None:
        super().__init__(expression, output_field=output_field)


class IntegerResult(Func):
    """A function whose result is an integer whatever its arguments."""

    def infer_output(self, source: list[Expression]) -> Field:
        return IntegerField()


class NumericResult(Func):
    """Django's ``NumericOutputFieldMixin``: decimal if any argument is, else float if any
    argument is an integer (``Sqrt(2)`` is not an integer), else the arguments' type."""

    def infer_output(self, source: list[Expression]) -> Field | None:
        fields = [e.output_field for e in source]
        if any(isinstance(f, DecimalField) for f in fields):
            return DecimalField()
        if any(isinstance(f, IntegerField) for f in fields):
            return FloatField()
        return super().infer_output(source)


def numeric_arguments(c: SQLCompiler, source: list[Expression]) -> list[str]:
    """The arguments' SQL as ``MOD`` and ``ROUND(x, n)`` take them (on PostgreSQL floats as
    NUMERIC: Django's ``FixDecimalInputMixin``)."""
    return [c.ops.numeric_argument(e.as_sql(c), e.output_field) for e in source]


def integer_argument(c: SQLCompiler, e: Expression) -> str:
    """A count or position: PostgreSQL's SUBSTR/LEFT/RIGHT/ROUND take an INTEGER, and a
    bound Python int is a BIGINT there."""
    return c.ops.integer_argument(e.as_sql(c))


# -- text ----------------------------------------------------------------------------


class Lower(Transform):
    """The text in lower case (``LOWER``)."""

    function = "LOWER"


class Upper(Transform):
    """The text in upper case (``UPPER``)."""

    function = "UPPER"


class Length(IntegerResult):
    """The number of characters (NULL for NULL)."""

    function = "LENGTH"

    def __init__(self, expression: Any) -> None:
        super().__init__(expression)


class Trim(Transform):
    """The text without leading and trailing spaces (``TRIM``)."""

    function = "TRIM"


class LTrim(Transform):
    """The text without leading spaces (``LTRIM``)."""

    function = "LTRIM"


class RTrim(Transform):
    """The text without trailing spaces (``RTRIM``)."""

    function = "RTRIM"


def _text(value: Any) -> Expression:
    # A string argument that is text, not a field name (Replace's, LPad's...).
    return value if isinstance(value, Expression) else Value(value)


class Concat(SameType):
    """The arguments joined as text; a NULL argument counts as empty text, as in Django."""

    def __init__(self, *expressions: Any, output_field: Field | None = None) -> None:
        if len(expressions) < 2:
            raise ValueError("Concat needs at least two expressions")
        super().__init__(*expressions, output_field=output_field)

    def as_sql(self, c: SQLCompiler) -> str:
        parts = [c.ops.text_argument(e.as_sql(c)) for e in self.source]
        return "(" + " || ".join(f"COALESCE({p}, '')" for p in parts) + ")"


class Substr(Func):
    """``length`` characters from position ``pos`` (the first is 1); to the end without ``length``."""

    def __init__(self, expression: Any, pos: Any, length: Any = None, output_field: Field | None = None) -> None:
        if not isinstance(pos, Expression) and pos < 1:
            raise ValueError("Substr: pos must be at least 1")
        args = (expression, _text(pos)) if length is None else (expression, _text(pos), _text(length))
        super().__init__(*args, output_field=output_field)

    def infer_output(self, source: list[Expression]) -> Field | None:
        return source[0].output_field

    def as_sql(self, c: SQLCompiler) -> str:
        text, *numbers = self.source
        return f"SUBSTR({text.as_sql(c)}, {', '.join(integer_argument(c, n) for n in numbers)})"


class Left(Func):
    """The first ``length`` characters."""

    def __init__(self, expression: Any, length: Any, output_field: Field | None = None) -> None:
        if not isinstance(length, Expression) and length < 1:
            raise ValueError("Left: length must be greater than 0")
        super().__init__(expression, _text(length), output_field=output_field)

    def infer_output(self, source: list[Expression]) -> Field | None:
        return source[0].output_field

    def as_sql(self, c: SQLCompiler) -> str:
        text, length = self.source[0].as_sql(c), integer_argument(c, self.source[1])
        return c.ops.left(text, length)


class Right(Left):
    """The last ``length`` characters."""

    def as_sql(self, c: SQLCompiler) -> str:
        text, length = self.source[0].as_sql(c), integer_argument(c, self.source[1])
        return c.ops.right(text, length)


class Replace(Func):
    """``text`` replaced by ``replacement`` (by default removed) everywhere in the expression."""

    function = "REPLACE"

    def __init__(self, expression: Any, text: Any, replacement: Any = "", output_field: Field | None = None) -> None:
        super().__init__(expression, _text(text), _text(replacement), output_field=output_field)

    def infer_output(self, source: list[Expression]) -> Field | None:
        return source[0].output_field


class StrIndex(IntegerResult):
    """Where ``substring`` first occurs in the expression, from 1; 0 when it does not."""

    def __init__(self, expression: Any, substring: Any) -> None:
        super().__init__(expression, _text(substring))

    def as_sql(self, c: SQLCompiler) -> str:
        text, sub = (e.as_sql(c) for e in self.source)
        return f"{c.ops.position_function}({text}, {sub})"


# -- math and comparison ------------------------------------------------------------


class Abs(Transform):
    """The absolute value (``ABS``)."""

    function = "ABS"


class Ceil(Transform):
    """The smallest integer not below the value (``CEIL``)."""

    function = "CEIL"


class Floor(Transform):
    """The largest integer not above the value (``FLOOR``)."""

    function = "FLOOR"


class Round(Func):
    """Rounded to ``precision`` decimal places (negative: to tens, hundreds...)."""

    def __init__(self, expression: Any, precision: int = 0, output_field: Field | None = None) -> None:
        super().__init__(expression, Value(precision), output_field=output_field)
        self.negative = precision < 0

    def infer_output(self, source: list[Expression]) -> Field | None:
        return source[0].output_field

    def as_sql(self, c: SQLCompiler) -> str:
        if self.negative and not c.ops.features.supports_negative_round_precision:
            raise ValueError("Round: SQLite does not support a negative precision (as Django says)")
        value = numeric_arguments(c, self.source[:1])[0]
        return f"ROUND({value}, {integer_argument(c, self.source[1])})"


class Mod(NumericResult):
    """The remainder of ``x / y``, with the sign of ``x``."""

    def __init__(self, x: Any, y: Any, output_field: Field | None = None) -> None:
        super().__init__(x, y, output_field=output_field)

    def as_sql(self, c: SQLCompiler) -> str:
        return f"MOD({', '.join(numeric_arguments(c, self.source))})"


class Power(NumericResult):
    """``x`` to the power ``y`` (``POWER``)."""

    function = "POWER"

    def __init__(self, x: Any, y: Any, output_field: Field | None = None) -> None:
        super().__init__(x, y, output_field=output_field)


class Sqrt(NumericResult):
    """The square root (``SQRT``)."""

    function = "SQRT"

    def __init__(self, expression: Any, output_field: Field | None = None) -> None:
        super().__init__(expression, output_field=output_field)


class Greatest(SameType):
    """The largest argument. With a NULL argument PostgreSQL ignores it and SQLite answers
    NULL; Django keeps each database's answer, so do we."""

    def __init__(self, *expressions: Any, output_field: Field | None = None) -> None:
        if len(expressions) < 2:
            raise ValueError(f"{type(self).__name__} needs at least two expressions")
        super().__init__(*expressions, output_field=output_field)

    def function_name(self, ops: BaseOperations) -> str:
        """How ``ops``'s database spells this function (SQLite: the multi-argument ``MAX``)."""
        return ops.greatest_function

    def as_sql(self, c: SQLCompiler) -> str:
        return f"{self.function_name(c.ops)}({', '.join(e.as_sql(c) for e in self.source)})"


class Least(Greatest):
    """The smallest argument (NULLs as in ``Greatest``)."""

    def function_name(self, ops: BaseOperations) -> str:
        """How ``ops``'s database spells this function (SQLite: the multi-argument ``MIN``)."""
        return ops.least_function


class NullIf(Func):
    """NULL when both arguments are equal, else the first."""

    function = "NULLIF"

    def __init__(self, expression1: Any, expression2: Any, output_field: Field | None = None) -> None:
        super().__init__(expression1, expression2, output_field=output_field)


class Cast(Func):
    """The expression converted to ``output_field``'s type: ``Cast("pages", FloatField())``."""

    output_field: Field  # always given

    def __init__(self, expression: Any, output_field: Field) -> None:
        super().__init__(expression, output_field=output_field)

    def as_sql(self, c: SQLCompiler) -> str:
        from .backends import schema_editor_for

        return f"CAST({self.source[0].as_sql(c)} AS {schema_editor_for(c.ops.vendor).column_type(self.output_field)})"


class ExpressionWrapper(Func):
    """An expression given the type Django cannot infer: ``ExpressionWrapper(F("price") * F("weight"), output_field=FloatField())``."""

    def __init__(self, expression: Expression, output_field: Field) -> None:
        super().__init__(expression, output_field=output_field)

    def as_sql(self, c: SQLCompiler) -> str:
        return self.source[0].as_sql(c)


# -- aggregates -----------------------------------------------------------------------


class StdDev(NumericResult, Aggregate):
    """The standard deviation: of the population, or ``sample=True`` of a sample (NULL for
    fewer than two values). SQLite has it from the engine (``STDDEV_POP``/``STDDEV_SAMP``)."""

    def __init__(self, expression: Any, sample: bool = False, *, filter: Q | None = None, default: Any = None) -> None:
        super().__init__(expression, filter=filter, default=default)
        self.function = self.functions[sample]

    functions = ("STDDEV_POP", "STDDEV_SAMP")


class Variance(StdDev):
    """The variance: of the population, or ``sample=True`` of a sample."""

    functions = ("VAR_POP", "VAR_SAMP")


__all__ = [
    "Abs", "StdDev", "Variance", "Cast", "Ceil", "Concat", "ExpressionWrapper", "Floor", "Greatest", "Least", "Left", "Length", "Lower", "LTrim",
    "Mod", "NullIf", "Power", "Replace", "Right", "Round", "RTrim", "Sqrt", "StrIndex", "Substr", "Trim", "Upper",
]
