"""SQLite spelling: GLOB for case-sensitive patterns, strftime for dates, the engine's REGEXP, no FOR UPDATE."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from ...exceptions import NotSupportedError
from ...fields import DateTimeField, DecimalField, DurationField, Field, TimeField
from ..base.operations import BaseOperations, fixed_offset, zone_literal
from ..features import SQLiteFeatures


def glob_escape(value: str) -> str:
    """GLOB has no escape character; a wildcard is made literal by a one-character class."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in value)


def glob_contains(value: str) -> str:
    return f"*{glob_escape(value)}*"


def glob_startswith(value: str) -> str:
    return f"{glob_escape(value)}*"


def glob_endswith(value: str) -> str:
    return f"*{glob_escape(value)}"


#: Trunc(): the text of a datetime truncated to each kind, as the engine stores datetimes (so that
#: it compares with columns and parameters as text), after
#: the modifiers of TRUNCATE_MODIFIERS moved it back to the start of a year, quarter, month or week.
TRUNCATED = {
    "year": "%Y-%m-%d 00:00:00", "quarter": "%Y-%m-%d 00:00:00", "month": "%Y-%m-%d 00:00:00", "week": "%Y-%m-%d 00:00:00",
    "day": "%Y-%m-%d 00:00:00", "hour": "%Y-%m-%d %H:00:00", "minute": "%Y-%m-%d %H:%M:00", "second": "%Y-%m-%d %H:%M:%S",
}
TRUNCATED_TIME = {"hour": "%H:00:00", "minute": "%H:%M:00", "second": "%H:%M:%S"}
TRUNCATE_MODIFIERS = {
    "year": ", 'start of year'",
    # The quarter's first month is (month - 1) % 3 months before the month's start.
    "quarter": ", 'start of month', '-' || ((CAST(STRFTIME('%m', {sql}) AS INTEGER) - 1) % 3) || ' months'",
    "month": ", 'start of month'",
    "week": ", '-6 days', 'weekday 1'",  # back to Monday
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
    features = SQLiteFeatures()
    # GREATEST/LEAST are the multi-argument MAX/MIN; UNICODE/CHAR take any code point.
    greatest_function = "MAX"
    least_function = "MIN"
    ord_function = "UNICODE"
    chr_function = "CHAR"

    def right(self, text: str, length: str) -> str:
        return f"SUBSTR({text}, MAX(LENGTH({text}) - {length} + 1, 1))"

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

    def local(self, sql: str, field: Field | None, zone: datetime.tzinfo | None) -> tuple[str, Callable[[str], str] | None]:
        """A datetime's text seen in ``zone`` (whole seconds), and how a wall-clock time of
        ``zone`` becomes a stored (UTC) datetime again; None when there is nothing to convert.

        A fixed offset is SQLite's own date arithmetic; a named zone (daylight saving time)
        the engine's ``hd_utc_to_zone``/``hd_zone_to_utc`` functions (the IANA rules, in Rust)."""
        if zone is None or not isinstance(field, DateTimeField):
            return sql, None
        offset = fixed_offset(zone)
        if offset is None:
            name = zone_literal(zone)
            return f"hd_utc_to_zone({sql}, {name})", lambda local: f"hd_zone_to_utc({local}, {name})"
        if offset.total_seconds() % 60:
            raise NotSupportedError(f"SQLite converts datetimes to zones of whole minutes, not to {zone}")
        minutes = int(offset.total_seconds()) // 60
        if not minutes:
            return sql, None
        # Whole seconds (the text's first 19 characters): DATETIME() rounds a fraction, and
        # 23:59:59.9999 would move to the next day.
        local = f"DATETIME(SUBSTR({sql}, 1, 19), '{minutes:+d} minutes')"
        return local, lambda wall: f"STRFTIME('%Y-%m-%d %H:%M:%S+00:00', {wall}, '{-minutes:+d} minutes')"

    def datetime_transform(self, name: str, sql: str, field: Field | None, zone: datetime.tzinfo | None = None) -> str:
        if isinstance(field, DurationField):  # microseconds here: no fields to extract (Django's words)
            raise ValueError("Extract requires native DurationField database support.")
        text, sql = sql, self.local(sql, field, zone)[0]
        if name == "date":
            return f"DATE({sql})"
        if name == "time":
            # TIME() drops the fraction of a second, which the text keeps (a datetime is
            # 'YYYY-MM-DD HH:MM:SS[.ffffff]+00:00'): the fraction is the text's 20th character on.
            return f"(STRFTIME('%H:%M:%S', {sql}) || SUBSTR({text}, 20, LENGTH({text}) - 25))"
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

    def truncate(self, kind: str, sql: str, field: Field | None, output: type[Field], zone: datetime.tzinfo | None = None) -> str:
        if isinstance(field, TimeField):
            return f"STRFTIME('{TRUNCATED_TIME[kind]}', {sql})"
        sql, back_to_utc = self.local(sql, field, zone)
        modifiers = TRUNCATE_MODIFIERS.get(kind, "").format(sql=sql)
        if not issubclass(output, DateTimeField):
            return f"DATE({sql}{modifiers})"
        if back_to_utc is None:
            return f"STRFTIME('{TRUNCATED[kind]}+00:00', {sql}{modifiers})"
        # Truncated in the zone, then back in UTC: stored datetimes are UTC text.
        return back_to_utc(f"STRFTIME('{TRUNCATED[kind]}', {sql}{modifiers})")

    # Durations are integers of microseconds (as Django's on SQLite). A datetime's text is
    # 'YYYY-MM-DD HH:MM:SS[.ffffff]+00:00': whole seconds from STRFTIME('%s') and the fraction
    # from the text, exactly (JULIANDAY() is a float, and SQLite's clock counts milliseconds).
    @staticmethod
    def epoch_micros(sql: str) -> str:
        fraction = f"CAST(ROUND(COALESCE(NULLIF(SUBSTR({sql}, 20, LENGTH({sql}) - 25), ''), '0') * 1000000) AS INTEGER)"
        return f"(STRFTIME('%s', SUBSTR({sql}, 1, 19)) * 1000000 + {fraction})"

    def temporal_subtraction(self, lhs: str, rhs: str, field: Field | None) -> str:
        if isinstance(field, DateTimeField):
            return f"({self.epoch_micros(lhs)} - {self.epoch_micros(rhs)})"
        return f"((STRFTIME('%s', {lhs}) - STRFTIME('%s', {rhs})) * 1000000)"

    def shift_datetime(self, moment: str, op: str, duration: str) -> str:
        total = f"({self.epoch_micros(moment)} {op} {duration})"
        micros = f"(({total} % 1000000 + 1000000) % 1000000)"  # % truncates towards zero: before 1970 too
        seconds = f"(({total} - {micros}) / 1000000)"
        fraction = f"CASE WHEN {micros} = 0 THEN '' ELSE PRINTF('.%06d', {micros}) END"
        return f"(STRFTIME('%Y-%m-%d %H:%M:%S', {seconds}, 'unixepoch') || {fraction} || '+00:00')"

    def now(self) -> str:
        return "STRFTIME('%Y-%m-%d %H:%M:%f+00:00', 'now')"  # as stored: compares with columns as text

    def field_converter(self, field: Field) -> Callable[[Any], Any] | None:
        if isinstance(field, DecimalField) and field.decimal_places is not None:
            # DECIMAL columns hold REAL values: 4.5 comes back as Decimal("4.5"), not "4.50".
            quantize = field.quantize

            def convert(value: Any) -> Any:
                return None if value is None else quantize(value)

            return convert
        return None
