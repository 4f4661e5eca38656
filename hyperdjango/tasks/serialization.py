"""Task arguments and results as JSON, with datetime, date, time, Decimal and UUID kept.

Every backend stores the same text, and the in-process queue round-trips it
too, so a task receives exactly what it would receive from the database
backend (and never an object the caller mutates afterwards).

>>> import datetime, decimal, uuid
>>> value = {"at": datetime.datetime(2024, 5, 1, 12, 30), "price": decimal.Decimal("9.99"), "id": uuid.UUID(int=1)}
>>> loads(dumps(value)) == value
True
>>> dumps({"file": open})
Traceback (most recent call last):
...
hyperdjango.tasks.errors.SerializationError: task data must be JSON (plus datetime, date, time, Decimal, UUID): builtin_function_or_method at $.file is not
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from typing import Any

from .errors import SerializationError

#: A tagged value is a one-key object whose key is one of these.
_TAGS = {
    "$datetime": datetime.datetime.fromisoformat,
    "$date": datetime.date.fromisoformat,
    "$time": datetime.time.fromisoformat,
    "$decimal": decimal.Decimal,
    "$uuid": uuid.UUID,
}


def _tag(value: Any) -> dict[str, str]:
    # datetime before date: a datetime is a date too.
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, datetime.time):
        return {"$time": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    raise TypeError


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        key, value = next(iter(obj.items()))
        parse = _TAGS.get(key)
        if parse is not None and isinstance(value, str):
            return parse(value)
    return obj


def _where(value: Any, path: str = "$") -> tuple[str, str] | None:
    """The path and type name of the first value that cannot be encoded."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return None
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            if found := _where(item, f"{path}[{i}]"):
                return found
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} (key {key!r})", type(key).__name__
            if found := _where(item, f"{path}.{key}"):
                return found
        return None
    try:
        _tag(value)
        return None
    except TypeError:
        return path, type(value).__name__


def dumps(value: Any) -> str:
    """``value`` as JSON text; raises :class:`SerializationError` naming the first
    value that is not JSON (dict keys must be strings: JSON would turn ``1`` into
    ``"1"`` silently)."""
    found = _where(value)
    if found is not None:
        path, kind = found
        raise SerializationError(
            f"task data must be JSON (plus datetime, date, time, Decimal, UUID): {kind} at {path} is not"
        )
    try:
        return json.dumps(value, default=_tag, separators=(",", ":"), allow_nan=False)
    except ValueError as e:  # NaN and infinities are not JSON
        raise SerializationError(f"task data must be JSON: {e}") from None


def loads(text: str) -> Any:
    """The value :func:`dumps` encoded (tuples come back as lists)."""
    return json.loads(text, object_hook=_untag)


def dumps_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """One task call's arguments as JSON text (checked at enqueue time)."""
    return dumps({"args": list(args), "kwargs": kwargs})


def loads_call(text: str) -> tuple[list[Any], dict[str, Any]]:
    call = loads(text)
    return call["args"], call["kwargs"]
