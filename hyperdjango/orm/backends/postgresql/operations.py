"""PostgreSQL spelling: UPPER() LIKE UPPER() for case-insensitive patterns, regex operators, EXTRACT, typed parameters, FOR UPDATE."""

from __future__ import annotations

import datetime
import decimal
import uuid

from ...fields import DateTimeField, Field, TimeField
from ..base.operations import BaseOperations, fixed_offset

CASTS = {
    bool: "boolean",
    int: "bigint",
    float: "double precision",
    decimal.Decimal: "numeric",
    str: "text",
    datetime.datetime: "timestamptz",
    datetime.date: "date",
    datetime.time: "time",
    datetime.timedelta: "interval",
    uuid.UUID: "uuid",
    bytes: "bytea",
}

#: The case-insensitive ones fold case as Django does, by UPPER() on both sides: ILIKE
#: folds otherwise ("i" would match "İ", and "K" the Kelvin sign, where Django's do not).
PATTERNS = {
    "contains": "{lhs} LIKE {rhs}",
    "icontains": "UPPER({lhs}) LIKE UPPER({rhs})",
    "startswith": "{lhs} LIKE {rhs}",
    "istartswith": "UPPER({lhs}) LIKE UPPER({rhs})",
    "endswith": "{lhs} LIKE {rhs}",
    "iendswith": "UPPER({lhs}) LIKE UPPER({rhs})",
    "regex": "{lhs} ~ {rhs}",
    "iregex": "{lhs} ~* {rhs}",
}

EXTRACT = {
    "year": "YEAR", "month": "MONTH", "day": "DAY", "hour": "HOUR", "minute": "MINUTE", "second": "SECOND",
    "week": "WEEK", "quarter": "QUARTER", "iso_year": "ISOYEAR", "iso_week_day": "ISODOW", "week_day": "DOW",
}


class PostgresOperations(BaseOperations):
    vendor = "postgresql"
    max_params = 65535
    position_function = "STRPOS"

    def cast_param(self, sql: str, python_type: type) -> str:
        cast = CASTS.get(python_type)
        return f"CAST({sql} AS {cast})" if cast else sql

    def pattern_lookup(self, lookup: str, lhs: str, rhs: str) -> str:
        return PATTERNS[lookup].format(lhs=lhs, rhs=rhs)

    def pattern_lookup_expression(self, lookup: str, lhs: str, rhs: str) -> str:
        if lookup.endswith("endswith"):
            if lookup == "iendswith":
                lhs, rhs = f"UPPER({lhs})", f"UPPER({rhs})"
            return f"RIGHT({lhs}, LENGTH({rhs})) = {rhs}"
        return super().pattern_lookup_expression(lookup, lhs, rhs)

    def zone(self, zone: datetime.tzinfo | None) -> str:
        """``zone`` for AT TIME ZONE: a fixed offset as an interval (east of UTC positive, unlike
        POSIX zone strings), a named zone by its IANA key."""
        if zone is None:
            return "'UTC'"
        offset = fixed_offset(zone)
        if offset is not None:
            sign, minutes = "-" if offset < datetime.timedelta(0) else "+", int(abs(offset.total_seconds())) // 60
            return f"INTERVAL '{sign}{minutes // 60:02d}:{minutes % 60:02d}'"
        key = getattr(zone, "key", None)
        if not isinstance(key, str):
            raise ValueError(f"tzinfo={zone!r}: give a zoneinfo.ZoneInfo or a datetime.timezone")
        return "'" + key.replace("'", "''") + "'"

    def datetime_transform(self, name: str, sql: str, field: Field | None, zone: datetime.tzinfo | None = None) -> str:
        if isinstance(field, DateTimeField):
            # Stored as timestamptz: seen in UTC (or the zone asked), as on SQLite.
            sql = f"({sql} AT TIME ZONE {self.zone(zone)})"
        if name == "date":
            return f"CAST({sql} AS date)"
        if name == "time":
            return f"CAST({sql} AS time)"
        # FLOOR: seconds have a fraction, and Django's are truncated to an integer.
        extracted = f"CAST(FLOOR(EXTRACT({EXTRACT[name]} FROM {sql})) AS integer)"
        return f"({extracted} + 1)" if name == "week_day" else extracted  # Django's week_day: Sunday is 1

    def distinct_on(self, columns: list[str]) -> str:
        return f"DISTINCT ON ({', '.join(columns)}) "

    def truncate(self, kind: str, sql: str, field: Field | None, output: type[Field], zone: datetime.tzinfo | None = None) -> str:
        if isinstance(field, TimeField):
            return f"CAST(DATE_TRUNC('{kind}', DATE '2000-01-01' + {sql}) AS time)"
        if isinstance(field, DateTimeField):
            tz = self.zone(zone)
            sql = f"({sql} AT TIME ZONE {tz})"
        else:  # a date: a timestamp (without zone), never the session's time zone
            tz, sql = "'UTC'", f"CAST({sql} AS timestamp)"
        truncated = f"DATE_TRUNC('{kind}', {sql})"
        return f"({truncated} AT TIME ZONE {tz})" if issubclass(output, DateTimeField) else f"CAST({truncated} AS date)"

    def now(self) -> str:
        return "STATEMENT_TIMESTAMP()"

    def temporal_subtraction(self, lhs: str, rhs: str, field: Field | None) -> str:
        if isinstance(field, DateTimeField):
            return f"({lhs} - {rhs})"
        return f"(INTERVAL '1 day' * ({lhs} - {rhs}))"  # a date minus a date is a number of days

    def shift_datetime(self, moment: str, op: str, duration: str) -> str:
        return f"({moment} {op} {duration})"

    def for_update(self, skip_locked: bool, nowait: bool, of: str) -> str:
        # OF the main table: the nullable side of a LEFT JOIN cannot be locked.
        return f" FOR UPDATE OF {of}" + (" SKIP LOCKED" if skip_locked else "") + (" NOWAIT" if nowait else "")
