"""Serving any ASGI 3 application on the engine (``hyper run mysite.asgi:application``).

The engine does what it does for a HyperApp: parsing, limits, timers,
keep-alive, WebSocket sessions, graceful shutdown. Requests reach the loop
through the same bridge (one wake-up per batch); the router only sends
everything through (a catch-all that also admits WebSocket upgrades).

What ASGI needs beyond that:

- the body is pulled chunk by chunk (``http.request`` with ``more_body``):
  the server runs with ``stream_bodies=True`` and nothing is read from the
  socket before the app's ``receive`` asks (backpressure to the client). A
  body without one (GET) costs no round trip;
- ``http.disconnect`` once the response is complete, or as soon as the client
  goes away while the app is still working (Django 5 then cancels the view);
- responses: a single ``http.response.body`` goes out in one ``respond``; more
  (``more_body=True``) stream through the engine's bounded chunk channel.
  ``http.response.pathsend`` lets the engine send a file itself;
- WebSocket on the engine's sessions: accept (subprotocol), send, receive,
  close codes, and ``websocket.http.response`` to refuse with a response;
- lifespan with ``state`` (copied into each request's scope). An app that
  refuses lifespan (Django's raises on the scope type) still starts.

Header names arrive lower-cased (hyper parses them so; ASGI asks for lower
case), values as bytes exactly as received, in order, duplicates kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ..runtime import loop_bridge, running_bridge
from .engine import SEND_CLOSED, SEND_FULL, EngineServed
from .tasks import start_task

log = logging.getLogger("hyperdjango.asgi")

Scope = dict[str, Any]
Message = dict[str, Any]
AsgiApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}
#: Extensions this server implements (advertised in every scope).
HTTP_EXTENSIONS: dict[str, dict[str, Any]] = {"http.response.pathsend": {}}
WEBSOCKET_EXTENSIONS: dict[str, dict[str, Any]] = {"websocket.http.response": {}}


class ClientDisconnected(OSError):
    """``send`` after the client went away (ASGI asks for an OSError subclass)."""


class Lifespan:
    """Runs the app's lifespan protocol: startup before the first request,
    shutdown after the last. ``state`` is what the app stored for requests."""

    def __init__(self, app: AsgiApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self.supported = True
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._started = False

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": ASGI_VERSION, "state": self.state}
        try:
            await self.app(scope, self._inbox.get, self._outbox.put)
        except BaseException as exc:  # Django's ASGIHandler raises for the lifespan scope
            if self.supported and not self._started:
                log.info("the app does not support lifespan (%s: %s); serving without it", type(exc).__name__, exc)
            else:
                log.exception("lifespan failed")
            self.supported = False
        finally:
            await self._outbox.put({"type": "lifespan.ended"})

    async def _exchange(self, message: Message) -> None:
        await self._inbox.put(message)
        answer = await self._outbox.get()
        if answer["type"].endswith(".failed"):
            raise RuntimeError(f"{message['type']} failed: {answer.get('message', '')}")

    async def startup(self) -> None:
        """Sends ``lifespan.startup``; raises if the app reports failure."""
        self._task = asyncio.ensure_future(self._run())
        await self._exchange({"type": "lifespan.startup"})
        self._started = True

    async def shutdown(self) -> None:
        """Sends ``lifespan.shutdown`` (when the app took part) and waits for the answer."""
        if self.supported and self._task is not None and not self._task.done():
            await self._exchange({"type": "lifespan.shutdown"})
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=5)


class HttpCycle:
    """One HTTP request/response of an ASGI app on a ``PendingRequest``."""

    def __init__(self, raw: Any, scope: Scope, loop: asyncio.AbstractEventLoop) -> None:
        self.raw = raw
        self.scope = scope
        self.loop = loop
        self.start: Message | None = None
        self.sender: Any = None
        self.complete = False
        self.body_done = raw.body_complete
        self.request_sent = False
        #: Tasks waiting in ``receive`` for the end (one each: a cancelled waiter cancels only its own).
        self.waiters: list[asyncio.Future[None]] = []
        #: The engine's watch for the client going away, started by the first waiter.
        self.watch: Any = None
        self.disconnected = False

    async def receive(self) -> Message:
        if self.body_done:
            if self.request_sent:
                return await self.wait_disconnect()
            self.request_sent = True  # a request without a body still gets one http.request
            # A HyperApp's server reads bodies in full: a mounted app gets it in one message.
            body = b"" if self.raw.body_streamed else self.raw.body
            return {"type": "http.request", "body": body, "more_body": False}
        status, data, more = await self.raw.receive_body(loop_bridge())
        if status:
            # Too large, malformed or too slow: answered here as the engine would.
            self.body_done = True
            self.disconnected = True
            if not self.raw.answered:
                self.raw.respond(status, [("content-type", "application/json"), ("connection", "close")], _detail(data))
            return {"type": "http.disconnect"}
        self.request_sent = True
        self.body_done = not more
        return {"type": "http.request", "body": data, "more_body": more}

    async def wait_disconnect(self) -> Message:
        """``receive`` after the request: returns once the response is complete or the client left."""
        if not (self.complete or self.disconnected):
            waiter = self.loop.create_future()
            self.waiters.append(waiter)
            if self.watch is None:
                self.watch = self.raw.disconnected(loop_bridge())
                self.watch.add_done_callback(self.client_left)
            await waiter
        return {"type": "http.disconnect"}

    def client_left(self, _watch: Any = None) -> None:
        self.disconnected = True
        self.wake_waiters()

    def finish(self) -> None:
        self.complete = True
        if self.watch is not None:  # the engine need not watch a finished exchange
            self.watch.remove_done_callback(self.client_left)  # a stopped watch is no departure
            self.watch.cancel()
        self.wake_waiters()

    def wake_waiters(self) -> None:
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.done():  # a waiting task may have been cancelled
                waiter.set_result(None)

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if self.complete or self.disconnected:
            if self.disconnected:
                raise ClientDisconnected("the client disconnected")
            raise RuntimeError(f"{kind} after the response was complete")
        if kind == "http.response.start":
            if self.start is not None:
                raise RuntimeError("http.response.start sent twice")
            self.start = message
        elif kind == "http.response.body":
            await self._body(message.get("body", b""), message.get("more_body", False))
        elif kind == "http.response.pathsend":
            start = self._started()
            path = message["path"]
            self.raw.respond_file(start["status"], start.get("headers", []), path, os.stat(path).st_size)
            self.finish()
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} for an HTTP request")

    def _started(self) -> Message:
        if self.start is None:
            raise RuntimeError("http.response.body before http.response.start")
        return self.start

    async def _body(self, body: bytes, more: bool) -> None:
        if self.sender is None:
            start = self._started()
            if not more:  # the whole response in one message: one respond, no channel
                if not self.raw.respond(start["status"], start.get("headers", []), body):
                    self.client_left()
                self.finish()
                return
            self.sender = self.raw.respond_stream(start["status"], start.get("headers", []))
        if body:
            state = self.sender.try_send(body)
            if state == SEND_FULL:  # the client reads slower than the app writes: wait off the loop
                if not await self.loop.run_in_executor(None, self.sender.send_blocking, body):
                    state = SEND_CLOSED
            if state == SEND_CLOSED:
                self.client_left()
                raise ClientDisconnected("the client disconnected")
        if not more:
            self.sender.close()
            self.finish()

    def after(self, failed: BaseException | None) -> None:
        """Cleans up after the app returned (or raised)."""
        if self.complete:
            return
        if self.sender is not None:
            self.sender.abort()  # a truncated body must not look complete
        elif not self.raw.answered:
            if failed is None:
                log.error("the ASGI app returned without a response for %s %s", self.raw.method, self.raw.path)
            self.raw.respond(500, [("content-type", "text/plain; charset=utf-8")], b"Internal Server Error")
        self.finish()


def _detail(detail: str) -> bytes:
    return json.dumps({"detail": detail}).encode()


class WebSocketCycle:
    """One WebSocket connection of an ASGI app on the engine's session."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.conn: Any = None
        #: The loop's bridge, given to every send: their sessions are woken together at the end
        #: of the loop iteration (see hyperdjango.websockets.WebSocket).
        self.bridge: Any = None
        self.connected = False
        self.closed: int | None = None
        self.refusal: Message = {"status": 403, "headers": []}

    async def receive(self) -> Message:
        if not self.connected:
            self.connected = True
            return {"type": "websocket.connect"}
        if self.conn is None:
            raise RuntimeError("receive before websocket.accept")
        item = self.conn.try_receive()
        if item is None:
            item = await self.conn.receive(loop_bridge())
        if isinstance(item, str):
            return {"type": "websocket.receive", "text": item}
        if isinstance(item, bytes):
            return {"type": "websocket.receive", "bytes": item}
        _kind, reason, code = item
        self.closed = code
        return {"type": "websocket.disconnect", "code": code, "reason": reason or ""}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self.conn = self.raw.accept_websocket(message.get("subprotocol"))
            self.bridge = running_bridge()
        elif kind == "websocket.send":
            if self.conn is None:
                raise RuntimeError("websocket.send before websocket.accept")
            text = message.get("text")
            if text is not None:
                code = self.conn.send_text(text, self.bridge)
            else:
                code = self.conn.send_bytes(message.get("bytes") or b"", self.bridge)
            if code:
                self.closed = code
                raise ClientDisconnected(f"the WebSocket is closed ({code})")
        elif kind == "websocket.close":
            if self.conn is None:  # a close before the accept refuses the upgrade: 403
                self.refuse(403, [], b"")
            else:
                self.conn.close(message.get("code", 1000), message.get("reason") or "")
                self.closed = self.closed or message.get("code", 1000)
        elif kind == "websocket.http.response.start":
            self.refusal = message
        elif kind == "websocket.http.response.body":
            start = self.refusal
            self.refuse(start["status"], start.get("headers", []), message.get("body", b""))
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} for a WebSocket")

    def refuse(self, status: int, headers: Any, body: bytes) -> None:
        if not self.raw.answered:
            self.raw.respond(status, headers, body)

    def after(self, failed: BaseException | None) -> None:
        if self.conn is not None:
            if self.closed is None:
                self.conn.close(1011 if failed else 1000, "")
        elif not self.raw.answered:
            self.raw.respond(500 if failed else 403, [], b"")


def scope_of(raw: Any, *, root_path: str, path_prefix: str, server: tuple[str, int] | None, state: dict[str, Any]) -> Scope:
    """The ASGI scope of one engine request. ``path_prefix`` is put before the
    engine's path: the ``root_path`` a proxy stripped, or nothing for an app
    mounted inside a HyperApp (the path still holds its prefix)."""
    websocket = raw.is_websocket
    scope: Scope = {
        "type": "websocket" if websocket else "http",
        "asgi": ASGI_VERSION,
        "http_version": raw.http_version,
        "scheme": "ws" if websocket else "http",
        "path": path_prefix + raw.path,
        "raw_path": (path_prefix + raw.raw_path).encode("latin-1"),
        "query_string": raw.query_string.encode("latin-1"),
        "root_path": root_path,
        "headers": raw.header_bytes,
        "client": raw.client,
        "server": server,
        "state": dict(state),
        "extensions": WEBSOCKET_EXTENSIONS if websocket else HTTP_EXTENSIONS,
    }
    if websocket:
        scope["subprotocols"] = raw.subprotocols
    else:
        scope["method"] = raw.method
    return scope


async def run_app(
    app: AsgiApp, raw: Any, scope: Scope, loop: asyncio.AbstractEventLoop, running: set[asyncio.Task] | None = None,
) -> None:
    """Runs ``app`` for one engine request and makes sure it is answered.
    ``running`` is the set of the server's tasks: the task leaves it when the app
    is done (no done-callback, one loop callback less per request)."""
    cycle: HttpCycle | WebSocketCycle = WebSocketCycle(raw) if raw.is_websocket else HttpCycle(raw, scope, loop)
    failed: BaseException | None = None
    try:
        await app(scope, cycle.receive, cycle.send)
    except ClientDisconnected:
        pass
    except BaseException as exc:
        failed = exc
        log.error("the ASGI app failed on %s %s", raw.method, raw.path, exc_info=exc)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
    finally:
        cycle.after(failed)
        if running is not None:
            running.discard(asyncio.current_task(loop))  # with the loop: no getpid() syscall


class AsgiServer(EngineServed):
    """Serves an ASGI 3 app on the engine (``hyper run mysite.asgi:application``).

    ``root_path`` is the prefix a proxy strips (ASGI's ``root_path``);
    ``lifespan=False`` skips the lifespan protocol. ``serve``/``run`` take the
    engine's options (``max_body_size``, timeouts, ...) as ``HyperApp``'s do.
    """

    def __init__(self, app: AsgiApp, *, title: str = "ASGI app", root_path: str = "", lifespan: bool = True) -> None:
        self.app = app
        self.title = title
        self.root_path = root_path.rstrip("/")
        self.lifespan_enabled = lifespan
        self.state: dict[str, Any] = {}
        self.running: set[asyncio.Task] = set()

    def dispatch(self, raw: Any) -> None:
        """Starts the app for one request as a task in its own context."""
        loop = asyncio.get_running_loop()
        scope = scope_of(raw, root_path=self.root_path, path_prefix=self.root_path, server=self.server_address, state=self.state)
        task = start_task(loop, run_app(self.app, raw, scope, loop, self.running), contextvars.copy_context())
        if not task.done():
            self.running.add(task)  # asyncio holds tasks weakly; run_app takes it out

    async def finish(self) -> None:
        if self.running:
            _, pending = await asyncio.wait(set(self.running), timeout=1.0)
            for task in pending:
                task.cancel()

    @contextlib.asynccontextmanager
    async def lifetime(self) -> AsyncIterator[None]:
        if not self.lifespan_enabled:
            yield
            return
        lifespan = Lifespan(self.app)
        await lifespan.startup()
        self.state = lifespan.state
        try:
            yield
        finally:
            await lifespan.shutdown()
