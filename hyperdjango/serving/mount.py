"""``app.mount(prefix, other_app)``: requests the HyperApp has no route for fall
through to another ASGI 3 or WSGI app (a Django project, say), so views can
move over one at a time.

A request is the HyperApp's when its router finds a route for the path and
the method. Everything else below the prefix goes to the mounted app (a wrong
method too, so a view can move over for GET while Django keeps answering
POST), before the HyperApp's middleware: each side's
middleware applies to its own requests only. The mounted app sees the usual
ASGI scope with ``root_path`` set to the prefix (a WSGI app: ``SCRIPT_NAME``).

On the HyperApp's own server the mounted app runs on the engine's request as
an ``AsgiServer`` would run it (:func:`.asgi.run_app`); when the HyperApp itself
runs under another ASGI server, the mounted app gets that server's
``receive``/``send``. WSGI apps are adapted with asgiref's ``WsgiToAsgi``
(which reads the body in full before calling the app). WebSocket upgrades
below the prefix reach a mounted ASGI app too: each mount adds catch-all
``WEBSOCKET`` routes after the app's own (ids past ``app.routes``), so the
engine lets them through.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .asgi import AsgiApp, Lifespan, Scope, run_app, scope_of
from .interface import detect

log = logging.getLogger("hyperdjango.mount")


class Mount:
    """One mounted app below ``prefix``."""

    def __init__(self, prefix: str, app: Any, interface: str = "auto") -> None:
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        kind = detect(app) if interface == "auto" else interface
        if kind == "hyper":
            raise ValueError("mount a router with include_router(); mount() takes an ASGI or WSGI app")
        if kind == "wsgi":
            from asgiref.wsgi import WsgiToAsgi

            self.app: AsgiApp = WsgiToAsgi(app)
            self.lifespan: Lifespan | None = None
        else:
            self.app = app
            self.lifespan = Lifespan(app)

    def add_websocket_routes(self, router: Any) -> None:
        """Lets WebSocket upgrades below the prefix through the engine (it answers
        404 for an upgrade without a route). A WebSocket route of the HyperApp on
        the same pattern wins: the mount's is then left out."""
        for pattern in (self.prefix or "/", self.prefix + "/{path:path}"):
            try:
                router.add(pattern, ["WEBSOCKET"])
            except ValueError:
                log.debug("the HyperApp's own WebSocket route takes %s; not passed to the mounted app", pattern)

    def matches(self, path: str) -> bool:
        """Whether ``path`` is below the prefix."""
        return not self.prefix or path == self.prefix or path.startswith(self.prefix + "/")

    def scope_for(self, scope: Scope) -> Scope:
        """A scope of the HyperApp's host server, as the mounted app must see it."""
        return {**scope, "root_path": scope.get("root_path", "") + self.prefix}

    async def serve_pending(self, raw: Any) -> None:
        """Serves an engine request (the HyperApp's own server)."""
        state = self.lifespan.state if self.lifespan is not None else {}
        scope = scope_of(raw, root_path=self.prefix, path_prefix="", server=None, state=state)
        await run_app(self.app, raw, scope, asyncio.get_running_loop())


def find_mount(mounts: list[Mount], path: str) -> Mount | None:
    """The mount with the longest prefix that holds ``path``."""
    best = None
    for mount in mounts:
        if mount.matches(path) and (best is None or len(mount.prefix) > len(best.prefix)):
            best = mount
    return best
