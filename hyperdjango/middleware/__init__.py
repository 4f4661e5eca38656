"""Middleware: code that runs around every view.

Two shapes are accepted by ``app.use(...)``, first added = outermost:

- the spec's: an object or ``async def`` taking ``(request, next_handler)``
  and returning a response (``await next_handler(request)`` continues)::

      class TimingMiddleware:
          async def __call__(self, request, next_handler):
              response = await next_handler(request)
              response.headers["x-response-time"] = "..."
              return response

- Django's: a class or factory called once with ``get_response`` whose
  result is called with the request (``async def __call__(self, request)``,
  or a sync one, which runs in the thread pool as Django would run it).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from ..sync import async_to_sync, sync_to_async

Handler = Callable[[Any], Awaitable[Any]]


def _positional_count(func: Callable[..., Any]) -> int:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return 0
    return sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty)


def _is_async(func: Any) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(getattr(func, "__call__", None))


def wrap(middleware: Any, inner: Handler) -> Handler:
    """Returns the handler that runs ``middleware`` around ``inner``."""
    if inspect.isclass(middleware):
        if _positional_count(middleware.__init__) >= 2:  # self, get_response: Django's shape
            return _django(middleware, inner)
        middleware = middleware()
    elif not _is_async(middleware) and _positional_count(middleware) == 1:
        return _django(middleware, inner)  # a Django function factory
    if not _is_async(middleware):
        raise TypeError(
            f"middleware {middleware!r} must be async: `async def __call__(self, request, next_handler)`"
        )

    async def call(request: Any) -> Any:
        return await middleware(request, inner)

    return call


def _django(factory: Callable[[Handler], Any], inner: Handler) -> Handler:
    if _async_factory(factory):
        return factory(inner)
    # A sync Django middleware: get_response must block, so the chain below it
    # runs back on the loop through async_to_sync, exactly as Django adapts it.
    return sync_to_async(factory(async_to_sync(inner)), thread_sensitive=False)


def _async_factory(factory: Any) -> bool:
    if inspect.isclass(factory) and inspect.iscoroutinefunction(factory.__call__):
        return True
    # Django's @async_only_middleware / @sync_and_async_middleware set this.
    return bool(getattr(factory, "async_capable", False))


def compose(
    middlewares: list[Any],
    endpoint: Handler,
    guard: Callable[[Handler], Handler] | None = None,
) -> Handler:
    """The whole chain: ``middlewares[0]`` outermost, ``endpoint`` innermost.

    ``guard``, when given, wraps each middleware's handler (the server uses it
    to turn exceptions that have a registered handler into responses, so the
    middleware outside sees them as it sees the view's).
    """
    handler = endpoint
    for middleware in reversed(middlewares):
        handler = wrap(middleware, handler)
        if guard is not None:
            handler = guard(handler)
    return handler
