"""SQLite spelling: GLOB for case-sensitive patterns, strftime for dates, the engine's REGEXP, no FOR UPDATE."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...fields import DecimalField, Field
from ..base.operations import BaseOperations


def glob_escape(value: str) -> str:
    """GLOB has no escape character; a wildcard is made literal by a one-character class."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in value)


def glob_contains(value: str) -> str:
    return f"*{glob_escape(value)}*"


def glob_startswith(value: str) -> str:
    return f"{glob_escape(value)}*"


def glob_endswith(value: str) -> str:
    return f"*{glob_escape(value)}"


#: datetimes(): the text of a UTC datetime truncated to each kind.
TRUNCATED = {
    "year": "%Y-01-01T00:00:00+00:00", "month": "%Y-%m-01T00:00:00+00:00", "week": "%Y-%m-%dT00:00:00+00:00",
    "day": "%Y-%m-%dT00:00:00+00:00", "hour": "%Y-%m-%dT%H:00:00+00:00", "minute": "%Y-%m-%dT%H:%M:00+00:00",
    "second": "%Y-%m-%dT%H:%M:%S+00:00",
}

GLOB_ADAPTERS = {"contains": glob_contains, "startswith": glob_startswith, "endswith": glob_endswith}

STRFTIME = {"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M", "second": "%S"}


class SQLiteOperations(BaseOperations):
    vendor = "sqlite"
    max_params = 32766
    position_function = "INSTR"
    explain_prefix = "EXPLAIN QUERY PLAN"
    compound_parentheses = False
    no_limit = "-1"  # SQLite has no LIMIT ALL, and OFFSET needs a LIMIT

    def pattern_adapter(self, lookup: str) -> Callable[[str], str] | None:
        # SQLite's LIKE ignores ASCII case; GLOB is the case-sensitive match.
        return GLOB_ADAPTERS.get(lookup) or super().pattern_adapter(lookup)

    def pattern_lookup(self, lookup: str, lhs: str, rhs: str) -> str:
        # REGEXP is the engine's function (Rust's regex crate) registered on every connection.
        if lookup == "regex":
            return f"{lhs} REGEXP {rhs}"
        if lookup == "iregex":
            return f"{lhs} REGEXP ('(?i)' || {rhs})"
        if lookup in GLOB_ADAPTERS:
            return f"{lhs} GLOB {rhs}"
        return f"{lhs} LIKE {rhs} ESCAPE '\\'"

    def datetime_transform(self, name: str, sql: str, field: Field | None) -> str:
        if name == "date":
            return f"DATE({sql})"
        if name == "time":
            return f"TIME({sql})"
        if name == "week_day":  # Django's: Sunday is 1
            return f"(CAST(STRFTIME('%w', {sql}) AS INTEGER) + 1)"
        if name == "quarter":
            return f"((CAST(STRFTIME('%m', {sql}) AS INTEGER) + 2) / 3)"
        # ISO weeks without %V/%G/%u (absent from older SQLite, such as Debian 12's 3.40): the
        # Thursday of a date's ISO week lies in its ISO year, and its day of the year
        # numbers the week.
        if name == "iso_week_day":  # Monday is 1
            return f"((CAST(STRFTIME('%w', {sql}) AS INTEGER) + 6) % 7 + 1)"
        if name == "week":
            return f"((CAST(STRFTIME('%j', {sql}, '-3 days', 'weekday 4') AS INTEGER) - 1) / 7 + 1)"
        if name == "iso_year":
            return f"CAST(STRFTIME('%Y', {sql}, '-3 days', 'weekday 4') AS INTEGER)"
        return f"CAST(STRFTIME('{STRFTIME[name]}', {sql}) AS INTEGER)"

    def truncate(self, kind: str, sql: str, field: Field | None, datetimes: bool) -> str:
        shift = ", '-6 days', 'weekday 1'" if kind == "week" else ""  # back to Monday
        if not datetimes:
            start = {"year": ", 'start of year'", "month": ", 'start of month'"}.get(kind, "")
            return f"DATE({sql}{start}{shift})"
        pattern = TRUNCATED[kind]
        return f"STRFTIME('{pattern}', {sql}{shift})"

    def field_converter(self, field: Field) -> Callable[[Any], Any] | None:
        if isinstance(field, DecimalField) and field.decimal_places is not None:
            # DECIMAL columns hold REAL values: 4.5 comes back as Decimal("4.5"), not "4.50".
            quantize = field.quantize

            def convert(value: Any) -> Any:
                return None if value is None else quantize(value)

            return convert
        return None
