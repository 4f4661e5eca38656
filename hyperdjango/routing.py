"""Routes and routers: what the ``@app.get(...)`` family of decorators records."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .handlers import HandlerPlan
from .sync import sync_to_async

F = TypeVar("F", bound=Callable[..., Any])

_PARAM = re.compile(r"{([A-Za-z0-9_]+)(?::[a-z]+)?}")

HTTP = "http"
WEBSOCKET = "websocket"


class Route:
    """One pattern, its methods and its view.

    A view takes the request as its first argument (``async def view(request)``);
    it may also declare path parameters as keyword arguments
    (``async def view(request, id: int)``). A plain ``def`` view runs in the
    thread pool, never on the event loop.
    """

    __slots__ = ("pattern", "methods", "endpoint", "name", "kind", "guards", "options", "plan", "_call", "_wants_request", "_kwargs",
                 "_upgrades")

    def __init__(
        self,
        pattern: str,
        endpoint: Callable[..., Any],
        methods: Iterable[str],
        name: str | None = None,
        kind: str = HTTP,
        guards: Iterable[Any] = (),
        **options: Any,
    ) -> None:
        self.pattern = pattern
        self.endpoint = endpoint
        self.methods = tuple(m.upper() for m in methods)
        #: Whether WebSocket upgrades can match it (the engine routes them with this method
        #: only): the dispatcher asks the request whether it is one only then.
        self._upgrades = "WEBSOCKET" in self.methods
        self.name = name
        self.kind = kind
        #: Checks run before the view (see :class:`Router`); the first to return a response answers.
        self.guards = tuple(guards)
        #: The typed-API options (``response_model``, ``status_code``, ``dependencies``,
        #: ``tags``, ``summary``, ``deprecated``, ...): see docs/api.md.
        self.options = options
        names = _PARAM.findall(pattern)
        #: The typed-handler plan (hyperdjango.handlers), or None for a plain view.
        self.plan = HandlerPlan.for_route(endpoint, names, options) if kind == HTTP else None
        #: What a request calls: the plan, the view, or the view run in a thread.
        self._call: Callable[..., Any]
        self._kwargs: tuple[str, ...]
        if self.plan is not None:
            self._call, self._wants_request, self._kwargs = self.plan, True, ()
            return
        signature = inspect.signature(endpoint)
        parameters = list(signature.parameters.values())
        takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
        self._kwargs = tuple(n for n in names if takes_any or n in signature.parameters)
        first = parameters[0] if parameters else None
        self._wants_request = first is not None and first.kind in (
            first.POSITIONAL_ONLY,
            first.POSITIONAL_OR_KEYWORD,
        ) and first.name not in self._kwargs
        if inspect.iscoroutinefunction(endpoint) or inspect.iscoroutinefunction(getattr(endpoint, "__call__", None)):
            self._call = endpoint
        else:
            self._call = sync_to_async(endpoint, thread_sensitive=False)

    def call(self, request: Any) -> Any:
        """Calls the view; returns the awaitable of its result."""
        # Positional parameters only: a call with a fixed number of arguments is one
        # the 3.11 interpreter specializes (a ``*args`` signature goes through C).
        if not (self._kwargs or self.guards) and self._wants_request:
            return self._call(request)  # the plain `async def view(request)`: nothing to build
        kwargs = {n: request.params[n] for n in self._kwargs}
        args = (request,) if self._wants_request else ()
        if self.guards:
            return self._call_guarded(request, args, kwargs)
        return self._call(*args, **kwargs)

    async def _call_guarded(self, request: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        for guard in self.guards:
            refusal = await getattr(guard, "check", guard)(request)
            if refusal is not None:
                return refusal
        return await self._call(*args, **kwargs)

    def call_websocket(self, ws: Any, request: Any) -> Any:
        """Calls a WebSocket handler: ``handler(ws, request, **path_params_it_declares)``."""
        kwargs = {n: request.params[n] for n in self._kwargs}
        return self._call(ws, request, **kwargs)

    def __repr__(self) -> str:
        return f"Route({self.pattern!r}, methods={list(self.methods)}, name={self.name!r})"


class Router:
    """A group of routes that an app includes under a prefix.

    >>> api = Router()
    >>> @api.get("/items/{id:int}")
    ... async def item(request):
    ...     return {"id": request.params["id"]}
    >>> [r.pattern for r in api.routes]
    ['/items/{id:int}']

    ``app.include_router(api, prefix="/api")`` serves it at ``/api/items/{id:int}``.

    ``guards`` run before each of the router's views, also once included:
    each is ``async def guard(request)`` (or an object with such a ``check``
    method, as :func:`hyperdjango.auth.login_required` is) returning None to
    let the request through or a response to answer instead.
    """

    def __init__(self, prefix: str = "", guards: Iterable[Any] = (), *, tags: Iterable[str] = (), dependencies: Iterable[Any] = ()) -> None:
        self.prefix = prefix.rstrip("/")
        self.routes: list[Route] = []
        self.guards = tuple(guards)
        #: Added to every route of this router (OpenAPI tags; ``Depends`` run before each view).
        self.tags = list(tags)
        self.dependencies = list(dependencies)

    def add_route(
        self,
        pattern: str,
        endpoint: Callable[..., Any],
        methods: Iterable[str] = ("GET",),
        name: str | None = None,
        kind: str = HTTP,
        **options: Any,
    ) -> Route:
        """Registers a view without a decorator; ``options`` as for :meth:`route`."""
        route = Route(self.prefix + pattern, endpoint, methods, name, kind, self.guards, **_merged(options, self.tags, self.dependencies))
        self.routes.append(route)
        return route

    def route(self, pattern: str, methods: Iterable[str] = ("GET",), name: str | None = None, **options: Any) -> Callable[[F], F]:
        """Decorator: ``@app.route("/x", methods=["GET", "POST"])``.

        Typed-API options (docs/api.md): ``response_model``, ``status_code``,
        ``dependencies`` (a list of ``Depends``), ``response_model_include``/
        ``_exclude``/``_by_alias``, and for the OpenAPI document ``tags``,
        ``summary``, ``description``, ``deprecated``, ``responses``,
        ``operation_id``, ``include_in_schema``.
        """

        def decorate(view: F) -> F:
            self.add_route(pattern, view, methods, name, **options)
            return view

        return decorate

    def get(self, pattern: str, name: str | None = None, **options: Any) -> Callable[[F], F]:
        """GET (and HEAD) on ``pattern``."""
        return self.route(pattern, ("GET",), name, **options)

    def post(self, pattern: str, name: str | None = None, **options: Any) -> Callable[[F], F]:
        """``@router.post(pattern)``: the view answers POST at ``pattern`` (options as :meth:`route`)."""
        return self.route(pattern, ("POST",), name, **options)

    def put(self, pattern: str, name: str | None = None, **options: Any) -> Callable[[F], F]:
        """``@router.put(pattern)``: the view answers PUT at ``pattern`` (options as :meth:`route`)."""
        return self.route(pattern, ("PUT",), name, **options)

    def patch(self, pattern: str, name: str | None = None, **options: Any) -> Callable[[F], F]:
        """``@router.patch(pattern)``: the view answers PATCH at ``pattern`` (options as :meth:`route`)."""
        return self.route(pattern, ("PATCH",), name, **options)

    def delete(self, pattern: str, name: str | None = None, **options: Any) -> Callable[[F], F]:
        """``@router.delete(pattern)``: the view answers DELETE at ``pattern`` (options as :meth:`route`)."""
        return self.route(pattern, ("DELETE",), name, **options)

    def websocket(self, pattern: str, name: str | None = None) -> Callable[[F], F]:
        """A WebSocket endpoint: ``async def handler(ws, request)``."""

        def decorate(handler: F) -> F:
            self.add_route(pattern, handler, ("WEBSOCKET",), name, WEBSOCKET)
            return handler

        return decorate

    def include_router(self, router: Router, prefix: str = "", *, tags: Iterable[str] = (), dependencies: Iterable[Any] = ()) -> None:
        """Adds every route of ``router`` under ``prefix``, with ``tags`` and ``dependencies``
        (and this router's own) added to each."""
        prefix = prefix.rstrip("/")
        tags = [*self.tags, *tags]
        dependencies = [*self.dependencies, *dependencies]
        for route in router.routes:
            options = _merged(route.options, tags, dependencies)
            guards = self.guards + route.guards
            self.routes.append(Route(prefix + route.pattern, route.endpoint, route.methods, route.name, route.kind, guards, **options))


def _merged(options: dict[str, Any], tags: list[str], dependencies: list[Any]) -> dict[str, Any]:
    """``options`` with a router's tags and dependencies put before the route's own."""
    if tags:
        options = {**options, "tags": [*tags, *(t for t in options.get("tags", ()) if t not in tags)]}
    if dependencies:
        options = {**options, "dependencies": [*dependencies, *options.get("dependencies", ())]}
    return options


def default_names(routes: list[Route]) -> list[str | None]:
    """Each route's name: the explicit one, else the view's ``__name__`` when no
    other route would get the same default."""
    explicit = {r.name for r in routes if r.name}
    defaults = [getattr(r.endpoint, "__name__", None) for r in routes]
    counts: dict[str | None, int] = {}
    for r, d in zip(routes, defaults):
        if not r.name:
            counts[d] = counts.get(d, 0) + 1
    return [
        r.name or (d if d and counts[d] == 1 and d not in explicit and d != "<lambda>" else None)
        for r, d in zip(routes, defaults)
    ]
