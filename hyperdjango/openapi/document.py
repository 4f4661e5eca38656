"""The OpenAPI 3.1 document of an app, made from its routes and their typed handlers.

JSON Schemas come from msgspec (``schema_components``: constraints, enums,
defaults, descriptions and examples carried over) or, for pydantic models,
from pydantic; named types go under ``components/schemas`` and are referenced.
"""

from __future__ import annotations

import inspect
import re
import typing
from typing import TYPE_CHECKING, Any

import msgspec

from ..handlers import is_pydantic_model, split_optional, uses_pydantic
from ..routing import HTTP, Route
from ..shaping import response_type

if TYPE_CHECKING:
    from ..app import HyperApp

REF = "#/components/schemas/{name}"

_PATH_PARAM = re.compile(r"{([A-Za-z0-9_]+)(?::([a-z]+))?}")
_CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
    "str": {"type": "string"},
    "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
    "uuid": {"type": "string", "format": "uuid"},
    "path": {"type": "string"},
}
_VALIDATION_ERROR = {
    "title": "ValidationError",
    "type": "object",
    "required": ["loc", "msg", "type"],
    "properties": {
        "loc": {"title": "Location", "type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"title": "Message", "type": "string"},
        "type": {"title": "Error Type", "type": "string"},
    },
}
_HTTP_VALIDATION_ERROR = {
    "title": "HTTPValidationError",
    "type": "object",
    "properties": {"detail": {"title": "Detail", "type": "array", "items": {"$ref": REF.format(name="ValidationError")}}},
}
_FILE = {"type": "string", "format": "binary"}


class _Schemas:
    """Collects the types the document needs; renders them all at once at the end."""

    def __init__(self) -> None:
        self.types: list[Any] = []
        self.pydantic: dict[str, dict[str, Any]] = {}
        self.slots: list[tuple[dict[str, Any], str, dict[str, Any]]] = []

    def ref(self, holder: dict[str, Any], key: str, tp: Any, **extra: Any) -> None:
        """``holder[key]`` becomes the schema of ``tp`` (plus ``extra`` keys, such as a
        ``default``) once the document is rendered."""
        base, optional = split_optional(tp)
        if is_pydantic_model(base):
            schema = base.model_json_schema(ref_template=REF.replace("{name}", "{model}"))
            self.pydantic.update(schema.pop("$defs", {}))
            self.pydantic[base.__name__] = schema
            ref = {"$ref": REF.format(name=base.__name__)}
            holder[key] = {"anyOf": [ref, {"type": "null"}]} if optional else ref
            return
        if uses_pydantic(tp):  # a container of pydantic models: pydantic's schema, $defs to components
            import pydantic

            schema = pydantic.TypeAdapter(tp).json_schema(ref_template=REF.replace("{name}", "{model}"))
            self.pydantic.update(schema.pop("$defs", {}))
            holder[key] = {**schema, **extra}
            return
        self.types.append(tp)
        self.slots.append((holder, key, extra))

    def render(self) -> dict[str, Any]:
        components: dict[str, Any] = dict(self.pydantic)
        if self.types:
            schemas, defined = msgspec.json.schema_components(self.types, ref_template=REF)
            components.update(defined)
            for (holder, key, extra), schema in zip(self.slots, schemas):
                holder[key] = {**schema, **extra}
        return components


#: The pattern of a text query parameter: anything but U+0000 (ECMA-262 syntax).
NO_NUL = "^[^\\u0000]*$"


def _is_text(tp: Any) -> bool:
    base = split_optional(tp)[0]
    if typing.get_origin(base) is typing.Annotated:
        base = typing.get_args(base)[0]
    return base is str


def _humanize(name: str) -> str:
    return name.replace("_", " ").strip().title()


def _param_object(p: Any, schemas: _Schemas) -> dict[str, Any]:
    param: dict[str, Any] = {"name": p.key, "in": p.source, "required": p.source == "path" or p.required}
    marker = p.marker
    if marker is not None:
        if marker.description:
            param["description"] = marker.description
        if marker.deprecated:
            param["deprecated"] = True
        if marker.examples:
            param["examples"] = {f"example{i}": {"value": v} for i, v in enumerate(marker.examples, 1)}
    if p.many and p.source == "query":
        param["style"], param["explode"] = "form", True
    extra = {} if p.required or p.default is None else {"default": msgspec.to_builtins(p.default)}
    if p.source == "query" and _is_text(p.type):
        # A NUL in a query value is refused with a 422 (no database stores it): say so.
        # At the top level, the pattern applies to the string whatever else the schema says.
        extra["pattern"] = NO_NUL
    schemas.ref(param, "schema", p.type, **extra)
    return param


def _operation(app: HyperApp, route: Route, method: str, schemas: _Schemas, operation_ids: set[str]) -> dict[str, Any]:
    options = route.options
    endpoint = route.endpoint
    name: str = route.name or getattr(endpoint, "__name__", None) or "view"
    doc = inspect.getdoc(endpoint) or ""
    summary, _, rest = doc.partition("\n\n")
    operation: dict[str, Any] = {
        "summary": options.get("summary") or (" ".join(summary.split()) if summary else _humanize(name)),
    }
    description = options.get("description") or rest.strip()
    if description:
        operation["description"] = description
    if options.get("tags"):
        operation["tags"] = list(options["tags"])
    op_id = options.get("operation_id") or f"{name}_{method.lower()}"
    while op_id in operation_ids:
        op_id += "_"
    operation_ids.add(op_id)
    operation["operationId"] = op_id
    if options.get("deprecated"):
        operation["deprecated"] = True

    plan = route.plan
    parameters: dict[tuple[str, str], dict[str, Any]] = {}
    converters = dict(_PATH_PARAM.findall(route.pattern))
    for param_name, converter in converters.items():
        parameters[("path", param_name)] = {
            "name": param_name, "in": "path", "required": True, "schema": dict(_CONVERTER_SCHEMAS[converter or "str"]),
        }
    validates = False
    if plan is not None:
        for dependant in plan.all_dependants():
            for p in dependant.params:
                if p.marker is None and p.source == "path":
                    continue  # the router's converter says it all
                if p.marker is not None and not p.marker.include_in_schema:
                    continue
                parameters[(p.source, p.key)] = _param_object(p, schemas)
                validates = True
        body = _request_body(plan, schemas)
        if body is not None:
            operation["requestBody"] = body
            validates = True
    if parameters:
        operation["parameters"] = list(parameters.values())

    status = str(options.get("status_code") or 200)
    ok: dict[str, Any] = {"description": options.get("response_description", "Successful Response")}
    response_plan = plan.response if plan is not None else None
    if response_plan is not None and response_plan.model is not None:
        media: dict[str, Any] = {}
        schemas.ref(media, "schema", response_type(response_plan.declared))
        ok["content"] = {"application/json": media}
    responses: dict[str, Any] = {status: ok}
    for code, extra in (options.get("responses") or {}).items():
        extra = dict(extra)
        model = extra.pop("model", None)
        response = {"description": extra.pop("description", _status_phrase(int(code))), **extra}
        if model is not None:
            media = {}
            schemas.ref(media, "schema", response_type(model))
            response["content"] = {"application/json": media}
        responses[str(code)] = response
    if validates and "422" not in responses:
        responses["422"] = {
            "description": "Validation Error",
            "content": {"application/json": {"schema": {"$ref": REF.format(name="HTTPValidationError")}}},
        }
    operation["responses"] = responses
    if plan is not None:
        security: list[dict[str, list[str]]] = [{s.scheme_name: []} for s in plan.security()]
        if security:
            operation["security"] = security
    return operation


def _request_body(plan: Any, schemas: _Schemas) -> dict[str, Any] | None:
    bodies = [b for d in plan.all_dependants() for b in d.bodies]
    forms = [f for d in plan.all_dependants() for f in d.forms]
    if bodies:
        media: dict[str, Any] = {}
        if len(bodies) == 1 and not bodies[0].embed:
            schemas.ref(media, "schema", bodies[0].type)
            required = bodies[0].required
        else:
            properties: dict[str, Any] = {}
            for b in bodies:
                schemas.ref(properties, b.name, b.type)
            media["schema"] = {"type": "object", "properties": properties, "required": [b.name for b in bodies if b.required]}
            required = any(b.required for b in bodies)
        return {"required": required, "content": {"application/json": media}}
    if forms:
        properties = {}
        for f in forms:
            if f.source == "file":
                properties[f.key] = {"type": "array", "items": _FILE} if f.many else dict(_FILE)
            else:
                schemas.ref(properties, f.key, f.type)
        has_files = any(f.source == "file" for f in forms)
        media_type = "multipart/form-data" if has_files else "application/x-www-form-urlencoded"
        schema = {"type": "object", "properties": properties, "required": [f.key for f in forms if f.required]}
        return {"required": any(f.required for f in forms), "content": {media_type: {"schema": schema}}}
    return None


def _status_phrase(code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Response"


def openapi_document(
    app: HyperApp,
    *,
    version: str = "0.1.0",
    description: str | None = None,
    servers: list[dict[str, Any]] | None = None,
    tags: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document (a dict) of ``app``'s HTTP routes.

    Routes with ``include_in_schema=False`` and WebSocket routes are left out.
    """
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    operation_ids: set[str] = set()
    schemes: dict[str, Any] = {}
    for route in app.routes:
        if route.kind != HTTP or not route.options.get("include_in_schema", True):
            continue
        path = _PATH_PARAM.sub(r"{\1}", route.pattern)
        item = paths.setdefault(path, {})
        for method in route.methods:
            item[method.lower()] = _operation(app, route, method, schemas, operation_ids)
        if route.plan is not None:
            for scheme in route.plan.security():
                schemes[scheme.scheme_name] = scheme.openapi
    components = schemas.render()
    if any("422" in op["responses"] for item in paths.values() for op in item.values()):
        components["ValidationError"] = _VALIDATION_ERROR
        components["HTTPValidationError"] = _HTTP_VALIDATION_ERROR
    info: dict[str, Any] = {"title": app.title, "version": version}
    if description:
        info["description"] = description
    document: dict[str, Any] = {"openapi": "3.1.0", "info": info, "paths": paths}
    if servers:
        document["servers"] = servers
    if tags:
        document["tags"] = tags
    if components or schemes:
        document["components"] = {}
        if components:
            document["components"]["schemas"] = dict(sorted(components.items()))
        if schemes:
            document["components"]["securitySchemes"] = schemes
    return document
