"""What ``hyper run module:attribute`` serves: a HyperApp, an ASGI 3 app or a WSGI app.

Detection looks at the callable: a HyperApp is served natively; an ``async``
callable (function, or object with an ``async def __call__``, like Django's
``ASGIHandler``) taking ``(scope, receive, send)`` is ASGI; a plain callable
taking ``(environ, start_response)`` is WSGI. ``--interface`` overrides it.
"""

from __future__ import annotations

import inspect
from typing import Any


def detect(target: Any) -> str:
    """``"hyper"``, ``"asgi"`` or ``"wsgi"`` for ``target``; ValueError if it is none.

    >>> async def asgi_app(scope, receive, send): ...
    >>> def wsgi_app(environ, start_response): ...
    >>> detect(asgi_app), detect(wsgi_app)
    ('asgi', 'wsgi')
    """
    from ..app import HyperApp

    if isinstance(target, HyperApp):
        return "hyper"
    if not callable(target):
        raise ValueError(f"{target!r} is not an app (expected a HyperApp, an ASGI app or a WSGI app)")
    call = target if inspect.isfunction(target) or inspect.ismethod(target) else getattr(target, "__call__", target)
    if inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(target):
        return "asgi"
    try:
        positional = [
            p for p in inspect.signature(call).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
    except (TypeError, ValueError):
        positional = []
    if len(positional) == 3 or any(p.kind == p.VAR_POSITIONAL for p in positional):
        return "asgi"  # a class instance whose __call__ returns an awaitable
    return "wsgi"


def servable(target: Any, interface: str = "auto", *, name: str = "app", threads: int = 32, root_path: str = "") -> Any:
    """An object with ``run``/``serve`` for ``target``, as ``interface`` (or detected)."""
    from .asgi import AsgiServer
    from .wsgi import WsgiServer

    not_an_app = f"hyper: {name!r} is not a HyperApp, an ASGI app or a WSGI app (expected module:attribute)"
    if target is None:
        raise SystemExit(not_an_app + ": the module has no such attribute")
    try:
        kind = detect(target) if interface == "auto" else interface
    except ValueError:
        raise SystemExit(f"{not_an_app}: it is {type(target).__name__}") from None
    if kind == "hyper":
        from ..app import HyperApp

        if not isinstance(target, HyperApp):
            raise SystemExit(f"hyper: {name!r} is not a HyperApp (expected module:attribute)")
        return target
    if kind == "asgi":
        return AsgiServer(target, title=name, root_path=root_path)
    return WsgiServer(target, title=name, threads=threads, root_path=root_path)
