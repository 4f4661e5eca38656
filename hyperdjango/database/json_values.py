"""JSON values on their way to a database column: refused when they cannot be stored
as they are, never changed silently.

JSON has no spelling for NaN and infinite floats (the response encoder writes ``null``,
which would store another value), and PostgreSQL's ``jsonb`` refuses U+0000 in text
while SQLite would keep it: all three are refused on both backends, with a message.

>>> unstorable({"scores": [1.5, float("nan")]})
'NaN and infinite floats cannot be stored in JSON (it has no spelling for them): found nan'
>>> unstorable({"name": "tea"}) is None
True
"""

from __future__ import annotations

import math
from typing import Any

from ..encoding import dumps as encode
from .errors import DataError


def unstorable(value: Any) -> str | None:
    """Why ``value`` (a JSON document) cannot be stored as it is, or None when it can."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return f"NaN and infinite floats cannot be stored in JSON (it has no spelling for them): found {value!r}"
        return None
    if isinstance(value, str):
        if "\x00" in value:
            return "text in a JSON value must not contain NUL characters (\\x00): PostgreSQL cannot store them"
        return None
    if isinstance(value, dict):
        items: Any = (item for pair in value.items() for item in pair)
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return None
    for item in items:
        reason = unstorable(item)
        if reason is not None:
            return reason
    return None


def dumps(value: Any) -> bytes:
    """``value`` as JSON text for a column; ``DataError`` when it cannot be stored as it is.

    >>> dumps({"a": [1, None]})
    b'{"a":[1,null]}'
    """
    text = encode(value)
    # The encoder writes NaN and infinities as null and U+0000 as \\u0000: look closer only then.
    if b"null" in text or b"\\u0000" in text:
        reason = unstorable(value)
        if reason is not None:
            raise DataError(reason)
    return text
