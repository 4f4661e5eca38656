"""Schema classes made from ORM models: the public shape of a model for an API.

>>> from hyperdjango import Model, Field
>>> class Account(Model):
...     class Meta:
...         serialize_exclude = ["password_hash"]
...     email: str = Field(max_length=200)
...     password_hash: str = ""
>>> [f for f in model_schema(Account).__struct_fields__]
['id', 'email']
>>> model_schema(Account, exclude={"id"}, name="AccountIn").__struct_fields__
('email',)

``Meta.serialize_exclude`` fields are never part of a schema (nor of
``to_dict()``); ``include``/``exclude`` narrow it further. Column limits
(``max_length``, ``ge``/``le`` of integers and floats, ``min_length``, ``pattern``, choices) become
msgspec constraints, so a schema used as a body type validates like the
model does, and the OpenAPI document shows them.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import typing
import uuid
from collections.abc import Iterable
from typing import Annotated, Any

import msgspec

_JSON_TYPES = {int, float, str, bool, bytes, decimal.Decimal, datetime.datetime, datetime.date, datetime.time, uuid.UUID}


def _field_type(field: Any) -> Any:
    python_type = field.python_type
    tp: Any = python_type if python_type in _JSON_TYPES else Any
    meta: dict[str, Any] = {}
    if field.max_length is not None and tp is str:
        meta["max_length"] = field.max_length
    if field.min_length is not None and tp is str:
        meta["min_length"] = field.min_length
    if field.pattern is not None and tp is str:
        meta["pattern"] = field.pattern.pattern
    # msgspec has no bounds for Decimal: those stay checked by the model on save.
    if field.ge is not None and tp in (int, float):
        meta["ge"] = field.ge
    if field.le is not None and tp in (int, float):
        meta["le"] = field.le
    if field.choices:
        values = tuple(field.choices)
        if all(isinstance(v, (str, int)) for v in values):
            tp = typing.Literal[values]
            meta.clear()
    if meta:
        tp = Annotated[tp, msgspec.Meta(**meta)]
    return tp | None if field.null else tp


@functools.cache
def _schema(model: Any, include: frozenset[str] | None, exclude: frozenset[str], name: str) -> type[msgspec.Struct]:
    fields = [
        (f.name, _field_type(f))
        for f in model._meta.public_fields
        if (include is None or f.name in include) and f.name not in exclude
    ]
    return msgspec.defstruct(name, fields, module=model.__module__)


def model_schema(
    model: type,
    *,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    name: str | None = None,
) -> type[msgspec.Struct]:
    """A ``msgspec.Struct`` with the model's public fields (made once per arguments).

    Use it as a ``response_model=`` (an ORM model given as the response model
    means ``model_schema(Model)``) or, with ``exclude={"id"}``, as a body type.
    """
    return _schema(
        model,
        frozenset(include) if include is not None else None,
        frozenset(exclude),
        name or (model.__name__ if include is None and not exclude else f"{model.__name__}Schema"),
    )

