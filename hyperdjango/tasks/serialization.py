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
import math
import uuid
from typing import Any

import orjson

from .errors import SerializationError

#: A tagged value is a one-key object whose key is one of these.
_TAGS = {
    "$datetime": datetime.datetime.fromisoformat,
    "$date": datetime.date.fromisoformat,
    "$time": datetime.time.fromisoformat,
    "$decimal": decimal.Decimal,
    "$uuid": uuid.UUID,
}


class _NotJSON(Exception):
    """Raised inside the walk; carries the path to the offending value, built while unwinding."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.path: list[str] = []


def _tag(value: Any) -> Any:
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
    raise _NotJSON(type(value).__name__)


def _encode(value: Any) -> Any:
    """``value`` checked and made JSON-ready (tagged) in one walk; orjson writes the rest."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if not math.isfinite(value):  # orjson would write null: refuse, as JSON has no NaN
            raise _NotJSON(f"float {value}")
        return value
    if kind is list or kind is tuple:
        out = []
        for i, item in enumerate(value):
            try:
                out.append(_encode(item))
            except _NotJSON as e:
                e.path.append(f"[{i}]")
                raise
        return out
    if kind is dict:
        encoded = {}
        for key, item in value.items():
            if type(key) is not str:
                error = _NotJSON(type(key).__name__)
                error.path.append(f" (key {key!r})")
                raise error
            try:
                encoded[key] = _encode(item)
            except _NotJSON as e:
                e.path.append(f".{key}")
                raise
        return encoded
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return value  # str and int subclasses (enums): stored as their value
    if isinstance(value, float):
        return _encode(float(value))
    return _tag(value)


def _decode(value: Any) -> Any:
    if type(value) is dict:
        if len(value) == 1:
            key, item = next(iter(value.items()))
            parse = _TAGS.get(key)
            if parse is not None and type(item) is str:
                return parse(item)
        return {k: _decode(v) for k, v in value.items()}
    if type(value) is list:
        return [_decode(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """``value`` as JSON text; raises :class:`SerializationError` naming the first
    value that is not JSON (dict keys must be strings: JSON would turn ``1`` into
    ``"1"`` silently; NaN and infinities are not JSON either)."""
    try:
        ready = _encode(value)
    except _NotJSON as e:
        path = "$" + "".join(reversed(e.path))
        raise SerializationError(
            f"task data must be JSON (plus datetime, date, time, Decimal, UUID): {e.kind} at {path} is not"
        ) from None
    return orjson.dumps(ready).decode()


def loads(text: str) -> Any:
    """The value :func:`dumps` encoded (tuples come back as lists)."""
    value = orjson.loads(text)
    return _decode(value) if '"$' in text else value  # nothing tagged: no second walk


def dumps_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """One task call's arguments as JSON text (checked at enqueue time)."""
    return dumps({"args": args, "kwargs": kwargs})


def loads_call(text: str) -> tuple[list[Any], dict[str, Any]]:
    """The positional and keyword arguments :func:`dumps_call` encoded."""
    call = loads(text)
    return call["args"], call["kwargs"]
