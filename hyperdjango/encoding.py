"""JSON encoding for responses: orjson, plus the types Django users return."""

from __future__ import annotations

import dataclasses
import decimal
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    # orjson already handles datetime, date, time, UUID, dataclasses and enums.
    if isinstance(value, decimal.Decimal):
        # As Django's JSON encoder does: a string keeps every digit.
        return str(value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    """Encodes ``value`` as JSON bytes.

    Handles datetime, date, time, UUID, Decimal (as a string), dataclasses,
    sets and any object with a ``to_dict()`` method (model instances).

    >>> import datetime, decimal, uuid
    >>> dumps({"at": datetime.date(2024, 1, 2), "price": decimal.Decimal("9.50")})
    b'{"at":"2024-01-02","price":"9.50"}'
    """
    return orjson.dumps(value, default=_default, option=_OPTIONS)


def loads(data: bytes | str) -> Any:
    """Decodes JSON; raises ``orjson.JSONDecodeError`` (a ``ValueError``) on bad input."""
    return orjson.loads(data)
