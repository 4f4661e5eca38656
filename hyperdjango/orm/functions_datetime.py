"""Date and time functions with Django's names and results (``django.db.models.functions.datetime``).

>>> from hyperdjango.expressions import ExtractYear, Trunc, TruncMonth, Now
>>> ExtractYear("published")
ExtractYear(F('published'))
>>> Trunc("created", "hour")
Trunc(F('created'), 'hour')

The ``Extract*`` classes are also the transforms of filters (``published__year=2024``,
``created__hour__gte=9``) and ``TruncDate``/``TruncTime`` the ``__date``/``__time`` ones:
each is registered on the field types it applies to, so a filter and an annotation
compile to the same SQL. ``QuerySet.dates()``/``datetimes()`` group by ``Trunc``.

Datetimes are stored in UTC and seen in the current time zone (:mod:`hyperdjango.timezone`:
the ``time_zone`` setting, or what ``timezone.activate``/``override`` chose), or in ``tzinfo=``
(a ``zoneinfo.ZoneInfo`` or ``datetime.timezone``) when given, as Django does with ``USE_TZ``.
A truncated datetime is read back as the same instant in UTC (hyperdjango's datetimes are
always UTC). Zones with daylight saving time work on both backends: PostgreSQL's
``AT TIME ZONE``, and on SQLite the engine's functions with the IANA rules built in.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from ..timezone import get_current_timezone
from .exceptions import NotSupportedError
from .expressions import Expression, Func
from .fields import DateField, DateTimeField, DurationField, Field, IntegerField, TimeField

if TYPE_CHECKING:
    from .sql.compiler import SQLCompiler

#: Parts of a date, and of a time: which fields each can be extracted from.
DATE_PARTS = frozenset({"year", "iso_year", "month", "day", "week_day", "iso_week_day", "week", "quarter"})
TIME_PARTS = frozenset({"hour", "minute", "second"})
#: What a duration has (PostgreSQL's fields of an interval: days are not months or years).
DURATION_PARTS = frozenset({"day", "hour", "minute", "second"})

#: Truncation kinds: the date ones (weeks start on Monday) and the time ones.
DATE_KINDS = ("year", "quarter", "month", "week", "day")
TIME_KINDS = ("hour", "minute", "second")


def _field_label(field: Field | None) -> str:
    name = getattr(field, "name", None)
    return f"{type(field).__name__} {name!r}" if name else type(field).__name__


class TimezoneMixin:
    """``tzinfo=``: the zone a datetime is seen in; without it, the current time zone
    (:func:`hyperdjango.timezone.get_current_timezone`, when the query is compiled), as Django's."""

    tzinfo: datetime.tzinfo | None = None

    def zone(self, field: Field | None) -> datetime.tzinfo | None:
        """The zone to convert ``field``'s values to; None: none to convert (not a datetime, or UTC)."""
        if not isinstance(field, DateTimeField):
            if self.tzinfo is not None:  # a ValueError, as Django's
                raise ValueError(f"{type(self).__name__}: tzinfo can only be used with a DateTimeField, not {_field_label(field)}")
            return None
        zone = self.tzinfo or get_current_timezone()
        return None if zone.utcoffset(None) == datetime.timedelta(0) else zone


class Extract(TimezoneMixin, Func):
    """A part of a date, time or datetime as an integer: ``Extract("published", "year")``.

    ``week_day`` counts from Sunday = 1, ``iso_week_day`` from Monday = 1, ``week`` and
    ``iso_year`` are ISO-8601's; ``second`` drops the fraction. NULL for NULL.

    A duration gives its ``day``, ``hour``, ``minute`` or ``second`` field, as PostgreSQL's
    ``EXTRACT`` of an interval (``timedelta(days=-1, seconds=5)`` is day -1, second 5); SQLite
    stores durations as microseconds and refuses, as Django does (ValueError).
    """

    lookup_name: str | None = None

    def __init__(self, expression: Any, lookup_name: str | None = None, tzinfo: datetime.tzinfo | None = None) -> None:
        name = lookup_name or self.lookup_name
        if name is None:
            raise ValueError("Extract: lookup_name must be provided")
        if name not in DATE_PARTS | TIME_PARTS:
            raise ValueError(f"Extract: {name!r} is not a part; one of {', '.join(sorted(DATE_PARTS | TIME_PARTS))}")
        super().__init__(expression)
        self.lookup_name = name
        if tzinfo is not None:
            self.tzinfo = tzinfo

    def __repr__(self) -> str:
        if type(self).lookup_name is None:
            return f"Extract({self.source[0]!r}, {self.lookup_name!r})"
        return super().__repr__()

    def infer_output(self, source: list[Any]) -> Field:
        field = source[0].output_field
        if isinstance(field, DurationField):
            if self.lookup_name not in DURATION_PARTS:  # Django's refusal, word for word
                raise ValueError(f"Cannot extract component {self.lookup_name!r} from {_field_label(field)}")
            self.zone(field)
            return IntegerField()
        parts = DATE_PARTS | TIME_PARTS if isinstance(field, DateTimeField) else DATE_PARTS if isinstance(field, DateField) else TIME_PARTS if isinstance(field, TimeField) else None
        if parts is None:  # a ValueError, as Django's
            raise ValueError(f"Extract requires a DateField, DateTimeField, TimeField or DurationField, not {_field_label(field)}")
        if self.lookup_name not in parts:
            kind = "time" if self.lookup_name in TIME_PARTS else "date"
            raise ValueError(f"Cannot extract {kind} component {self.lookup_name!r} from {_field_label(field)}")
        self.zone(field)
        return IntegerField()

    def as_sql(self, c: SQLCompiler) -> str:
        assert self.lookup_name is not None  # __init__ refuses an Extract without a part
        source = self.source[0]
        return c.ops.datetime_transform(self.lookup_name, source.as_sql(c), source.output_field, self.zone(source.output_field))


class ExtractYear(Extract):
    """The year (``__year``)."""

    lookup_name = "year"


class ExtractIsoYear(Extract):
    """The ISO-8601 week-numbering year."""

    lookup_name = "iso_year"


class ExtractMonth(Extract):
    """The month, 1-12 (``__month``)."""

    lookup_name = "month"


class ExtractDay(Extract):
    """The day of the month, 1-31 (``__day``)."""

    lookup_name = "day"


class ExtractWeekDay(Extract):
    """The day of the week, Sunday = 1 ... Saturday = 7 (Django's, not ISO's)."""

    lookup_name = "week_day"


class ExtractIsoWeekDay(Extract):
    """The ISO day of the week, Monday = 1 ... Sunday = 7."""

    lookup_name = "iso_week_day"


class ExtractWeek(Extract):
    """The ISO-8601 week number (1-53); early January can be in the previous year's last week."""

    lookup_name = "week"


class ExtractQuarter(Extract):
    """The quarter of the year, 1-4 (``__quarter``)."""

    lookup_name = "quarter"


class ExtractHour(Extract):
    """The hour, 0-23 (``__hour``)."""

    lookup_name = "hour"


class ExtractMinute(Extract):
    """The minute, 0-59 (``__minute``)."""

    lookup_name = "minute"


class ExtractSecond(Extract):
    """The second, 0-59 (``__second``)."""

    lookup_name = "second"


class Trunc(TimezoneMixin, Func):
    """A date, time or datetime truncated to ``kind``: ``Trunc("created", "month")``.

    Kinds: year, quarter, month, week (to Monday), day for dates and datetimes; hour,
    minute, second for datetimes and times. The result has the expression's type, or
    ``output_field``'s (``Trunc("created", "day", output_field=DateField())`` is a date).
    """

    kind: str | None = None

    def __init__(self, expression: Any, kind: str | None = None, output_field: Field | None = None, tzinfo: datetime.tzinfo | None = None) -> None:
        kind = kind or self.kind
        if kind not in DATE_KINDS + TIME_KINDS:
            raise ValueError(f"Trunc: kind {kind!r} is not one of {', '.join(DATE_KINDS + TIME_KINDS)}")
        super().__init__(expression, output_field=output_field)
        self.kind = kind
        if tzinfo is not None:
            self.tzinfo = tzinfo

    def __repr__(self) -> str:
        if type(self).kind is None:
            return f"Trunc({self.source[0]!r}, {self.kind!r})"
        return super().__repr__()

    def resolved(self, source: list[Any]) -> Trunc:
        new = super().resolved(source)
        assert isinstance(new, Trunc)  # Func.resolved returns a copy of self
        new.check_types(source[0].output_field, new.output_field)
        return new

    def infer_output(self, source: list[Any]) -> Field | None:
        field = source[0].output_field
        return type(field)() if field is not None else None

    def check_types(self, field: Field | None, output: Field | None) -> None:
        """Django's refusals: only dates, times and datetimes; a date has no hours, a time no days."""
        kinds = (DateField, DateTimeField, TimeField)
        if not isinstance(field, kinds):  # a TypeError, as Django's
            raise TypeError(f"Trunc requires a DateField, DateTimeField or TimeField, not {_field_label(field)}")
        if not isinstance(output, kinds):
            raise ValueError(f"Trunc: output_field must be a DateField, TimeField or DateTimeField, not {type(output).__name__}")
        if isinstance(field, DateField) and (self.kind in TIME_KINDS or isinstance(output, DateTimeField)):
            raise ValueError(f"Cannot truncate {_field_label(field)} to {self.kind!r} as a {type(output).__name__}: a date has no time")
        if isinstance(field, TimeField) and self.kind in DATE_KINDS:
            raise ValueError(f"Cannot truncate {_field_label(field)} to {self.kind!r}: a time has no date")
        if isinstance(output, TimeField) != isinstance(field, TimeField) or isinstance(output, DateField) and self.kind in TIME_KINDS:
            raise ValueError(f"Trunc: output_field {type(output).__name__} cannot hold {_field_label(field)} truncated to {self.kind!r}")
        self.zone(field)

    def as_sql(self, c: SQLCompiler) -> str:
        # __init__ refuses a Trunc without a kind; resolved() gave it an output field (check_types)
        assert self.kind is not None and self.output_field is not None
        source = self.source[0]
        zone = self.zone(source.output_field)
        return c.ops.truncate(self.kind, source.as_sql(c), source.output_field, type(self.output_field), zone)


class TruncYear(Trunc):
    """Truncated to the first day of its year."""

    kind = "year"


class TruncQuarter(Trunc):
    """Truncated to the first day of its quarter."""

    kind = "quarter"


class TruncMonth(Trunc):
    """Truncated to the first day of its month."""

    kind = "month"


class TruncWeek(Trunc):
    """Truncated to the Monday of its ISO week."""

    kind = "week"


class TruncDay(Trunc):
    """Truncated to the start of its day."""

    kind = "day"


class TruncHour(Trunc):
    """Truncated to the start of its hour."""

    kind = "hour"


class TruncMinute(Trunc):
    """Truncated to the start of its minute."""

    kind = "minute"


class TruncSecond(Trunc):
    """Truncated to its whole second."""

    kind = "second"


class TruncDate(TimezoneMixin, Func):
    """The date of a datetime (in the current time zone, or in ``tzinfo``); the ``__date``
    transform. A date is its own date (``tzinfo`` changes nothing: a date has no zone)."""

    lookup_name = "date"

    def __init__(self, expression: Any, tzinfo: datetime.tzinfo | None = None) -> None:
        super().__init__(expression)
        if tzinfo is not None:
            self.tzinfo = tzinfo

    def infer_output(self, source: list[Any]) -> Field:
        field = source[0].output_field
        if not isinstance(field, (DateField, DateTimeField, TimeField)):  # a TypeError, as Django's
            raise TypeError(f"{type(self).__name__} requires a DateField, DateTimeField or TimeField, not {_field_label(field)}")
        output = DateField() if self.lookup_name == "date" else TimeField()
        if not isinstance(field, DateTimeField) and not self.is_own(field):  # a ValueError, as Django's
            raise ValueError(f"Cannot truncate {_field_label(field)} to {type(output).__name__}")
        return output

    def is_own(self, field: Field | None) -> bool:
        """Whether the value is already what is asked: a date's date, a time's time."""
        return isinstance(field, TimeField if self.lookup_name == "time" else DateField)

    def as_sql(self, c: SQLCompiler) -> str:
        source = self.source[0]
        if self.is_own(source.output_field):
            return source.as_sql(c)
        return c.ops.datetime_transform(self.lookup_name, source.as_sql(c), source.output_field, self.zone(source.output_field))


class TruncTime(TruncDate):
    """The time of day of a datetime (in the current time zone, or in ``tzinfo``); the
    ``__time`` transform. A time is its own time."""

    lookup_name = "time"


class Now(Func):
    """The current date and time (UTC) of the database: the transaction's start on
    PostgreSQL (``STATEMENT_TIMESTAMP()``, as Django), the statement's on SQLite."""

    def __init__(self) -> None:
        super().__init__(output_field=DateTimeField())

    def as_sql(self, c: SQLCompiler) -> str:
        return c.ops.now()


class TemporalSubtraction(Expression):
    """``F("due") - F("created")`` of two dates or two datetimes: a ``timedelta``."""

    def __init__(self, lhs: Expression, rhs: Expression) -> None:
        self.lhs, self.rhs = lhs, rhs
        self.output_field = DurationField()  # (a Field is a descriptor: not a class attribute)
        if lhs.contains_aggregate or rhs.contains_aggregate:
            self.contains_aggregate = True

    def children(self) -> tuple[Expression, ...]:
        return (self.lhs, self.rhs)

    def as_sql(self, c: SQLCompiler) -> str:
        return c.ops.temporal_subtraction(self.lhs.as_sql(c), self.rhs.as_sql(c), self.lhs.output_field)


class DurationShift(Expression):
    """``F("at") + timedelta(days=1)``, ``F("at") - F("duration")``: a datetime moved by a duration."""

    def __init__(self, moment: Expression, op: str, duration: Expression) -> None:
        self.moment, self.op, self.duration = moment, op, duration
        self.output_field = DateTimeField()
        if moment.contains_aggregate or duration.contains_aggregate:
            self.contains_aggregate = True

    def children(self) -> tuple[Expression, ...]:
        return (self.moment, self.duration)

    def as_sql(self, c: SQLCompiler) -> str:
        return c.ops.shift_datetime(self.moment.as_sql(c), self.op, self.duration.as_sql(c))


def temporal_arithmetic(op: str, lhs: Expression, rhs: Expression) -> Expression | None:
    """Django's date arithmetic for resolved ``lhs op rhs``, or None when it is not about dates:
    a date minus a date (or datetime minus datetime) is a duration, a datetime plus or minus a
    duration a datetime. Durations among themselves are plain arithmetic."""
    left, right = lhs.output_field, rhs.output_field
    moments = (DateTimeField, DateField, TimeField)
    if op == "-" and isinstance(left, moments) and type(left) is type(right):
        if isinstance(left, TimeField):
            raise NotSupportedError("a time minus a time: subtract datetimes (a time of day has no date to cross)")
        return TemporalSubtraction(lhs, rhs)
    if op in ("+", "-") and isinstance(left, DateTimeField) and isinstance(right, DurationField):
        return DurationShift(lhs, op, rhs)
    if op == "+" and isinstance(left, DurationField) and isinstance(right, DateTimeField):
        return DurationShift(rhs, op, lhs)
    if isinstance(left, DurationField) != isinstance(right, DurationField) and isinstance(left if isinstance(right, DurationField) else right, moments):
        raise NotSupportedError(f"{type(left).__name__} {op} {type(right).__name__}: durations add to datetimes only (Cast a date to a DateTimeField first)")
    return None


EXTRACTS = (ExtractYear, ExtractIsoYear, ExtractMonth, ExtractDay, ExtractWeekDay, ExtractIsoWeekDay, ExtractWeek, ExtractQuarter)
_extract: type[Extract]  # the date parts, then the time parts
for _extract in EXTRACTS:
    DateField.register_lookup(_extract)
    DateTimeField.register_lookup(_extract)
for _extract in (ExtractHour, ExtractMinute, ExtractSecond):
    TimeField.register_lookup(_extract)
    DateTimeField.register_lookup(_extract)
DateTimeField.register_lookup(TruncDate)
DateTimeField.register_lookup(TruncTime)

__all__ = [
    "Extract", "ExtractDay", "ExtractHour", "ExtractIsoWeekDay", "ExtractIsoYear", "ExtractMinute", "ExtractMonth", "ExtractQuarter",
    "ExtractSecond", "ExtractWeek", "ExtractWeekDay", "ExtractYear", "Now", "Trunc", "TruncDate", "TruncDay", "TruncHour", "TruncMinute",
    "TruncMonth", "TruncQuarter", "TruncSecond", "TruncTime", "TruncWeek", "TruncYear",
]
