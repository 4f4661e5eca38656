"""A HyperApp as an ASGI 3 application: ``await app(scope, receive, send)``.

This is how a HyperApp runs under uvicorn, Granian, Hypercorn or Daphne, and
how ``httpx.ASGITransport(app)`` tests it in process. The app's own server
does not come through here: it hands the engine's ``PendingRequest`` to the
:class:`~hyperdjango.serving.dispatch.Dispatcher` directly.

The same Dispatcher serves both. :class:`AsgiExchange` has the shape of a
``PendingRequest`` (method, path, headers, body, ``respond``...), built from
the scope; its answer is written with ``send`` once the middleware chain and
the view are done. What differs from the engine is kept to what ASGI forces:
the body is read from ``receive`` (bounded by ``max_body_size``: 413 beyond),
routing uses the engine's router through ``Router.lookup`` and a WebSocket is
driven through ``receive``/``send`` instead of the engine's session.

Lifespan startup connects the database, runs the startup hooks and starts the
task queue, as ``app.serve`` does; shutdown undoes it. Hosts without lifespan
(``httpx.ASGITransport``) leave that to the caller.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..responses import StreamingResponse, aiterate
from .dispatch import Dispatcher
from .mount import find_mount

if TYPE_CHECKING:
    from .._core import Router
    from ..app import HyperApp

log = logging.getLogger("hyperdjango.asgi")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: File responses are read and sent in chunks of this size when the host
#: server has no ``http.response.pathsend`` extension.
FILE_CHUNK = 64 * 1024
#: Messages a WebSocket handler may queue ahead of the host's ``send``
#: (the engine's ``ws_send_queue`` default); beyond it the client reads too
#: slowly and the connection closes with 1013, as on the engine.
WS_SEND_QUEUE = 1024


class BodyTooLarge(Exception):
    """The request body passed ``max_body_size``."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """Reads an ``http.request`` body to its end; ``BodyTooLarge`` past ``limit``
    bytes, ``ConnectionError`` when the client disconnects first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("the client disconnected while sending the body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def routed_path(scope: Scope) -> str:
    """The path the app routes on: ``scope["path"]`` without ``root_path``
    (ASGI puts the mount prefix in both)."""
    path = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):] or "/"
    return path


class AsgiExchange:
    """One ASGI request, shaped like the engine's ``PendingRequest`` so the
    Dispatcher can serve it. The answer is kept until :meth:`flush` sends it."""

    is_websocket = False

    def __init__(self, scope: Scope, receive: Receive, send: Send, body: bytes, lookup: tuple[Any, ...]) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.method: str = scope.get("method", "GET")
        self.path = routed_path(scope)
        raw_path = scope.get("raw_path")
        self.raw_path = raw_path.decode("latin-1").partition("?")[0] if raw_path else quote(scope["path"])
        self.query_string: str = scope.get("query_string", b"").decode("latin-1")
        self.http_version: str = scope.get("http_version", "1.1")
        #: "https" when the host server terminated TLS itself (Request.scheme reads it).
        self.scheme: str = scope.get("scheme", "http")
        self.headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers", ())]
        self.body = body
        client = scope.get("client")
        self.client = (client[0], client[1]) if client else ("", 0)
        self.route_id: int | None = lookup[1] if lookup[0] == "found" else None
        self.params: dict[str, Any] = lookup[2] if lookup[0] == "found" else {}
        self.allow: list[str] | None = lookup[1] if lookup[0] == "method_not_allowed" else None
        #: Trailing-slash redirects are answered before dispatch (AsgiAdapter.http).
        self.redirect: str | None = None
        self.answer: tuple[Any, ...] | None = None

    def request(self, cls: Callable[..., Any], app: Any, routes: list[Any]) -> Any:
        """As ``PendingRequest.request``: ``cls(self, app, route)``, the route None when
        nothing matched or its id is past ``routes`` (a mount's)."""
        route_id = self.route_id
        return cls(self, app, routes[route_id] if route_id is not None and route_id < len(routes) else None)

    @property
    def answered(self) -> bool:
        return self.answer is not None

    def respond(self, status: int, headers: list[tuple[str, str]], body: bytes) -> bool:
        self._answer(("full", status, headers, body))
        return True

    def respond_file(self, status: int, headers: list[tuple[str, str]], path: str, length: int, offset: int = 0) -> bool:
        self._answer(("file", status, headers, path, length, offset))
        return True

    def _answer(self, answer: tuple[Any, ...]) -> None:
        if self.answer is not None:
            raise RuntimeError("this request has already been answered")
        self.answer = answer

    def streaming(self) -> None:
        """Marks the answer as being streamed by the Dispatcher itself."""
        self._answer(("stream",))

    async def start(self, status: int, headers: list[tuple[str, str]], length: int | None = None) -> None:
        """Sends ``http.response.start`` (with ``content-length`` when known and not set)."""
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        if length is not None and not any(k == b"content-length" for k, _ in raw):
            raw.append((b"content-length", str(length).encode()))
        await self._send({"type": "http.response.start", "status": status, "headers": raw})

    async def body_chunk(self, data: bytes, more: bool) -> None:
        if self.method == "HEAD":
            data = b""
        await self._send({"type": "http.response.body", "body": data, "more_body": more})

    async def flush(self) -> None:
        """Sends the answer the Dispatcher gave with ``respond``/``respond_file``."""
        answer = self.answer
        if answer is None or answer[0] == "stream":
            return
        if answer[0] == "full":
            _, status, headers, body = answer
            await self.start(status, headers, len(body))
            await self.body_chunk(body, False)
            return
        _, status, headers, path, length, offset = answer
        await self.start(status, headers, length)
        # pathsend sends a whole file: a range (206) is read here instead.
        if self.method != "HEAD" and status == 200 and "http.response.pathsend" in self.scope.get("extensions", {}):
            await self._send({"type": "http.response.pathsend", "path": path})
            return
        await self._send_file(path, length, offset)

    async def _send_file(self, path: str, length: int, offset: int) -> None:
        loop = asyncio.get_running_loop()
        with open(path, "rb") as file:
            file.seek(offset)
            remaining = length
            while remaining > 0:
                chunk = await loop.run_in_executor(None, file.read, min(FILE_CHUNK, remaining))
                if not chunk:
                    raise OSError(f"{path} shrank while it was being sent")
                remaining -= len(chunk)
                await self.body_chunk(chunk, remaining > 0)
        if length == 0:
            await self.body_chunk(b"", False)


class AsgiWebSocketConnection:
    """An accepted ASGI WebSocket with the engine's ``WebSocketConnection`` shape.

    Sends never wait, as on the engine: messages go into a queue that one
    writer task hands to the host's ``send`` in order. Received messages come as
    the engine's do: a data message as its payload, the end as a tuple."""

    def __init__(self, receive: Receive, send: Send, subprotocol: str | None) -> None:
        self._receive = receive
        self._send = send
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self.close_code: int | None = None
        self._queue.put_nowait({"type": "websocket.accept", "subprotocol": subprotocol})
        self._writer = asyncio.ensure_future(self._write())

    async def _write(self) -> None:
        while (message := await self._queue.get()) is not None:
            try:
                await self._send(message)
            except Exception:  # the host reports the client gone (OSError, its own ClientDisconnected)
                self.close_code = self.close_code or 1006
                return

    def _queue_message(self, message: Message) -> int:
        if self.close_code is not None:
            return self.close_code
        if self._queue.qsize() >= WS_SEND_QUEUE:
            self.close(1013, "the client reads too slowly")
            return 1013
        self._queue.put_nowait(message)
        return 0

    # `bridge` is in the engine's signature to defer its session's wake-up to the end of the
    # loop iteration; here the queue itself wakes the writer task on this loop, so it is unused.
    def send_text(self, text: str, bridge: object = None) -> int:
        return self._queue_message({"type": "websocket.send", "text": text})

    def send_bytes(self, data: bytes, bridge: object = None) -> int:
        return self._queue_message({"type": "websocket.send", "bytes": data})

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.close_code is None:
            self.close_code = code
            self._queue.put_nowait({"type": "websocket.close", "code": code, "reason": reason})

    def try_receive(self) -> str | bytes | tuple[str, Any, int] | None:
        if self.close_code is not None:
            return ("gone", None, self.close_code)
        return None

    async def receive(self, bridge: Any = None) -> str | bytes | tuple[str, Any, int]:
        message = await self._receive()
        if message["type"] == "websocket.receive":
            if message.get("text") is not None:
                return message["text"]
            return message.get("bytes") or b""
        code = message.get("code", 1005)
        self.close_code = self.close_code or code
        return ("close", message.get("reason") or "", code)

    async def finish(self) -> None:
        """Waits until every queued message has been handed to the host."""
        self._queue.put_nowait(None)
        await self._writer


class AsgiWebSocketExchange(AsgiExchange):
    """An ASGI ``websocket`` scope, shaped like an engine upgrade request."""

    is_websocket = True

    def __init__(self, scope: Scope, receive: Receive, send: Send, lookup: tuple[Any, ...]) -> None:
        super().__init__(scope, receive, send, b"", lookup)
        self.method = "GET"
        self.subprotocols: list[str] = list(scope.get("subprotocols", ()))
        self.connection: AsgiWebSocketConnection | None = None

    def accept_websocket(self, subprotocol: str | None = None) -> AsgiWebSocketConnection:
        if self.connection is not None or self.answered:
            raise RuntimeError("this request is not a WebSocket upgrade, or it was already accepted")
        self.connection = AsgiWebSocketConnection(self._receive, self._send, subprotocol)
        return self.connection

    @property
    def answered(self) -> bool:
        return self.connection is not None or self.answer is not None

    async def flush(self) -> None:
        """Finishes an accepted connection, or refuses the upgrade with the
        Dispatcher's response (as an HTTP response where the host supports it)."""
        if self.connection is not None:
            await self.connection.finish()
            return
        if self.answer is None:
            return
        _, status, headers, body = self.answer
        if "websocket.http.response" in self.scope.get("extensions", {}):
            raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
            await self._send({"type": "websocket.http.response.start", "status": status, "headers": raw})
            await self._send({"type": "websocket.http.response.body", "body": body})
        else:  # ASGI: a close before the accept is a 403
            await self._send({"type": "websocket.close", "code": 1008})


class AsgiDispatcher(Dispatcher):
    """The Dispatcher with streamed bodies written through ASGI ``send``."""

    async def _stream(self, raw: Any, response: StreamingResponse) -> None:
        raw.streaming()
        await raw.start(response.status_code, response._header_pairs())
        chunks = aiterate(response.chunks)
        try:
            async for chunk in chunks:
                await raw.body_chunk(chunk.encode("utf-8") if isinstance(chunk, str) else chunk, True)
            await raw.body_chunk(b"", False)
        finally:
            await chunks.aclose()


class AsgiAdapter:
    """The ASGI callable behind ``HyperApp.__call__``; one per app."""

    def __init__(self, app: HyperApp) -> None:
        self.app = app
        self._compiled: tuple[int, Router, AsgiDispatcher] | None = None

    def dispatcher(self) -> tuple[Router, AsgiDispatcher]:
        """The route table and Dispatcher, rebuilt when routes were added since."""
        if self._compiled is None or self._compiled[0] != len(self.app.routes):
            router, routes = self.app.compile_routes()
            self._compiled = (len(routes), router, AsgiDispatcher(self.app, None, routes, asyncio.get_running_loop()))  # type: ignore[arg-type]
        return self._compiled[1], self._compiled[2]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "websocket":
            await self.websocket(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        else:
            raise ValueError(f"hyperdjango does not handle ASGI scope type {kind!r}")

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        router, dispatcher = self.dispatcher()
        path = routed_path(scope)
        query = scope.get("query_string", b"").decode("latin-1")
        lookup = router.lookup(scope["method"], path, query or None)
        if lookup[0] in ("not_found", "method_not_allowed") and (mounted := find_mount(self.app.mounts, path)) is not None:
            await mounted.app(mounted.scope_for(scope), receive, send)
            return
        if lookup[0] == "redirect":
            status = 301 if scope["method"] in ("GET", "HEAD") else 308
            location = scope.get("root_path", "") + lookup[1]
            exchange = AsgiExchange(scope, receive, send, b"", lookup)
            exchange.respond(status, [("location", location)], b"")
            await exchange.flush()
            return
        try:
            body = await read_body(receive, self.app.max_body_size)
        except BodyTooLarge:
            exchange = AsgiExchange(scope, receive, send, b"", lookup)
            detail = f'{{"detail":"the request body is larger than the limit of {self.app.max_body_size} bytes"}}'
            exchange.respond(413, [("content-type", "application/json"), ("connection", "close")], detail.encode())
            await exchange.flush()
            return
        except ConnectionError:
            return
        exchange = AsgiExchange(scope, receive, send, body, lookup)
        await self._serve(dispatcher, exchange)

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        router, dispatcher = self.dispatcher()
        path = routed_path(scope)
        lookup = router.lookup("WEBSOCKET", path, None)
        if (lookup[0] != "found" or lookup[1] >= len(dispatcher.routes)) and (mounted := find_mount(self.app.mounts, path)) is not None:
            await mounted.app(mounted.scope_for(scope), receive, send)
            return
        connect = await receive()
        if connect["type"] != "websocket.connect":
            return
        exchange = AsgiWebSocketExchange(scope, receive, send, lookup)
        if lookup[0] != "found":  # as the engine: no endpoint, no upgrade
            exchange.respond(404, [("content-type", "application/json")], b'{"detail":"no WebSocket endpoint at this path"}')
            await exchange.flush()
            return
        await self._serve(dispatcher, exchange)

    async def _serve(self, dispatcher: AsgiDispatcher, exchange: AsgiExchange) -> None:
        # Its own context, as on the engine: a ContextVar set by one request stays there.
        await asyncio.create_task(dispatcher.handle(exchange), context=contextvars.copy_context())  # type: ignore[arg-type]
        await exchange.flush()

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.app.start_services()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.app.stop_services(grace=30.0)
                finally:
                    await self.app.close_connections()
                await send({"type": "lifespan.shutdown.complete"})
                return
