"""TestClient: the real server on a free port, driven by httpx.

Requests go through real sockets and the same engine as production. From a
sync test, the app runs on its own loop in a background thread::

    with TestClient(app) as client:
        assert client.get("/api/products").status_code == 200

From an async test, it runs on the test's own loop::

    async with TestClient(app) as client:
        response = await client.get("/api/products")

Startup and shutdown hooks run on enter and exit; cookies persist across
requests; responses are ``httpx.Response`` (``.status_code``, ``.headers``,
``.json()``, ``.text``). ``client.websocket_connect(path)`` opens a WebSocket
the same two ways (``with ... as ws`` in sync tests, ``async with ... as ws``
in async ones).
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from .serving.workers import new_event_loop

if TYPE_CHECKING:
    from .app import HyperApp


class TestClient:
    """A client bound to a running instance of ``app``; see the module docs."""

    __test__ = False  # not a pytest test class

    def __init__(self, app: HyperApp, *, timeout: float = 30.0, **server_options: Any) -> None:
        self.app = app
        self.timeout = timeout
        self.server_options = server_options
        self.base_url = ""
        self._client: httpx.Client | httpx.AsyncClient | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._serving: asyncio.Task | None = None

    # -- sync ---------------------------------------------------------------------

    def __enter__(self) -> TestClient:
        self._start_in_thread()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _start_in_thread(self) -> None:
        started = threading.Event()
        failure: list[BaseException] = []

        def ready(host: str, port: int) -> None:
            self.base_url = f"http://{host}:{port}"
            started.set()

        def serve() -> None:
            loop = new_event_loop()
            self._loop = loop
            self._stop = asyncio.Event()
            try:
                loop.run_until_complete(self.app.serve("127.0.0.1", 0, stop=self._stop, ready=ready, **self.server_options))
            except BaseException as e:
                failure.append(e)
                started.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=serve, name="hyperdjango-testclient", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            self._thread.join()
            raise failure[0]
        self._client = httpx.Client(base_url=self.base_url, timeout=self.timeout, follow_redirects=False)

    def close(self) -> None:
        """Shuts the server down (running shutdown hooks) and closes the client."""
        if isinstance(self._client, httpx.Client):
            self._client.close()
        self._client = None
        if self._thread is not None and self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join()
            self._thread = None

    # -- async --------------------------------------------------------------------

    async def __aenter__(self) -> TestClient:
        started: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()

        def ready(host: str, port: int) -> None:
            started.set_result(f"http://{host}:{port}")

        self._serving = asyncio.create_task(
            self.app.serve("127.0.0.1", 0, stop=self._stop, ready=ready, **self.server_options)
        )

        def stopped(serving: asyncio.Task[Any]) -> None:
            if not started.done():
                started.set_exception(serving.exception() or RuntimeError("the server stopped"))

        self._serving.add_done_callback(stopped)
        self.base_url = await started
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout, follow_redirects=False)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if isinstance(self._client, httpx.AsyncClient):
            await self._client.aclose()
        self._client = None
        if self._stop is not None and self._serving is not None:
            self._stop.set()
            await self._serving
            self._serving = None

    # -- requests (sync: a Response; async: an awaitable of one) -------------------

    def _http(self) -> httpx.Client | httpx.AsyncClient:
        if self._client is None:
            self._start_in_thread()
        assert self._client is not None
        return self._client

    @property
    def cookies(self) -> httpx.Cookies:
        """The cookies the client keeps between requests (httpx's cookie jar)."""
        return self._http().cookies

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """Any method; keyword arguments are httpx's (``json=``, ``data=``, ``files=``, ``headers=``...)."""
        return self._http().request(method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        """Sends a GET to ``url`` (a path of the app); keyword arguments as httpx's."""
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> Any:
        """Sends a HEAD to ``url``; keyword arguments as httpx's."""
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> Any:
        """Sends an OPTIONS to ``url``; keyword arguments as httpx's."""
        return self.request("OPTIONS", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        """Sends a POST to ``url`` (``json=``, ``data=``, ``files=``...); keyword arguments as httpx's."""
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        """Sends a PUT to ``url``; keyword arguments as httpx's."""
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Any:
        """Sends a PATCH to ``url``; keyword arguments as httpx's."""
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        """Sends a DELETE to ``url``; keyword arguments as httpx's."""
        return self.request("DELETE", url, **kwargs)

    # -- WebSockets ----------------------------------------------------------------

    def websocket_connect(self, path: str, *, subprotocols: list[str] | None = None, headers: dict[str, str] | None = None, **kwargs: Any) -> WebSocketSession | AsyncWebSocketSession:
        """Opens a WebSocket to ``path`` over a real socket (the ``websockets`` library).

        From a sync test it connects at once and returns a ``WebSocketSession``:
        ``with client.websocket_connect("/ws") as ws: ws.send_text("hi")``.
        Inside ``async with TestClient(app) as client`` it returns an
        ``AsyncWebSocketSession`` that connects on ``async with`` (or ``await``):
        ``async with client.websocket_connect("/ws") as ws: await ws.send_text("hi")``.
        A refused upgrade raises ``websockets.exceptions.InvalidStatus``
        (``exc.response.status_code``). Keyword arguments go to the library's
        ``connect`` (``compression=None``, ``max_size=``...)."""
        options = dict(subprotocols=subprotocols, additional_headers=headers, open_timeout=self.timeout, **kwargs)
        if isinstance(self._client, httpx.AsyncClient):
            return AsyncWebSocketSession(self._websocket_url(path), options, self.timeout)
        if self._client is None:
            self._start_in_thread()
        from websockets.sync.client import connect

        opening = connect(self._websocket_url(path), **options)
        return WebSocketSession(opening.__enter__(), self.timeout)

    def _websocket_url(self, path: str) -> str:
        return "ws" + self.base_url.removeprefix("http") + path


class WebSocketSession:
    """The client side of a test WebSocket (sync); every receive is bounded by the client's timeout."""

    __test__ = False

    def __init__(self, conn: Any, timeout: float) -> None:
        self.conn = conn
        self.timeout = timeout

    @property
    def subprotocol(self) -> str | None:
        return self.conn.subprotocol

    def __enter__(self) -> WebSocketSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def send_text(self, text: str) -> None:
        self.conn.send(text)

    def send_bytes(self, data: bytes) -> None:
        self.conn.send(bytes(data))

    def send_json(self, data: Any) -> None:
        self.conn.send(_json_text(data))

    def receive(self) -> str | bytes:
        """The next message (str or bytes); ``websockets.exceptions.ConnectionClosed`` once closed."""
        return self.conn.recv(timeout=self.timeout)

    def receive_text(self) -> str:
        return _text(self.receive())

    def receive_bytes(self) -> bytes:
        return _bytes(self.receive())

    def receive_json(self) -> Any:
        return orjson.loads(self.receive())

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.conn.close(code, reason)

    @property
    def close_code(self) -> int | None:
        """The code the server closed with (after the connection ended)."""
        return self.conn.close_code


class AsyncWebSocketSession:
    """The client side of a test WebSocket in an async test: the same methods
    as ``WebSocketSession``, awaited. Connects on ``async with`` or ``await``;
    every receive is bounded by the client's timeout."""

    __test__ = False

    def __init__(self, url: str, options: dict[str, Any], timeout: float) -> None:
        self.url = url
        self.options = options
        self.timeout = timeout
        self.conn: Any = None

    async def _open(self) -> AsyncWebSocketSession:
        from websockets.asyncio.client import connect

        if self.conn is None:  # `async with await client.websocket_connect(...)` opens once
            self.conn = await connect(self.url, **self.options)
        return self

    def __await__(self) -> Any:
        return self._open().__await__()

    async def __aenter__(self) -> AsyncWebSocketSession:
        return await self._open()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @property
    def subprotocol(self) -> str | None:
        return self.conn.subprotocol

    async def send_text(self, text: str) -> None:
        await self.conn.send(text)

    async def send_bytes(self, data: bytes) -> None:
        await self.conn.send(bytes(data))

    async def send_json(self, data: Any) -> None:
        await self.conn.send(_json_text(data))

    async def receive(self) -> str | bytes:
        """The next message (str or bytes); ``websockets.exceptions.ConnectionClosed`` once closed."""
        return await asyncio.wait_for(self.conn.recv(), self.timeout)

    async def receive_text(self) -> str:
        return _text(await self.receive())

    async def receive_bytes(self) -> bytes:
        return _bytes(await self.receive())

    async def receive_json(self) -> Any:
        return orjson.loads(await self.receive())

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.conn is not None:
            await self.conn.close(code, reason)

    @property
    def close_code(self) -> int | None:
        """The code the server closed with (after the connection ended)."""
        return self.conn.close_code


def _json_text(data: Any) -> str:
    return orjson.dumps(data).decode("utf-8")


def _text(message: str | bytes) -> str:
    if not isinstance(message, str):
        raise TypeError("expected a text message, got a binary one")
    return message


def _bytes(message: str | bytes) -> bytes:
    return message.encode("utf-8") if isinstance(message, str) else message
