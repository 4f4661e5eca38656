"""The current time zone, as Django's ``django.utils.timezone``: the zone the ORM's date
functions (``Extract*``, ``Trunc*``, ``__date``/``__year``... filters, ``dates()`` and
``datetimes()``) see datetimes in when they are given no ``tzinfo=``.

The default is the project's ``time_zone`` setting (``HyperApp(time_zone=...)``, else
``$HYPERDJANGO_TIME_ZONE``, else UTC); :func:`activate` or :func:`override` change it for the
current task (a context variable: concurrent requests each keep their own, as Django's
``asgiref.local.Local`` does).

>>> import zoneinfo
>>> from hyperdjango import timezone
>>> timezone.get_current_timezone_name()
'UTC'
>>> with timezone.override(zoneinfo.ZoneInfo("Europe/Paris")):
...     timezone.get_current_timezone_name()
'Europe/Paris'
>>> timezone.get_current_timezone_name()
'UTC'

Stored datetimes are always aware and in UTC (Django's ``USE_TZ = True``, which has no
off switch here): the zone changes what a date function computes, never what is stored.
"""

from __future__ import annotations

import contextlib
import datetime
import zoneinfo
from contextvars import ContextVar
from types import TracebackType

from . import settings

#: The zone :func:`activate` set for this task; None: the default zone.
_active: ContextVar[datetime.tzinfo | None] = ContextVar("hyperdjango_timezone", default=None)


def get_default_timezone() -> zoneinfo.ZoneInfo:
    """The project's zone: the ``time_zone`` setting (UTC unless set)."""
    return zoneinfo.ZoneInfo(settings.current().time_zone)


def get_default_timezone_name() -> str:
    """The name of :func:`get_default_timezone`."""
    return settings.current().time_zone


def get_current_timezone() -> datetime.tzinfo:
    """The zone activated for this task, else the default zone."""
    return _active.get() or get_default_timezone()


def get_current_timezone_name() -> str:
    """The current zone's name: a ``ZoneInfo``'s key, else what ``tzname()`` says."""
    return timezone_name(get_current_timezone())


def current_zone_token() -> datetime.tzinfo | str:
    """The current zone as cheaply as it can be named: the activated ``tzinfo``, else the
    default's name. SQL compiled in one zone is cached under it (the compiled-SQL cache)."""
    # settings.current() written out: this runs per query (the compiled-SQL and chain keys).
    return _active.get() or settings._current.time_zone


def timezone_name(zone: datetime.tzinfo) -> str:
    """``zone``'s name, as Django's ``_get_timezone_name``."""
    key = getattr(zone, "key", None)
    return key if isinstance(key, str) else str(zone.tzname(None))


def activate(zone: datetime.tzinfo | str) -> None:
    """Makes ``zone`` (a ``tzinfo`` or an IANA name) the current zone of this task."""
    if isinstance(zone, str):
        zone = zoneinfo.ZoneInfo(zone)
    if not isinstance(zone, datetime.tzinfo):
        raise ValueError(f"Invalid timezone: {zone!r}")
    _active.set(zone)


def deactivate() -> None:
    """Back to the default zone for this task."""
    _active.set(None)


class override(contextlib.ContextDecorator):  # noqa: N801 (Django's name)
    """``with override(zone):`` (or ``@override(zone)``): ``zone`` is current inside, the
    previous zone after; ``override(None)`` is the default zone inside."""

    def __init__(self, zone: datetime.tzinfo | str | None) -> None:
        self.zone = zone
        self._previous: list[datetime.tzinfo | None] = []

    def __enter__(self) -> None:
        self._previous.append(_active.get())
        if self.zone is None:
            deactivate()
        else:
            activate(self.zone)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        _active.set(self._previous.pop())


__all__ = [
    "activate", "deactivate", "get_current_timezone", "get_current_timezone_name", "get_default_timezone",
    "get_default_timezone_name", "override", "timezone_name",
]
