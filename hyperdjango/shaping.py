"""Response shaping: a handler's return value validated and cut to its declared model.

A route's response model is ``response_model=`` or, failing that, the
handler's return annotation when it names a structure (``msgspec.Struct``,
dataclass, ``TypedDict``, pydantic model, an ORM model, or a list of one of
them). The value is converted to the model (attributes are read from objects,
so a model instance fits a Struct with the same field names) and only the
model's fields are encoded: what the model does not declare never leaves.

``response_model_include`` / ``response_model_exclude`` take field names (top
level); ``response_model_by_alias=False`` uses Python names instead of the
encoded names (``msgspec.field(name=...)``, pydantic aliases).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from . import encoding
from .responses import Response, to_response
from .validation import ResponseValidationError

_ENCODER = msgspec.json.Encoder()


def response_type(tp: Any) -> Any:
    """The type to validate against: ORM models become their public schema
    (:func:`hyperdjango.schemas.model_schema`), inside lists and optionals too."""
    from .orm.models import Model
    from .schemas import model_schema

    if isinstance(tp, type) and issubclass(tp, Model):
        return model_schema(tp)
    origin = typing.get_origin(tp)
    if origin is not None and origin is not typing.Annotated:
        args = tuple(response_type(a) for a in typing.get_args(tp))
        if origin in (typing.Union, types.UnionType):
            return typing.Union[args]  # noqa: UP007 - a Union of types known at run time
        return origin[args if len(args) > 1 else args[0]]
    return tp


def _shapes(tp: Any) -> bool:
    from .handlers import is_structure
    from .orm.models import Model

    if isinstance(tp, type) and issubclass(tp, Model):
        return True
    if typing.get_origin(tp) is not None:
        return any(_shapes(a) for a in typing.get_args(tp))
    return is_structure(tp)


class ResponsePlan:
    """The declared response of a route: model, status code, include/exclude."""

    def __init__(
        self,
        model: Any,
        status_code: int | None,
        include: set[str] | None = None,
        exclude: set[str] | None = None,
        by_alias: bool = True,
    ) -> None:
        from .handlers import uses_pydantic

        self.declared = model
        self.model = response_type(model) if model is not None else None
        self.status_code = status_code
        self.include = set(include) if include is not None else None
        self.exclude = set(exclude or ())
        self.by_alias = by_alias
        self._shape: Callable[[Any], Any]
        if self.model is None:
            self._shape = lambda value: value
        elif uses_pydantic(self.model):
            import pydantic

            self._adapter = pydantic.TypeAdapter(self.model)
            self._shape = self._pydantic
        else:
            self._shape = self._msgspec

    @classmethod
    def for_route(cls, endpoint: Callable[..., Any], options: dict[str, Any]) -> ResponsePlan | None:
        """The plan for ``options`` (``response_model``, ``status_code``, ...) or the return
        annotation; None when nothing is declared."""
        if "response_model" in options:
            model = options["response_model"]
        else:
            try:
                model = typing.get_type_hints(endpoint).get("return")
            except Exception:
                model = None
            if model is not None and not _shapes(model):
                model = None
        status = options.get("status_code")
        if model is None and status is None:
            return None
        return cls(
            model,
            status,
            options.get("response_model_include"),
            options.get("response_model_exclude"),
            options.get("response_model_by_alias", True),
        )

    def shape(self, result: Any) -> Any:
        """The Response for what the handler returned (a ``(body, status)`` tuple keeps its status)."""
        status = self.status_code or 200
        headers = None
        if isinstance(result, tuple) and 2 <= len(result) <= 3:
            result, status, *rest = result
            headers = rest[0] if rest else None
        if self.model is None:
            # None answers with no body (status_code=204 handlers return nothing).
            response = Response(b"") if result is None else to_response(result)
            response.status_code = int(status)
            if headers:
                for name, value in dict(headers).items():
                    response.headers[name] = value
            return response
        return Response(self._shape(result), status=int(status), headers=headers, media_type="application/json")

    def _msgspec(self, result: Any) -> bytes:
        if type(result) is self.model:
            # Already the model: it has exactly the model's fields, nothing to cut. (Struct
            # constructors do not check types; the handler that built it is trusted.)
            value = result
        else:
            try:
                value = msgspec.convert(result, self.model, from_attributes=True)
            except msgspec.ValidationError as e:
                raise ResponseValidationError(f"the response does not fit {_name(self.declared)}: {e}") from e
        if self.include is None and not self.exclude and self.by_alias:
            return _ENCODER.encode(value)
        return encoding.dumps(self._cut(value))

    def _cut(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._cut(v) for v in value]
        if isinstance(value, msgspec.Struct) and not self.by_alias:
            data = {f.name: msgspec.to_builtins(getattr(value, f.name)) for f in msgspec.structs.fields(value)}
        else:
            data = msgspec.to_builtins(value)
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if (self.include is None or k in self.include) and k not in self.exclude}

    def _pydantic(self, result: Any) -> bytes:
        import pydantic

        try:
            value = self._adapter.validate_python(result, from_attributes=True)
        except pydantic.ValidationError as e:
            raise ResponseValidationError(f"the response does not fit {_name(self.declared)}: {e}") from e
        return self._adapter.dump_json(value, include=self.include, exclude=self.exclude or None, by_alias=self.by_alias)


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", repr(tp))
