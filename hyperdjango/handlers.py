"""Typed handlers: a handler's signature, analysed once at route registration into a plan.

The plan knows, for every parameter, where its value comes from (path, query,
header, cookie, body, form, a dependency, the request) and its type. Per request
it reads the raw values, converts and validates them with msgspec in one call
(the JSON body is decoded and validated in one pass, in C), resolves
dependencies and calls the handler; there is no ``inspect`` per request. A
handler whose parameters are only the request and the path parameters gets no
plan at all and is called as before.

>>> import msgspec
>>> class Item(msgspec.Struct):
...     name: str
...     price: float
>>> async def create(request, item: Item, dry_run: bool = False): ...
>>> plan = HandlerPlan.for_route(create, path_names=(), options={})
>>> [(p.name, p.source) for p in plan.dependant.params], [b.name for b in plan.dependant.bodies]
([('dry_run', 'query')], ['item'])
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import msgspec

from .datastructures import UploadFile
from .params import REQUIRED, Body, Depends, File, Form, Header, Param
from .responses import Response
from .shaping import ResponsePlan
from .sync import sync_to_async
from .validation import RequestValidationError, msgspec_error, pydantic_errors

_NOT_GIVEN: Any = object()
_TOO_DEEP = {"loc": ["body"], "msg": "Invalid JSON: nested too deeply", "type": "json_invalid"}
_NOT_JSON = {"loc": ["body"], "msg": "Expected a JSON body (Content-Type: application/json)", "type": "content_type"}


def _declares_json(request: Any) -> bool:
    """Whether the body may be read as JSON: no Content-Type, application/json or
    application/*+json, as FastAPI decides. A cross-site form can post text/plain or
    urlencoded bodies shaped like JSON without a preflight; reading those would let it forge
    a typed request (CSRF on a csrf_exempt endpoint)."""
    value = request.headers.get("content-type")
    if value is None:
        return True
    mime = value.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


def is_pydantic_model(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic ``BaseModel`` class (pydantic stays optional)."""
    return isinstance(tp, type) and hasattr(tp, "model_validate_json") and hasattr(tp, "model_json_schema")


def uses_pydantic(tp: Any) -> bool:
    """Whether a pydantic model is ``tp`` or appears in it (``list[Model]``, ``Model | None``):
    such types are validated by pydantic (a ``TypeAdapter``), the rest by msgspec."""
    return is_pydantic_model(tp) or any(uses_pydantic(a) for a in typing.get_args(tp))


def is_structure(tp: Any) -> bool:
    """A type read from a JSON body: a Struct, dataclass, TypedDict or pydantic model,
    or a list/dict/union of them."""
    if isinstance(tp, type) and (
        issubclass(tp, msgspec.Struct) or dataclasses.is_dataclass(tp) or typing.is_typeddict(tp) or is_pydantic_model(tp)
    ):
        return True
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return is_structure(typing.get_args(tp)[0])
    if origin is not None:
        return any(is_structure(a) for a in typing.get_args(tp))
    return False


def _is_list(tp: Any) -> bool:
    base, _ = split_optional(tp)
    if typing.get_origin(base) is Annotated:
        base = typing.get_args(base)[0]
    return typing.get_origin(base) in (list, set, frozenset, tuple, Sequence)


def split_optional(tp: Any) -> tuple[Any, bool]:
    """``X | None`` → ``(X, True)``; anything else → ``(tp, False)``."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        rest = [a for a in args if a is not type(None)]
        if len(rest) < len(args):
            return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True  # noqa: UP007 - a Union of types known at run time
    return tp, False


def constrained(tp: Any, marker: Param | None) -> Any:
    """``tp`` with the marker's constraints and docs as ``msgspec.Meta`` (on the
    non-None part of an optional type, where msgspec wants them)."""
    if marker is None:
        return tp
    meta = dict(marker.constraints)
    for key in ("title", "description", "examples"):
        if getattr(marker, key) is not None:
            meta[key] = getattr(marker, key)
    if not meta:
        return tp
    base, optional = split_optional(tp)
    if not marker.constraints:
        return Annotated[tp, msgspec.Meta(**meta)]
    typed = Annotated[base, msgspec.Meta(**meta)]  # type: ignore[valid-type]  # a type known at run time
    return typed | None if optional else typed


@dataclasses.dataclass(slots=True)
class ParamSpec:
    """One value read from the request: its parameter name, source, key and type."""

    name: str
    source: str
    key: str
    type: Any
    default: Any
    marker: Param | None
    many: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclasses.dataclass(slots=True)
class BodySpec:
    """The JSON body, or one key of it when the body is embedded."""

    name: str
    type: Any
    default: Any
    marker: Param | None
    embed: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclasses.dataclass(slots=True)
class SubDependency:
    """A parameter (or route-level entry, ``name=None``) filled by a provider."""

    name: str | None
    depends: Depends
    dependant: Dependant


class Dependant:
    """A callable (handler or provider) and what its parameters need, analysed once."""

    def __init__(self, call: Callable[..., Any], path_names: Sequence[str], *, first_is_request: bool = True) -> None:
        self.call = call
        self.params: list[ParamSpec] = []
        self.bodies: list[BodySpec] = []
        self.forms: list[ParamSpec] = []
        self.dependencies: list[SubDependency] = []
        self.request_names: list[str] = []
        try:
            hints = typing.get_type_hints(call, include_extras=True)
        except Exception:  # a name only the caller's scope knows: see the raw annotations below
            hints = {}
        target = call if inspect.isfunction(call) or inspect.ismethod(call) else getattr(call, "__call__", call)
        if not hints:
            with contextlib.suppress(Exception):
                hints = typing.get_type_hints(target, include_extras=True)
        for position, p in enumerate(inspect.signature(call).parameters.values()):
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            self._add(p, hints.get(p.name, p.annotation), path_names, position == 0 and first_is_request)
        self.is_async_gen = inspect.isasyncgenfunction(call)
        self.is_gen = inspect.isgeneratorfunction(call)
        self.is_async = inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(getattr(call, "__call__", None))
        #: What to await: the call itself, or a plain ``def`` run in the thread pool.
        self.awaitable_call = call if self.is_async or self.is_gen or self.is_async_gen else sync_to_async(call, thread_sensitive=False)
        self._scalars = _scalar_struct(self.params)
        self._body = _body_reader(self.bodies)

    def _add(self, p: inspect.Parameter, annotation: Any, path_names: Sequence[str], may_be_request: bool) -> None:
        from .requests import Request

        marker: Any = None
        tp = Any if annotation is inspect.Parameter.empty else annotation
        if isinstance(tp, str):
            raise TypeError(
                f"{getattr(self.call, '__qualname__', self.call)}: the annotation {tp!r} of {p.name!r} cannot be resolved "
                "(a class defined inside a function under `from __future__ import annotations`?); "
                "define the type at module level"
            )
        if typing.get_origin(tp) is Annotated:
            base, *extras = typing.get_args(tp)
            for extra in extras:
                if isinstance(extra, (Param, Depends)):
                    marker = extra
            if marker is not None:
                rest = [e for e in extras if e is not marker]
                tp = Annotated[(base, *rest)] if rest else base
        default = REQUIRED if p.default is inspect.Parameter.empty else p.default
        if isinstance(default, (Param, Depends)):
            marker, default = default, (default.default if isinstance(default, Param) else REQUIRED)
        elif isinstance(marker, Param) and marker.default is not REQUIRED and default is REQUIRED:
            default = marker.default
        if isinstance(marker, Depends):
            self.dependencies.append(SubDependency(p.name, marker, Dependant(marker.dependency, path_names, first_is_request=False)))
            return
        if tp is Request or (marker is None and p.name == "request") or (
            marker is None and may_be_request and annotation is inspect.Parameter.empty
            and default is REQUIRED and p.name not in path_names
        ):
            self.request_names.append(p.name)
            return
        if isinstance(marker, Form):  # File is a Form
            key = marker.alias or p.name
            typed = tp if isinstance(marker, File) else constrained(tp, marker)
            self.forms.append(ParamSpec(p.name, marker.source, key, typed, default, marker, _is_list(tp)))
            return
        if isinstance(marker, Body) or (marker is None and p.name not in path_names and is_structure(tp)):
            self.bodies.append(BodySpec(p.name, constrained(tp, marker), default, marker, bool(getattr(marker, "embed", False))))
            return
        source = marker.source if marker is not None else "path" if p.name in path_names else "query"
        key = marker.alias or p.name if marker is not None else p.name
        if isinstance(marker, Header) and marker.alias is None and marker.convert_underscores:
            key = p.name.replace("_", "-")
        if source == "path":
            default = REQUIRED
        self.params.append(ParamSpec(p.name, source, key, constrained(tp, marker), default, marker, _is_list(tp)))

    def is_trivial(self) -> bool:
        """True when only the request and path parameters without markers are asked for:
        the router already converted those (``{id:int}``), so no plan is needed."""
        return not (self.bodies or self.forms or self.dependencies) and all(
            p.source == "path" and p.marker is None for p in self.params
        )

    # -- per request ----------------------------------------------------------------

    async def solve(self, request: Any, ctx: _Resolution) -> dict[str, Any]:
        """The keyword arguments for ``call``; errors are collected in ``ctx``."""
        values: dict[str, Any] = {}
        for sub in self.dependencies:
            value = await ctx.provide(sub, request)
            if sub.name is not None:
                values[sub.name] = value
        for name in self.request_names:
            values[name] = request
        if self._scalars is not None:
            self._read_scalars(request, values, ctx.errors)
        if self._body is not None:
            await self._body(request, values, ctx)
        if self.forms:
            await self._read_forms(request, values, ctx.errors)
        return values

    def _read_scalars(self, request: Any, values: dict[str, Any], errors: list[dict[str, Any]]) -> None:
        raw: dict[str, Any] = {}
        refused: set[str] = set()
        for p in self.params:
            value = _read(request, p)
            if value is _NOT_GIVEN:
                continue
            if p.source == "query" and _holds_nul(value):
                errors.append({"loc": [p.source, p.key], "msg": "Text must not contain a NUL character", "type": "string_nul"})
                refused.add(p.name)
                continue
            raw[p.name] = value
        try:
            converted = msgspec.convert(raw, self._scalars, strict=False)
        except msgspec.ValidationError:
            # Only on failure: check each value alone so that every error is reported.
            for p in self.params:
                if p.name in refused:
                    continue
                if p.name not in raw:
                    if p.required:
                        errors.append({"loc": [p.source, p.key], "msg": "Field required", "type": "missing"})
                    continue
                try:
                    msgspec.convert(raw[p.name], p.type, strict=False)
                except msgspec.ValidationError as e:
                    errors.append({**msgspec_error(e, [p.source, p.key]), "input": raw[p.name]})
            return
        for p in self.params:
            values[p.name] = getattr(converted, p.name)

    async def _read_forms(self, request: Any, values: dict[str, Any], errors: list[dict[str, Any]]) -> None:
        form = await request.form()
        for p in self.forms:
            given = form.getlist(p.key) if p.many else form.get(p.key, _NOT_GIVEN)
            if given is _NOT_GIVEN or (p.many and not given):
                if p.required:
                    errors.append({"loc": [p.source, p.key], "msg": "Field required", "type": "missing"})
                else:
                    values[p.name] = copy.copy(p.default)
                continue
            if p.source == "file":
                files = given if p.many else [given]
                if not all(isinstance(f, UploadFile) for f in files):
                    errors.append({"loc": [p.source, p.key], "msg": "Expected an uploaded file", "type": "file_type"})
                    continue
                base, _ = split_optional(p.type)
                if base is bytes or (p.many and bytes in typing.get_args(base)):
                    files = [await f.read() for f in files]
                values[p.name] = files if p.many else files[0]
                continue
            try:
                values[p.name] = msgspec.convert(given, p.type, strict=False)
            except msgspec.ValidationError as e:
                errors.append({**msgspec_error(e, [p.source, p.key]), "input": given})


def _read(request: Any, p: ParamSpec) -> Any:
    source = p.source
    if source == "path":
        return request.params.get(p.key, _NOT_GIVEN)
    if source == "query":
        query = request.query_unchecked  # NUL is checked per declared parameter (422)
        if p.many:
            return query.getlist(p.key) or _NOT_GIVEN
        return query.get(p.key, _NOT_GIVEN)
    if source == "header":
        if p.many:
            return request.headers.getlist(p.key) or _NOT_GIVEN
        return request.headers.get(p.key, _NOT_GIVEN)
    return request.cookies.get(p.key, _NOT_GIVEN)


def _holds_nul(value: Any) -> bool:
    return "\x00" in value if isinstance(value, str) else any("\x00" in v for v in value)


def _field_default(default: Any) -> Any:
    if isinstance(default, (list, dict, set)) and default:
        return msgspec.field(default_factory=functools.partial(copy.copy, default))
    return default


def _scalar_struct(params: list[ParamSpec]) -> type[msgspec.Struct] | None:
    """One Struct for every path/query/header/cookie value: one msgspec call per request."""
    if not params:
        return None
    fields = [(p.name, p.type) if p.required else (p.name, p.type, _field_default(p.default)) for p in params]
    fields.sort(key=lambda f: len(f) == 3)  # required fields first, as Structs want
    return msgspec.defstruct("Parameters", fields)


def _body_reader(bodies: list[BodySpec]) -> Callable[..., Any] | None:
    """The coroutine that decodes and validates the JSON body into the body parameters."""
    if not bodies:
        return None
    if len(bodies) == 1 and not bodies[0].embed:
        spec = bodies[0]
        if uses_pydantic(spec.type):
            import pydantic

            validate = pydantic.TypeAdapter(spec.type).validate_json

            async def read_pydantic(request: Any, values: dict[str, Any], ctx: _Resolution) -> None:
                raw = request._raw.body
                if not raw:
                    _missing_body(spec, values, ctx)
                    return
                if not _declares_json(request):
                    ctx.errors.append(_NOT_JSON)
                    return
                try:
                    values[spec.name] = validate(raw)
                except RecursionError:
                    ctx.errors.append(_TOO_DEEP)
                except pydantic.ValidationError as e:
                    ctx.errors.extend(pydantic_errors(e, ["body"]))

            return read_pydantic
        # Lax, as pydantic is: JSON Schema's integers include 2.0, and clients send "2" for 2.
        decoder = msgspec.json.Decoder(spec.type, strict=False)
        loc: list[Any] = ["body"]

        def assign(values: dict[str, Any], decoded: Any) -> None:
            values[spec.name] = decoded
    else:
        fields = [(b.name, b.type) if b.required else (b.name, b.type, _field_default(b.default)) for b in bodies]
        fields.sort(key=lambda f: len(f) == 3)
        for b in bodies:
            if uses_pydantic(b.type):
                raise TypeError(f"body parameter {b.name!r}: a pydantic model must be the only body parameter")
        decoder = msgspec.json.Decoder(msgspec.defstruct("Body", fields), strict=False)
        loc = ["body"]
        spec = BodySpec("", Any, REQUIRED if any(b.required for b in bodies) else None, None)

        def assign(values: dict[str, Any], decoded: Any) -> None:
            for b in bodies:
                values[b.name] = getattr(decoded, b.name)

    async def read(request: Any, values: dict[str, Any], ctx: _Resolution) -> None:
        raw = request._raw.body
        if not raw:
            if spec.name == "" and not spec.required:
                assign(values, decoder.decode(b"{}"))
            else:
                _missing_body(spec, values, ctx)
            return
        if not _declares_json(request):
            ctx.errors.append(_NOT_JSON)
            return
        try:
            assign(values, decoder.decode(raw))
        except (msgspec.ValidationError, msgspec.DecodeError) as e:
            ctx.errors.append(msgspec_error(e, list(loc)))
        except RecursionError:  # a hostile body of nested arrays: the client's fault, not a 500
            ctx.errors.append(_TOO_DEEP)

    return read


def _missing_body(spec: BodySpec, values: dict[str, Any], ctx: _Resolution) -> None:
    if spec.required:
        ctx.errors.append({"loc": ["body"], "msg": "Field required", "type": "missing"})
    else:
        values[spec.name] = spec.default


class _Resolution:
    """The state of one request's resolution: errors, the provider cache, and the exit
    stack of yield-providers (made only when one is used)."""

    __slots__ = ("errors", "cache", "stack")

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        self.cache: dict[Any, Any] = {}
        self.stack: contextlib.AsyncExitStack | None = None

    async def _enter(self, manager: Any, is_async: bool) -> Any:
        if self.stack is None:
            self.stack = contextlib.AsyncExitStack()
        return await self.stack.enter_async_context(manager) if is_async else self.stack.enter_context(manager)

    async def close(self, exc: BaseException | None) -> None:
        """Runs the cleanups after ``yield`` (throwing ``exc`` in, if the request failed)."""
        if self.stack is not None:
            await self.stack.__aexit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None)

    async def provide(self, sub: SubDependency, request: Any) -> Any:
        call = sub.depends.dependency
        if sub.depends.use_cache and call in self.cache:
            return self.cache[call]
        dependant = sub.dependant
        kwargs = await dependant.solve(request, self)
        if self.errors:
            return None  # the request fails with 422; the provider is not called
        if dependant.is_async_gen:
            value = await self._enter(contextlib.asynccontextmanager(call)(**kwargs), True)
        elif dependant.is_gen:
            value = await self._enter(contextlib.contextmanager(call)(**kwargs), False)
        else:
            value = await dependant.awaitable_call(**kwargs)
        if sub.depends.use_cache:
            self.cache[call] = value
        return value


class HandlerPlan:
    """What a route does per request: resolve, call, shape the result.

    Built by :meth:`for_route`, which returns None for a handler that needs
    nothing but the request and its path parameters.
    """

    def __init__(self, dependant: Dependant, dependencies: list[SubDependency], response: ResponsePlan | None) -> None:
        self.dependant = dependant
        self.dependencies = dependencies
        self.response = response
        self._call = dependant.awaitable_call
        # Route-level dependencies run first; their values are not passed on.
        self._root = Dependant(lambda: None, ())
        self._root.dependencies = dependencies

    @classmethod
    def for_route(cls, endpoint: Callable[..., Any], path_names: Sequence[str], options: dict[str, Any]) -> HandlerPlan | None:
        dependant = Dependant(endpoint, path_names)
        dependencies = [
            SubDependency(None, d, Dependant(d.dependency, path_names, first_is_request=False))
            for d in options.get("dependencies") or ()
        ]
        response = ResponsePlan.for_route(endpoint, options)
        if dependant.is_trivial() and not dependencies and response is None:
            return None
        return cls(dependant, dependencies, response)

    def all_dependants(self) -> list[Dependant]:
        """The handler's and every provider's analysis, depth first (for the OpenAPI document)."""
        seen: list[Dependant] = []

        def walk(d: Dependant) -> None:
            seen.append(d)
            for sub in d.dependencies:
                walk(sub.dependant)

        for sub in self.dependencies:
            walk(sub.dependant)
        walk(self.dependant)
        return seen

    def security(self) -> list[Any]:
        """The security schemes (hyperdjango.security) the handler depends on, anywhere in the tree."""
        from .security import SecurityScheme

        return [d.call for d in self.all_dependants() if isinstance(d.call, SecurityScheme)]

    async def __call__(self, request: Any) -> Any:
        ctx = _Resolution()
        try:
            if self.dependencies:
                await self._root.solve(request, ctx)
            kwargs = await self.dependant.solve(request, ctx)
            if ctx.errors:
                raise RequestValidationError(ctx.errors)
            result = await self._call(**kwargs)
            if self.response is not None and not isinstance(result, Response):
                result = self.response.shape(result)
        except BaseException as exc:
            # A provider that swallows the exception does not turn a failure into a success.
            await ctx.close(exc)
            raise
        await ctx.close(None)
        return result
