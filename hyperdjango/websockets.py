"""WebSocket endpoints: the ``ws`` object a handler receives.

::

    @app.websocket("/ws/echo")
    async def echo(ws, request):
        async for msg in ws:            # ends cleanly when the client closes
            await ws.send_text(msg.text)

The upgrade request first goes through the HTTP middleware chain, so a
middleware that returns a response (or raises ``HTTPException(403)``)
refuses the upgrade with that response before anything is accepted. The
connection is accepted by ``await ws.accept()``, or automatically on the
first send or receive.

Sends go straight into the engine's bounded send queue; they never wait. A
client that reads so slowly that the queue fills is closed with 1013 and the
send raises ``WebSocketDisconnect(1013)``. Received messages come through the
loop's completion bridge, one wake-up per batch.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Awaitable, Generator, Iterable
from typing import TYPE_CHECKING, Any, NoReturn

import orjson

from ._core import Sent, ws_broadcast
from .runtime import loop_bridge, running_bridge

if TYPE_CHECKING:
    from ._core import LoopBridge, PendingRequest, WebSocketConnection

__all__ = ["Message", "WebSocket", "WebSocketDisconnect", "broadcast"]

# Close codes (RFC 6455 §7.4.1).
NORMAL = 1000
GOING_AWAY = 1001
ABNORMAL = 1006
TOO_BIG = 1009
TRY_AGAIN_LATER = 1013


class WebSocketDisconnect(Exception):
    """The connection is closed: ``code`` says why (1000 normal, 1001 going
    away, 1006 dropped without a close frame, 1009 message too big, 1013 the
    client read too slowly)."""

    def __init__(self, code: int = NORMAL, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


def broadcast(websockets: Iterable[WebSocket], message: str | bytes, raise_exceptions: bool = False) -> None:
    """Sends ``message`` (str: text, bytes: binary) to every WebSocket in one
    call into the engine, like the ``websockets`` library's ``broadcast()``.

    The message is encoded once and its payload shared; the engine writes it
    to each socket without a task per connection. Connections already closed
    are skipped, and so are those not accepted yet. A connection whose send
    queue is full is skipped too, and closed with 1013 and counted as a slow
    consumer, as ``send_text`` would. With ``raise_exceptions=True``, the
    skipped connections are reported afterwards as an ``ExceptionGroup`` of
    ``WebSocketDisconnect``.
    """
    failed = ws_broadcast([ws._conn for ws in websockets if ws._conn is not None], message)
    if failed and raise_exceptions:
        raise ExceptionGroup("skipped broadcast", [WebSocketDisconnect(code) for _, code in failed])


#: What every send that was queued returns: an awaitable already finished (see ``WebSocket.send_text``).
SENT: Awaitable[None] = Sent()


class _SendFailed:
    """What a send returns when the connection is closed: awaiting it (or
    running it as a task) raises ``WebSocketDisconnect(code)``. Like a
    coroutine, it warns if it is dropped without ever being awaited, so the
    failure is never silent."""

    __slots__ = ("code", "_awaited")

    def __init__(self, code: int) -> None:
        self.code = code
        self._awaited = False

    def _raise(self) -> NoReturn:
        self._awaited = True
        raise WebSocketDisconnect(self.code)

    def __await__(self) -> Generator[Any, None, None]:
        self._raise()
        yield  # pragma: no cover  (makes this a generator)

    def send(self, value: Any) -> NoReturn:
        self._raise()

    def throw(self, typ: Any, value: Any = None, traceback: Any = None) -> NoReturn:
        self._awaited = True
        if isinstance(typ, BaseException):
            raise typ
        raise typ(value) if value is not None else typ()

    def close(self) -> None:
        self._awaited = True

    def __del__(self) -> None:
        if not self._awaited:
            warnings.warn(f"a WebSocket send failed (the connection is closed with {self.code}) "
                          "and the send was never awaited", RuntimeWarning, stacklevel=1)


class Message:
    """One message from the client.

    ``type`` is ``"text"``, ``"bytes"`` or ``"close"``; ``text`` is the text
    (None for a binary message), ``data`` the payload as bytes. A close
    message carries ``code`` and ``reason``.

    >>> m = Message("text", '{"a": 1}')
    >>> m.json(), m.data
    ({'a': 1}, b'{"a": 1}')
    """

    __slots__ = ("type", "text", "_data", "code", "reason")

    def __init__(self, type: str, payload: str | bytes | None = None, code: int = 0) -> None:
        self.type = type
        self.code = code
        self.reason = ""
        self._data: bytes | None = None
        self.text: str | None = None
        if type == "text":
            self.text = payload  # type: ignore[assignment]
        elif type == "bytes":
            self._data = payload  # type: ignore[assignment]
        else:
            self.reason = payload or ""  # type: ignore[assignment]
            self._data = b""

    @property
    def data(self) -> bytes:
        """The payload as bytes (text is UTF-8 encoded)."""
        if self._data is None:
            self._data = (self.text or "").encode("utf-8")
        return self._data

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return orjson.loads(self.text if self.text is not None else self.data)

    def __repr__(self) -> str:
        if self.type == "close":
            return f"Message(close, code={self.code})"
        return f"Message({self.type}, {self.text if self.text is not None else self.data!r})"


class WebSocket:
    """The server side of one WebSocket connection; see the module docs.

    ``subprotocols`` lists what the client offered; ``subprotocol`` is the one
    accepted. ``request`` is the upgrade request (headers, query, params).
    """

    def __init__(self, raw: PendingRequest, request: Any) -> None:
        self._raw = raw
        self.request = request
        self.subprotocols: list[str] = raw.subprotocols
        self.subprotocol: str | None = None
        self._conn: WebSocketConnection | None = None
        self._closed_code: int | None = None
        #: The loop's bridge, looked up once: asyncio.get_running_loop() costs a getpid()
        #: system call on every call (CPython's fork check), which was one per message.
        #: Sends pass it so that their sessions are woken together at the end of the
        #: loop iteration (one cross-thread wake-up for a loop of sends, not one each).
        self._bridge: LoopBridge | None = None

    @property
    def accepted(self) -> bool:
        """Whether the handshake was answered with 101 (by :meth:`accept` or the first send or receive)."""
        return self._conn is not None

    async def accept(self, subprotocol: str | None = None) -> None:
        """Completes the handshake (101), choosing ``subprotocol`` among those offered."""
        if self._conn is not None:
            return
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise ValueError(f"the client did not offer the subprotocol {subprotocol!r} (offered: {self.subprotocols})")
        self._conn = self._raw.accept_websocket(subprotocol)
        self._bridge = running_bridge()
        self.subprotocol = subprotocol

    def _connection(self) -> WebSocketConnection:
        if self._conn is None:
            self._conn = self._raw.accept_websocket(None)
            self._bridge = running_bridge()
        return self._conn

    # -- sending ------------------------------------------------------------------

    # The sends queue the message when called and return an awaitable that is
    # already finished (``SENT``), not a coroutine: a coroutine per send cost a
    # third of the Python side of every send. ``await ws.send_text(m)``,
    # ``asyncio.create_task(...)``, ``gather`` and ``TaskGroup`` take it as
    # they took the coroutine; a closed connection's ``WebSocketDisconnect``
    # comes out of the await.

    def send_text(self, text: str) -> Awaitable[None]:
        """Queues a text message; awaiting it raises ``WebSocketDisconnect`` if the connection is closed."""
        # The hot path of every echo and chat message: no helper calls, and `is None`
        # rather than `or` (the truth test of an extension object costs more).
        conn = self._conn
        if conn is None:
            conn = self._connection()
        code = conn.send_text(text, self._bridge)
        if code:
            return _SendFailed(code)
        return SENT

    def send_bytes(self, data: bytes) -> Awaitable[None]:
        """Queues a binary message; as :meth:`send_text`."""
        conn = self._conn
        if conn is None:
            conn = self._connection()
        code = conn.send_bytes(bytes(data), self._bridge)
        if code:
            return _SendFailed(code)
        return SENT

    def send_json(self, data: Any) -> Awaitable[None]:
        """Queues ``data`` as JSON in a text message; as :meth:`send_text`."""
        return self.send_text(orjson.dumps(data).decode("utf-8"))

    async def close(self, code: int = NORMAL, reason: str = "") -> None:
        """Starts the close handshake (the engine finishes it). Before the
        connection is accepted, refuses the upgrade instead (403)."""
        if self._conn is None:
            return
        self._conn.close(code, reason)

    # -- receiving ----------------------------------------------------------------

    async def receive(self) -> Message:
        """The next message; a ``close`` message once when the connection ends,
        then ``WebSocketDisconnect`` on any further receive."""
        conn = self._conn or self._connection()
        item = conn.try_receive()
        if item is None:
            if self._bridge is None:
                self._bridge = loop_bridge()
            item = await conn.receive(self._bridge)
        # A data message comes as its payload; only the end is a tuple (see _core.pyi).
        if isinstance(item, str):
            return Message("text", item)
        if isinstance(item, bytes):
            return Message("bytes", item)
        kind, reason, code = item
        if kind == "gone":
            raise WebSocketDisconnect(self._closed_code or code)
        self._closed_code = code
        return Message(kind, reason, code)

    async def _receive_data(self) -> Message:
        message = await self.receive()
        if message.type == "close":
            raise WebSocketDisconnect(message.code, message.reason)
        return message

    async def receive_text(self) -> str:
        """The next text message; ``WebSocketDisconnect`` when the peer closes."""
        message = await self._receive_data()
        if message.text is None:
            raise TypeError("expected a text message, got a binary one")
        return message.text

    async def receive_bytes(self) -> bytes:
        """The next message's payload as bytes."""
        return (await self._receive_data()).data

    async def receive_json(self) -> Any:
        """The next message parsed as JSON."""
        return (await self._receive_data()).json()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        # receive() inlined: no coroutine per message on the path of every echo.
        conn = self._conn or self._connection()
        while True:
            item = conn.try_receive()
            if item is None:
                if self._bridge is None:
                    self._bridge = loop_bridge()
                item = await conn.receive(self._bridge)
            if isinstance(item, str):
                yield Message("text", item)
            elif isinstance(item, bytes):
                yield Message("bytes", item)
            else:
                kind, _reason, code = item
                if kind == "close":
                    self._closed_code = code
                return
