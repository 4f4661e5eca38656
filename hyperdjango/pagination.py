"""Pagination of a QuerySet from the request's query string, with ``next``/``previous`` links.

Three styles, each an awaited function returning a dict ready to return from a
view (``results`` are model instances, encoded with their public fields):

- :func:`paginate_limit_offset`: ``?limit=20&offset=40`` → ``count``, ``next``, ``previous``, ``results``.
- :func:`paginate_page_number`: ``?page=3&page_size=20`` → the same; a page past the end is a 404.
- :func:`paginate_keyset`: ``?cursor=...`` → ``next``, ``previous``, ``results``: no COUNT and no
  OFFSET, so page 1000 costs what page 1 costs, and rows inserted meanwhile do not shift pages.

Declare ``response_model=Page[ProductOut]`` (or ``CursorPage[...]``) to shape the items and
document the envelope in OpenAPI.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec

from . import encoding
from .exceptions import HTTPException
from .orm.exceptions import ValidationError
from .orm.expressions import Q
from .validation import RequestValidationError

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    """The envelope of a limit/offset or page-number page."""

    count: int
    next: str | None
    previous: str | None
    results: list[T]


class CursorPage(msgspec.Struct, Generic[T]):
    """The envelope of a keyset page."""

    next: str | None
    previous: str | None
    results: list[T]


def _link(request: Any, **changes: Any) -> str:
    """The request's URL with query parameters replaced (a None value removes one)."""
    parts = urlsplit(request.url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in changes]
    query.extend((k, str(v)) for k, v in changes.items() if v is not None)
    return urlunsplit(parts._replace(query=urlencode(query)))


#: The largest offset or page number taken: beyond it the SQL OFFSET would overflow a bigint.
_CEILING = 2**31 - 1


def _int_param(request: Any, name: str, default: int, minimum: int, clamp: int | None = None) -> int:
    """An integer query parameter in ``[minimum, 2**31 - 1]`` (422 otherwise), capped at ``clamp``."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw) if len(raw) <= 20 else _CEILING + 1
    except ValueError:
        raise RequestValidationError([{"loc": ["query", name], "msg": "Input should be a valid integer", "type": "int_parsing"}]) from None
    if value < minimum:
        raise RequestValidationError([{"loc": ["query", name], "msg": f"Input should be greater than or equal to {minimum}",
                                       "type": "greater_than_equal"}])
    if value > _CEILING:
        raise RequestValidationError([{"loc": ["query", name], "msg": f"Input should be less than or equal to {_CEILING}",
                                       "type": "less_than_equal"}])
    return min(value, clamp) if clamp is not None else value


async def paginate_limit_offset(request: Any, queryset: Any, *, default_limit: int = 20, max_limit: int = 100) -> dict[str, Any]:
    """``?limit=&offset=`` (limit capped at ``max_limit``)."""
    limit = _int_param(request, "limit", default_limit, 1, max_limit)
    offset = _int_param(request, "offset", 0, 0)
    count = await queryset.count()
    results = await queryset[offset : offset + limit]
    return {
        "count": count,
        "next": _link(request, limit=limit, offset=offset + limit) if offset + limit < count else None,
        "previous": None if offset == 0 else _link(request, limit=limit, offset=max(offset - limit, 0) or None),
        "results": list(results),
    }


async def paginate_page_number(
    request: Any, queryset: Any, *, page_size: int = 20, max_page_size: int = 100, page_size_param: str | None = "page_size"
) -> dict[str, Any]:
    """``?page=`` (from 1) and, when ``page_size_param`` is set, ``?page_size=``; a page
    past the last is a 404, as in Django's paginated list views."""
    size = _int_param(request, page_size_param, page_size, 1, max_page_size) if page_size_param else page_size
    page = _int_param(request, "page", 1, 1)
    count = await queryset.count()
    pages = max(1, -(-count // size))
    if page > pages:
        raise HTTPException(404, f"Invalid page {page}: there are {pages}")
    start = (page - 1) * size
    results = await queryset[start : start + size]
    return {
        "count": count,
        "next": _link(request, page=page + 1) if page < pages else None,
        "previous": _link(request, page=(page - 1) if page > 2 else None) if page > 1 else None,
        "results": list(results),
    }


def _cursor(values: list[Any], backwards: bool) -> str:
    raw = encoding.dumps({"v": values, "b": backwards})
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _read_cursor(text: str, fields: list[Any]) -> tuple[list[Any], bool]:
    try:
        data = encoding.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        values = [field.convert(v) for field, v in zip(fields, data["v"], strict=True)]
        return values, bool(data["b"])
    except (ValueError, TypeError, KeyError, binascii.Error, ValidationError) as e:
        raise HTTPException(400, "Invalid cursor") from e


def _after(names: list[str], values: list[Any], descending: bool, backwards: bool) -> Q:
    """Rows strictly after (or before) ``values`` in the order of ``names``."""
    op = "lt" if descending != backwards else "gt"
    condition: Q | None = None
    for i in range(len(names)):
        equal = {names[j]: values[j] for j in range(i)}
        term = Q(**equal, **{f"{names[i]}__{op}": values[i]})
        condition = term if condition is None else condition | term
    assert condition is not None
    return condition


async def paginate_keyset(
    request: Any, queryset: Any, *, ordering: str = "pk", page_size: int = 20, max_page_size: int = 100
) -> dict[str, Any]:
    """``?cursor=`` pages ordered by ``ordering`` (a non-null field, ``-`` for descending; the
    primary key breaks ties). Cursors are opaque; a forged one is a 400."""
    size = _int_param(request, "page_size", page_size, 1, max_page_size)
    meta = queryset.model._meta
    descending = ordering.startswith("-")
    name = ordering.lstrip("-")
    pk = meta.pk.name
    names = [pk] if name in ("pk", pk) else [name, pk]
    fields = [meta.field_map.get(n) for n in names]
    if None in fields or fields[0].null:
        raise ValueError(f"keyset pagination needs a non-null field of {queryset.model.__name__} to order by, not {ordering!r}")
    cursor = request.query.get("cursor")
    values: list[Any] | None = None
    backwards = False
    if cursor:
        values, backwards = _read_cursor(cursor, fields)
    qs = queryset
    if values is not None:
        qs = qs.filter(_after(names, values, descending, backwards))
    # Backwards, the rows before the cursor are read in reverse order, then put back.
    prefix = "-" if descending != backwards else ""
    rows = list(await qs.order_by(*(prefix + n for n in names))[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()

    def key(obj: Any) -> list[Any]:
        return [getattr(obj, n) for n in names]

    has_next = more if not backwards else True
    has_previous = more if backwards else values is not None
    return {
        "next": _link(request, cursor=_cursor(key(rows[-1]), False)) if rows and has_next else None,
        "previous": _link(request, cursor=_cursor(key(rows[0]), True)) if rows and has_previous else None,
        "results": rows,
    }
