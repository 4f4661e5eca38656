"""The loop side of the bridge: drain requests, run views, answer synchronously."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import _core, encoding
from ..exceptions import HTTPException
from ..middleware import Handler, compose
from ..requests import Request
from ..responses import FileResponse, Response, StreamingResponse, aiterate, to_response
from ..routing import Route
from ..websockets import WebSocket, WebSocketDisconnect
from .mount import find_mount
from .tasks import run_eagerly

if TYPE_CHECKING:
    from .._core import PendingRequest, Server
    from ..app import HyperApp

log = logging.getLogger("hyperdjango.request")

#: Requests taken per wake-up before the loop gets a turn at other work.
BATCH = 256

# What StreamSender.try_send reports.
_FULL = 1
_CLOSED = 2

#: The headers of a dict answered as JSON (``Response.json``'s).
_JSON_HEADERS = (("content-type", "application/json"),)


class Dispatcher:
    """Runs the app for every request the engine hands over.

    ``on_readable`` is the loop's reader callback for the server's eventfd: it
    drains a batch and runs each request's first step at once, each in its own
    contextvars context (``run_eagerly``). A view that never suspends has
    answered before ``on_readable`` returns, without a Task; one that suspends
    goes on in a Task.
    """

    def __init__(self, app: HyperApp, server: Server, routes: list[Route], loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.server = server
        self.routes = routes
        self.loop = loop
        self.chain = compose(app.middleware, self.endpoint, self.answering_errors)
        self.websocket_chain = compose(app.middleware, self.websocket_endpoint, self.answering_errors)
        # Without middleware nothing needs a Response object between the view and the
        # socket: ``handle`` calls the view itself and answers a dict straight as JSON.
        self.bare = not app.middleware
        self.running: set[asyncio.Task] = set()

    def on_readable(self) -> None:
        batch = self.server.drain(BATCH)
        for raw in batch:
            task = run_eagerly(self.loop, self.handle(raw), contextvars.copy_context())
            if task is not None:
                # asyncio holds tasks weakly; a suspended view must stay alive.
                # ``handle`` removes its own task when it ends: no done callback
                # (one more loop callback per request) to schedule.
                self.running.add(task)
        if len(batch) == BATCH:
            self.loop.call_soon(self.on_readable)

    async def endpoint(self, request: Request) -> Response:
        """The innermost handler: the view, with its exceptions turned into responses."""
        route = request.route
        try:
            if route is None:
                location = request._raw.redirect
                if location is not None:  # a trailing-slash redirect (redirects_in_python)
                    return Response.redirect(location, status=301 if request.method in ("GET", "HEAD") else 308)
                allow = request._raw.allow
                if allow:
                    raise HTTPException(405, headers={"allow": ", ".join(allow)})
                raise HTTPException(404)
            return to_response(await route.call(request), _view_name(route))
        except Exception as exc:
            return await self.answer_exception(request, exc)

    def answering_errors(self, inner: Handler) -> Handler:
        """Wraps one middleware: an exception raised in it (``HTTPException(401)``
        from an auth middleware) becomes a response as it does when a view
        raises it (its handler's, else a 500); and whatever it
        returns (a dict, a tuple...) becomes a Response, so the middleware
        outside always gets one."""

        async def call(request: Request) -> Response:
            try:
                return to_response(await inner(request), "middleware")
            except Exception as exc:
                return await self.answer_exception(request, exc)

        return call

    async def answer_exception(self, request: Request, exc: Exception) -> Response:
        """The response for ``exc``: its registered handler's, else a 500.

        As Django does inside each layer, an unhandled exception becomes a 500
        right where it is raised, so every middleware outside still sees a
        response and adds its headers (CORS, security) to the error too."""
        handler = self.app.exception_handler_for(exc)
        if handler is None:
            return self.app.server_error(request, exc)
        return await self.run_handler(handler, request, exc)

    async def run_handler(self, handler: Callable[..., Any], request: Request, exc: Exception) -> Response:
        result = handler(request, exc)
        if asyncio.iscoroutine(result):
            result = await result
        return to_response(result, "exception handler")

    async def websocket_endpoint(self, request: Request) -> Response:
        """The innermost handler of an upgrade request: the WebSocket handler.

        Returns ``_ACCEPTED`` once the connection was accepted (the 101 is
        already sent); a handler that returns without accepting refuses the
        upgrade with 403."""
        ws: WebSocket = request.websocket  # type: ignore[attr-defined]
        route = request.route
        assert route is not None  # the engine answers 404 for unrouted upgrades
        try:
            await route.call_websocket(ws, request)
        except WebSocketDisconnect:
            pass
        except Exception:
            if not ws.accepted:
                raise
            log.exception("WebSocket handler %s failed", getattr(route.endpoint, "__qualname__", route.pattern))
            await ws.close(1011, "internal error")
        if not ws.accepted:
            return Response.json({"detail": "the WebSocket handler did not accept the connection"}, status=403)
        await ws.close()
        return Response(b"", status=101)  # the 101 went out when the handler accepted

    async def handle_websocket(self, raw: PendingRequest, request: Request) -> None:
        request.websocket = WebSocket(raw, request)  # type: ignore[attr-defined]
        try:
            response = await self.websocket_chain(request)
        except Exception as exc:
            response = self.app.server_error(request, exc)
        if not raw.answered:  # refused: by a middleware's response, or the handler
            raw.respond(response.status_code, response._header_pairs(), response.body)

    async def handle(self, raw: PendingRequest) -> None:
        try:
            # Its route is None when nothing matched, or the id is past our routes (a mount's WebSocket route).
            request = raw.request(Request, self.app, self.routes)
            if request.route is None and self.app.mounts and (mounted := find_mount(self.app.mounts, request.path)) is not None:
                await mounted.serve_pending(raw)  # not this app's: its middleware stays out of it
                return
            route = request.route
            # Only a route that takes the WEBSOCKET method matches an upgrade: other
            # requests skip the ``is_websocket`` getter call.
            if (route is None or route._upgrades) and raw.is_websocket:
                await self.handle_websocket(raw, request)
                return
            if self.bare and route is not None:
                # ``endpoint``'s work for a routed request, less the Response a dict would need.
                try:
                    value = await route.call(request)
                    body = None
                    if type(value) is dict:
                        body = encoding.dumps(value)
                    elif type(value) is Response:  # the exact class: no isinstance walk
                        response = value
                    else:
                        response = value if isinstance(value, Response) else to_response(value, _view_name(route))
                except Exception as exc:
                    body = None
                    try:
                        response = await self.answer_exception(request, exc)
                    except Exception as failure:  # the exception handler raised
                        response = self.app.server_error(request, failure)
                if body is not None:
                    raw.respond(200, _JSON_HEADERS, body)
                    return
            else:
                # The chain always returns a Response: its outermost handler is either
                # ``endpoint`` or one wrapped by ``answering_errors``, which convert.
                try:
                    response = await self.chain(request)
                except Exception as exc:
                    response = self.app.server_error(request, exc)
            try:
                if type(response) is not Response and isinstance(response, (FileResponse, StreamingResponse)):
                    await self.send(raw, request, response)
                else:  # most responses: answered without one more coroutine
                    raw.respond(response.status_code, response._header_pairs(), response.body)
            except Exception as exc:  # a response that cannot be sent (bad header, file gone)
                log.exception("could not send the response to %s %s", request.method, request.path)
                if not raw.answered:
                    error = self.app.server_error(request, exc)
                    raw.respond(error.status_code, error._header_pairs(), error.body)
        finally:
            if self.running:  # empty while every view answers in its first step (``run_eagerly``)
                self.running.discard(asyncio.current_task(self.loop))  # with the loop: no getpid() syscall

    async def send(self, raw: PendingRequest, request: Request, response: FileResponse | StreamingResponse) -> None:
        """Sends a file or a streamed body (complete bodies are answered in ``handle``)."""
        if isinstance(response, FileResponse):
            self._send_file(raw, request, response)
        else:
            await self._stream(raw, response)

    def _send_file(self, raw: PendingRequest, request: Request, response: FileResponse) -> None:
        get = request.headers.get
        try:
            status, extra, body = _core.file_answer(
                response.path,
                request.method,
                get("if-none-match"),
                get("if-modified-since"),
                get("if-range"),
                get("range"),
                get("accept-encoding"),
                response.precompressed,
            )
        except FileNotFoundError:
            missing = Response.json({"detail": "Not Found"}, status=404)
            raw.respond(404, missing._header_pairs(), missing.body)
            return
        headers = response.headers
        for name, value in extra:
            headers.setdefault(name, value)
        if body is None:  # 304 and 416 carry no body
            keep = ("etag", "last-modified", "cache-control", "vary", "content-range")
            raw.respond(status, [(k, v) for k, v in headers.raw() if k in keep], b"")
            return
        path, offset, length = body
        raw.respond_file(status if status != 200 else response.status_code, headers.raw(), path, length, offset)

    async def _stream(self, raw: PendingRequest, response: StreamingResponse) -> None:
        sender = raw.respond_stream(response.status_code, response._header_pairs())
        chunks = aiterate(response.chunks)
        complete = False
        try:
            async for chunk in chunks:
                if isinstance(chunk, str):
                    chunk = chunk.encode("utf-8")
                state = sender.try_send(chunk)
                if state == _FULL:
                    # The client reads slower than we produce: wait off the loop.
                    if not await self.loop.run_in_executor(None, sender.send_blocking, chunk):
                        break
                elif state == _CLOSED:
                    break
            complete = True
        finally:
            if complete:
                sender.close()
            else:  # the iterator raised (or was cancelled): the client must not see a clean end
                sender.abort()
            await chunks.aclose()

    async def wait_idle(self, timeout: float) -> None:
        """Waits for running views to end; cancels those still running after ``timeout``."""
        if not self.running:
            return
        _, pending = await asyncio.wait(set(self.running), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1)


def _view_name(route: Route) -> str:
    """What a TypeError about the view's return value calls it."""
    return getattr(route.endpoint, "__qualname__", "view")
