"""JSON encoding for responses: orjson, plus the types Django users return."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
from typing import Any

import msgspec
import orjson

# Datetimes are passed to `_default`: orjson writes time(0, 0, 0, 10000) as "00:00:00.10000"
# and cuts a UTC offset to whole minutes (-07:04:20 becomes -07:04, another instant).
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        # As Django's JSON encoder does: a string keeps every digit.
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, datetime.time):
        if value.utcoffset() is not None:
            raise TypeError("JSON cannot represent a timezone-aware time (it has no date to apply the offset to)")
        return value.isoformat()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, msgspec.Struct):
        return msgspec.structs.asdict(value)
    if isinstance(value, datetime.timedelta):
        return _iso_duration(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _iso_duration(delta: datetime.timedelta) -> str:
    """ISO 8601 as Django writes a duration: ``P1DT02H03M04.500000S``, ``-P0DT00H00M01S``."""
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    seconds, fraction = divmod(abs(micros), 1_000_000)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    sign = "-" if micros < 0 else ""
    fraction_text = f".{fraction:06d}" if fraction else ""
    return f"{sign}P{days}DT{hour:02d}H{minute:02d}M{second:02d}{fraction_text}S"


def _spelled_out(value: Any) -> Any:
    """``value`` with what orjson refuses and JSON can hold written out as Python's json
    module writes it: integers past 64 bits as exact numbers, strings with lone surrogates
    with ``\\udxxx`` escapes."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return orjson.Fragment(json.dumps(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return value if _INT64_MIN <= value <= _UINT64_MAX else orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {k: _spelled_out(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_spelled_out(v) for v in value]
    try:
        return _spelled_out(_default(value))
    except TypeError:
        return value  # None, floats, UUIDs, enums...: orjson writes them


def dumps(value: Any) -> bytes:
    """Encodes ``value`` as JSON bytes.

    Handles datetime, date, time, timedelta (ISO 8601, as Django), UUID, Decimal
    (as a string), dataclasses, msgspec Structs, sets and any object with a
    ``to_dict()`` method (model instances); integers of any size. NaN and
    infinite floats become ``null`` (JSON has no spelling for them).

    >>> import datetime, decimal, uuid
    >>> dumps({"at": datetime.date(2024, 1, 2), "price": decimal.Decimal("9.50")})
    b'{"at":"2024-01-02","price":"9.50"}'
    """
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        # The slow path, for values orjson refuses (integers past 64 bits, lone surrogates).
        try:
            return orjson.dumps(_spelled_out(value), default=_default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            raise exc from None


def loads(data: bytes | str) -> Any:
    """Decodes JSON; raises ``orjson.JSONDecodeError`` (a ``ValueError``) on bad input."""
    return orjson.loads(data)
