"""What every backend spells the same way, and the hooks where they differ."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ...fields import DecimalField, Field, TextField
from ..features import BaseFeatures


def fixed_offset(zone: datetime.tzinfo) -> datetime.timedelta | None:
    """The zone's offset from UTC when it never changes (UTC, ``timezone(timedelta(hours=2))``,
    ``ZoneInfo("Etc/GMT-2")``); None for a zone with daylight saving time."""
    return zone.utcoffset(None)


def zone_literal(zone: datetime.tzinfo) -> str:
    """A named zone as an SQL string literal: its IANA key (``ZoneInfo.key``), quotes doubled."""
    key = getattr(zone, "key", None)
    if not isinstance(key, str):
        raise ValueError(f"tzinfo={zone!r}: give a zoneinfo.ZoneInfo or a datetime.timezone")
    return "'" + key.replace("'", "''") + "'"


def like_escape(value: str) -> str:
    """Escapes LIKE's wildcards so the value matches literally (backslash is the escape)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_contains(value: str) -> str:
    return f"%{like_escape(value)}%"


def like_startswith(value: str) -> str:
    return f"{like_escape(value)}%"


def like_endswith(value: str) -> str:
    return f"%{like_escape(value)}"


LIKE_ADAPTERS: dict[str, Callable[[str], str]] = {
    "contains": like_contains,
    "icontains": like_contains,
    "startswith": like_startswith,
    "istartswith": like_startswith,
    "endswith": like_endswith,
    "iendswith": like_endswith,
}


class BaseOperations:
    """How to spell things in SQL; subclasses override what their database spells differently."""

    vendor = ""
    #: What the database can do (``features.py``).
    features = BaseFeatures()
    #: The most parameters one statement may carry.
    max_params = 32766
    #: The function giving the 1-based position of a substring (0 when absent).
    position_function = "INSTR"
    explain_prefix = "EXPLAIN"

    def quote(self, name: str) -> str:
        """A quoted identifier; a quote inside the name is doubled, so any name is safe."""
        return '"' + name.replace('"', '""') + '"'

    def cast_param(self, sql: str, python_type: type) -> str:
        return sql

    def pattern_adapter(self, lookup: str) -> Callable[[str], str] | None:
        """The function turning a lookup's value into the pattern bound as its parameter."""
        return LIKE_ADAPTERS.get(lookup)

    def pattern_lookup(self, lookup: str, lhs: str, rhs: str) -> str:
        raise NotImplementedError

    def pattern_lookup_expression(self, lookup: str, lhs: str, rhs: str) -> str:
        """A pattern lookup whose value is an expression (``F("other")``), without LIKE."""
        if lookup.startswith("i") and lookup not in ("in", "iregex"):  # an upper-cased regex means another regex
            lhs, rhs, lookup = f"UPPER({lhs})", f"UPPER({rhs})", lookup[1:]
        if lookup == "contains":
            return f"{self.position_function}({lhs}, {rhs}) > 0"
        if lookup == "startswith":
            return f"{self.position_function}({lhs}, {rhs}) = 1"
        if lookup == "endswith":
            return f"SUBSTR({lhs}, LENGTH({lhs}) - LENGTH({rhs}) + 1) = {rhs}"
        return self.pattern_lookup(lookup, lhs, rhs)

    def datetime_transform(self, name: str, sql: str, field: Field | None, zone: datetime.tzinfo | None = None) -> str:
        """A part of a date/time (``year``... ``second``, ``date``, ``time``); a datetime seen in ``zone`` (None: UTC)."""
        raise NotImplementedError

    def truncate(self, kind: str, sql: str, field: Field | None, output: type[Field], zone: datetime.tzinfo | None = None) -> str:
        """A date, time or datetime truncated to ``kind`` (weeks start on Monday), as an ``output``;
        a datetime truncated in ``zone`` (None: UTC)."""
        raise NotImplementedError

    def now(self) -> str:
        """The current datetime, in UTC."""
        raise NotImplementedError

    def temporal_subtraction(self, lhs: str, rhs: str, field: Field | None) -> str:
        """``lhs - rhs`` of two dates or two datetimes, as a duration."""
        raise NotImplementedError

    def shift_datetime(self, moment: str, op: str, duration: str) -> str:
        """A datetime plus or minus (``op``) a duration."""
        raise NotImplementedError

    # -- database functions (orm/functions*.py, expressions.py) --------------------------

    #: The functions of ``Greatest``, ``Least``, ``Ord`` and ``Chr``.
    greatest_function = "GREATEST"
    least_function = "LEAST"
    ord_function = "ASCII"
    chr_function = "CHR"

    def integer_argument(self, sql: str) -> str:
        """A count or position passed to a function (SUBSTR, LEFT, ROUND, CHR...)."""
        return sql

    def numeric_argument(self, sql: str, field: Field | None) -> str:
        """An argument of ``MOD`` or ``ROUND(x, n)``, whose output is ``field``."""
        return sql

    def text_argument(self, sql: str) -> str:
        """An argument of ``Concat``, before ``COALESCE(..., '')``."""
        return sql

    def left(self, text: str, length: str) -> str:
        """The first ``length`` characters of ``text``."""
        return f"SUBSTR({text}, 1, {length})"

    def right(self, text: str, length: str) -> str:
        """The last ``length`` characters of ``text``."""
        raise NotImplementedError

    def hex_digest(self, function: str, text: str) -> str:
        """The ``function`` (``SHA1``, ``SHA256``...) digest of ``text``'s UTF-8, as lowercase hex."""
        return f"{function}({text})"

    def power(self, lhs: str, rhs: str) -> str:
        """``lhs ^ rhs``: the power."""
        return f"POWER({lhs}, {rhs})"

    #: Whether the parts of a UNION may be parenthesised (SQLite refuses).
    compound_parentheses = True

    def distinct_on(self, columns: list[str]) -> str:
        from ...exceptions import NotSupportedError

        raise NotSupportedError(f"distinct(*fields) is PostgreSQL's DISTINCT ON; {self.vendor} has none (use distinct())")

    #: What LIMIT says for "no limit" when only an OFFSET is wanted.
    no_limit = "ALL"

    def limit_offset(self, limit: str | None, offset: str | None) -> str:
        sql = f" LIMIT {limit}" if limit is not None else ""
        if offset is not None:
            sql += ("" if limit is not None else f" LIMIT {self.no_limit}") + f" OFFSET {offset}"
        return sql

    def for_update(self, skip_locked: bool, nowait: bool, of: str) -> str:
        return ""

    def field_converter(self, field: Field) -> Callable[[Any], Any] | None:
        """The conversion a column of ``field`` needs when read (None: the driver's value is right)."""
        return None

    def expression_converter(self, field: Field | None) -> Callable[[Any], Any] | None:
        """The conversion for a computed column (an aggregate, annotation or value) of type ``field``.

        Expressions have no declared type, so a driver may hand back the storage
        class (SQLite) or a wider type (PostgreSQL's SUM of integers is numeric).
        """
        if field is None or isinstance(field, TextField):
            return None  # as Django: text is what the database says (Coalesce(n, 0, output_field=TextField()) is 0)
        expected = field.python_type
        if isinstance(field, DecimalField) and field.decimal_places is not None:
            places = field.decimal_places

            def convert_decimal(value: Any) -> Any:
                if value is None:
                    return None
                exact = field.to_python_exact(value)
                # Padded to the field's places (SQLite's SUM of a column is 21, PostgreSQL's
                # 21.00), never rounded: Django keeps every digit of a computed decimal
                # (ExpressionWrapper(F("price") ** 2, output_field=DecimalField(decimal_places=2))).
                exponent = exact.as_tuple().exponent
                if isinstance(exponent, int) and -exponent < places and exact.adjusted() < 28 - places:
                    return field.quantize(exact)
                return exact

            return convert_decimal

        def convert(value: Any) -> Any:
            if value is None or isinstance(value, expected) and not (isinstance(value, bool) and expected is int):
                return value
            if expected is int and isinstance(value, (float, Decimal)):
                return int(value)  # Django's int(): F("pages") ** -1 is 0, as the integer it is typed
            return field.to_python(value)

        return convert
