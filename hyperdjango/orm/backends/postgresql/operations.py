"""PostgreSQL spelling: UPPER() LIKE UPPER() for case-insensitive patterns, regex operators, EXTRACT, typed parameters, FOR UPDATE."""

from __future__ import annotations

import datetime
import decimal
import uuid

from ...fields import DateTimeField, DurationField, Field, FloatField, TimeField
from ..base.operations import BaseOperations, fixed_offset, zone_literal
from ..features import PostgresFeatures

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
    features = PostgresFeatures()

    def integer_argument(self, sql: str) -> str:
        # SUBSTR/LEFT/RIGHT/ROUND/CHR take an INTEGER, and a bound Python int is a BIGINT here.
        return f"CAST({sql} AS INTEGER)"

    def numeric_argument(self, sql: str, field: Field | None) -> str:
        # MOD and ROUND(x, n) take NUMERIC, not double precision (Django's FixDecimalInputMixin).
        return f"CAST({sql} AS NUMERIC)" if isinstance(field, FloatField) else sql

    def text_argument(self, sql: str) -> str:
        # As Django's ConcatPair: || has no operator for two non-text operands (int || int).
        return f"CAST({sql} AS TEXT)"

    def left(self, text: str, length: str) -> str:
        return f"LEFT({text}, {length})"

    def right(self, text: str, length: str) -> str:
        return f"RIGHT({text}, {length})"

    def hex_digest(self, function: str, text: str) -> str:
        # The digests take and give bytea; SHA-1 only through pgcrypto's DIGEST (as in Django).
        if function == "SHA1":
            return f"ENCODE(DIGEST(CONVERT_TO({text}, 'UTF8'), 'sha1'), 'hex')"
        return f"ENCODE({function}(CONVERT_TO({text}, 'UTF8')), 'hex')"

    def power(self, lhs: str, rhs: str) -> str:
        return f"({lhs} ^ {rhs})"

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
        return zone_literal(zone)

    def datetime_transform(self, name: str, sql: str, field: Field | None, zone: datetime.tzinfo | None = None) -> str:
        if isinstance(field, DateTimeField):
            # Stored as timestamptz: seen in UTC (or the zone asked), as on SQLite.
            sql = f"({sql} AT TIME ZONE {self.zone(zone)})"
        if name == "date":
            return f"CAST({sql} AS date)"
        if name == "time":
            return f"CAST({sql} AS time)"
        if isinstance(field, DurationField) and name == "second":
            sql = f"DATE_TRUNC('second', {sql})"  # an interval's seconds towards zero, as Django's
        # FLOOR: seconds have a fraction, and Django's are truncated to an integer.
        extracted = f"CAST(FLOOR(EXTRACT({EXTRACT[name]} FROM {sql})) AS integer)"
        return f"({extracted} + 1)" if name == "week_day" else extracted  # Django's week_day: Sunday is 1

    def distinct_on(self, columns: list[str]) -> str:
        return f"DISTINCT ON ({', '.join(columns)}) "

    def truncate(self, kind: str, sql: str, field: Field | None, output: type[Field], zone: datetime.tzinfo | None = None) -> str:
        if isinstance(field, TimeField):
            return f"CAST(DATE_TRUNC('{kind}', DATE '2000-01-01' + {sql}) AS time)"
        if isinstance(field, DateTimeField):
            sql = f"({sql} AT TIME ZONE {self.zone(zone)})"
        else:  # a date: a timestamp (without zone) read in UTC, never the session's time zone
            zone, sql = None, f"CAST({sql} AS timestamp)"
        truncated = f"DATE_TRUNC('{kind}', {sql})"
        if not issubclass(output, DateTimeField):
            return f"CAST({truncated} AS date)"
        return self.wall_clock_instant(truncated, zone)

    def wall_clock_instant(self, local: str, zone: datetime.tzinfo | None) -> str:
        """The instant a wall-clock ``timestamp`` of ``zone`` names, read as Python's ``fold=0``
        (Django's ``make_aware``): a time the clocks go through twice is its first occurrence,
        where ``AT TIME ZONE`` alone takes the second. A skipped time takes the offset before
        the change, as ``AT TIME ZONE`` does."""
        tz = self.zone(zone)
        instant = f"({local} AT TIME ZONE {tz})"
        if zone is None or fixed_offset(zone) is not None:
            return instant
        # The offset in force a day earlier (no zone changes twice in a day): where it names
        # an earlier instant with the same wall-clock time, that is the first occurrence.
        day_before = f"({instant} - INTERVAL '1 day')"
        offset_before = f"(({day_before} AT TIME ZONE {tz}) - ({day_before} AT TIME ZONE 'UTC'))"
        first = f"(({local} - {offset_before}) AT TIME ZONE 'UTC')"
        return f"(CASE WHEN {first} < {instant} AND ({first} AT TIME ZONE {tz}) = {local} THEN {first} ELSE {instant} END)"

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
