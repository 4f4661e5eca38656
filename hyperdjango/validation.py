"""Request validation errors: what a typed handler raises for input that does not fit.

Every error is a dict in FastAPI's shape: ``loc`` (where: ``["body", "items", 2,
"price"]``, ``["query", "page"]``), ``msg`` (what is wrong) and ``type`` (a
stable kind such as ``missing``, ``int_type``, ``greater_than_equal``). The app
answers them with 422 ``{"detail": [...]}``; register your own handler for
:class:`RequestValidationError` to answer in another shape.
"""

from __future__ import annotations

import re
from typing import Any

from .responses import Response

_AT = re.compile(r" - at `\$(.*)`$")
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[(\.\.\.)\]")
_MISSING = re.compile(r"^Object missing required field `(.+)`$")
_EXPECTED = re.compile(r"^Expected `([^`]+)`, got `([^`]+)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(.+)`$")

_TYPE_NAMES = {"int": "int", "float": "float", "str": "string", "bool": "bool", "object": "dict", "array": "list", "null": "none"}

# msgspec's messages for failed constraints, with the kinds FastAPI/pydantic give them.
_CONSTRAINT_KINDS = tuple(
    (re.compile(pattern), kind)
    for pattern, kind in (
        (r"^Expected `\w+` >= ", "greater_than_equal"),
        (r"^Expected `\w+` > ", "greater_than"),
        (r"^Expected `\w+` <= ", "less_than_equal"),
        (r"^Expected `\w+` < ", "less_than"),
        (r"^Expected `\w+` that's a multiple of", "multiple_of"),
        (r"^Expected `str` of length >=", "string_too_short"),
        (r"^Expected `str` of length <=", "string_too_long"),
        (r"^Expected `str` matching regex", "string_pattern_mismatch"),
        (r"^Expected `(array|object)` of length >=", "too_short"),
        (r"^Expected `(array|object)` of length <=", "too_long"),
        (r"^Invalid enum value", "enum"),
    )
)


class RequestValidationError(Exception):
    """The request's parameters or body did not fit the handler's declared types.

    ``errors`` is the list of ``{"loc", "msg", "type"}`` dicts (plus ``input``
    where known). The default handler answers ``422 {"detail": errors}``.
    """

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors

    def __str__(self) -> str:
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in self.errors)


class ResponseValidationError(Exception):
    """A handler returned something that does not fit its response model (a bug: 500)."""


def request_validation_error(request: Any, exc: RequestValidationError) -> Response:
    """The default handler: ``422 {"detail": [{"loc", "msg", "type"}, ...]}``."""
    return Response.json({"detail": exc.errors}, status=422)


def msgspec_error(exc: Exception, loc: list[Any]) -> dict[str, Any]:
    """One error dict from a ``msgspec.ValidationError`` or ``DecodeError``, under ``loc``.

    >>> import msgspec
    >>> Item = msgspec.defstruct("Item", [("price", int)])
    >>> Order = msgspec.defstruct("Order", [("items", list[Item]), ("extra", dict[str, int], {})])
    >>> def error(body):
    ...     try:
    ...         msgspec.json.decode(body, type=Order)
    ...     except msgspec.ValidationError as e:
    ...         return msgspec_error(e, ["body"])
    >>> error(b'{"items": [{"price": 1}, {"price": "x"}]}')
    {'loc': ['body', 'items', 1, 'price'], 'msg': 'Expected `int`, got `str`', 'type': 'int_type'}
    >>> error(b'{"items": [{}]}')
    {'loc': ['body', 'items', 0, 'price'], 'msg': 'Field required', 'type': 'missing'}

    msgspec does not name the key of a dict value, so ``*`` stands for it:

    >>> error(b'{"items": [], "extra": {"a": "x"}}')['loc']
    ['body', 'extra', '*']
    """
    import msgspec

    text = str(exc)
    where = _AT.search(text)
    if where:
        text = text[: where.start()]
        for name, index, key in _PATH_PART.findall(where.group(1)):
            loc = [*loc, int(index) if index else "*" if key else name]
    if not isinstance(exc, msgspec.ValidationError):  # a DecodeError proper: not JSON at all
        return {"loc": loc, "msg": f"Invalid JSON: {text}", "type": "json_invalid"}
    missing = _MISSING.match(text)
    if missing:
        return {"loc": [*loc, missing.group(1)], "msg": "Field required", "type": "missing"}
    unknown = _UNKNOWN.match(text)
    if unknown:
        return {"loc": [*loc, unknown.group(1)], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
    return {"loc": loc, "msg": text, "type": _kind(text)}


def _kind(text: str) -> str:
    for pattern, kind in _CONSTRAINT_KINDS:
        if pattern.match(text):
            return kind
    expected = _EXPECTED.match(text)
    if expected:
        first = expected.group(1).split(" | ")[0]
        return f"{_TYPE_NAMES.get(first, first.replace(' ', '_'))}_type"
    return "value_error"


def pydantic_errors(exc: Any, loc: list[Any]) -> list[dict[str, Any]]:
    """The errors of a ``pydantic.ValidationError`` under ``loc`` (pydantic's shape is already FastAPI's)."""
    return [
        {"loc": [*loc, *e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
