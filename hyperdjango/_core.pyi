"""Type stubs for the Rust extension module ``hyperdjango._core``."""

from os import PathLike
from typing import Any, Literal, Self, TypeVar, final
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar

__all__ = [
    "LoopBridge", "RustFuture", "Database", "PlannedRead", "Transaction", "Cursor", "Listener", "Row", "InstanceReader", "instances_from_rows",
    "RedisSubscriber", "RedisCommands", "RedisError",
    "argon2_hash", "argon2_verify", "bcrypt_verify", "find_file", "file_answer", "Router", "Server", "PendingRequest",
    "StreamSender", "WebSocketConnection", "Sent", "TemplateEngine", "TemplateStream", "TemplateError", "StreamsFull",
    "ws_broadcast", "__version__",
]

__version__: str

_R = TypeVar("_R")

_HeaderPairs = Iterable[tuple[str | bytes, str | bytes]]

@final
class Router:
    """The engine's route table; frozen when a server starts."""

    def __new__(cls, redirect_slashes: bool = True) -> Self: ...
    def add(self, pattern: str, methods: list[str], name: str | None = None) -> int:
        """Adds a route and returns its id; ValueError on a bad pattern or a conflict."""
    def url_for(self, name: str, params: list[tuple[str, str]]) -> str:
        """The path of a named route; KeyError for an unknown name, ValueError for bad values."""
    def routes(self) -> list[tuple[str, list[str], str | None]]: ...
    def lookup(
        self, method: str, path: str, query: str | None = None
    ) -> (
        tuple[Literal["found"], int, dict[str, Any]]
        | tuple[Literal["not_found"]]
        | tuple[Literal["method_not_allowed"], list[str]]
        | tuple[Literal["redirect"], str]
    ): ...

@final
class Server:
    """The HTTP server of one worker; tokio threads hand requests to the loop via ``fileno()``."""

    def __new__(
        cls,
        router: Router,
        *,
        # Defaults the extension states as `...` (pyo3 writes only literals it can spell):
        # host "127.0.0.1", max_body_size 10 MiB, max_header_size 64 KiB, server_name "hyperdjango",
        # ws_max_message_size 1 MiB, ws_send_queue_bytes 16 MiB.
        host: str = ...,
        port: int = 8000,
        reuse_port: bool = True,
        backlog: int = 1024,
        max_body_size: int = ...,
        max_header_size: int = ...,
        header_timeout: float = 30.0,
        keepalive_timeout: float = 5.0,
        max_connections: int = 10000,
        queue_size: int = 1024,
        io_threads: int = 1,
        server_name: str = ...,
        ws_max_message_size: int = ...,
        ws_send_queue: int = 1024,
        ws_send_queue_bytes: int = ...,
        ws_ping_interval: float = 20.0,
        ws_ping_timeout: float = 20.0,
        ws_allowed_origins: list[str] | None = None,
        ws_compression: bool = False,
        allowed_hosts: list[str] | None = None,
        redirects_in_python: bool = False,
        stream_bodies: bool = False,
    ) -> Self:
        """``allowed_hosts``: Host patterns answered (Django's rules); others get 400 here, before Python.
        ``redirects_in_python``: trailing-slash redirects reach Python (``PendingRequest.redirect``).
        ``stream_bodies``: requests are handed over before their body is read (ASGI and WSGI apps)."""
    def start(self) -> tuple[str, int]:
        """Binds and starts; returns the bound (host, port)."""
    def fileno(self) -> int:
        """An eventfd that becomes readable when requests are waiting."""
    def drain(self, max: int = 256) -> list[PendingRequest]:
        """Up to ``max`` waiting requests; fewer means the queue is empty and the fd re-armed."""
    def next_request(self) -> PendingRequest | None:
        """For a worker thread instead of the loop: waits (without the GIL) for the next
        request, woken by the engine directly; None once ``release_workers()`` was called."""
    def release_workers(self) -> None:
        """Makes every ``next_request``, waiting or later, return None."""
    def shutdown(self, grace: float) -> bool:
        """Blocking graceful shutdown; True if in-flight requests finished within ``grace``."""
    def stats(self) -> dict[str, int]: ...

@final
class PendingRequest:
    """A routed request with its body read; answer it exactly once."""

    method: str
    path: str
    raw_path: str
    query_string: str
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes
    client: tuple[str, int]
    route_id: int | None
    params: dict[str, Any]
    allow: list[str] | None
    redirect: str | None
    answered: bool
    is_websocket: bool
    subprotocols: list[str]
    def request(self, cls: type[_R], app: Any, routes: list[Any]) -> _R:
        """What ``cls(self, app, routes[route_id])`` makes for ``hyperdjango.requests.Request``
        (route None when unrouted or past ``routes``), without calling ``__init__``;
        TypeError for a class with its own ``__new__``."""
    def accept_websocket(self, subprotocol: str | None = None) -> WebSocketConnection:
        """Answers a WebSocket upgrade with 101; ValueError for a subprotocol the client did not offer."""
    def respond(self, status: int, headers: _HeaderPairs, body: bytes) -> bool:
        """Sends a complete response; False if the client is gone."""
    def respond_stream(self, status: int, headers: _HeaderPairs, capacity: int = 16) -> StreamSender: ...
    def respond_file(self, status: int, headers: _HeaderPairs, path: str | PathLike[str], length: int, offset: int = 0) -> bool: ...
    # -- the body pulled chunk by chunk (servers with stream_bodies=True: ASGI and WSGI apps)
    body_streamed: bool
    body_complete: bool
    """The body has been read to its end (true from the start without one)."""
    is_disconnected: bool
    header_bytes: list[tuple[bytes, bytes]]
    """The headers as ASGI wants them: bytes, in the order received."""
    def receive_body(self, bridge: LoopBridge) -> RustFuture:
        """Awaitable of ``(0, chunk, more)``, or ``(status, detail, False)`` for 413/400/408."""
    def read_body_blocking(self) -> tuple[int, bytes | str, bool]:
        """``receive_body`` for a worker thread (waits without the GIL)."""
    def disconnected(self, bridge: LoopBridge) -> RustFuture:
        """Awaitable finished when the client goes away before the request is answered."""

@final
class StreamSender:
    """The body of a streamed response."""

    def try_send(self, chunk: bytes) -> Literal[0, 1, 2]:
        """0 queued, 1 buffer full (use ``send_blocking`` off the loop), 2 client gone."""
    def send_blocking(self, chunk: bytes) -> bool: ...
    def close(self) -> None: ...
    def abort(self) -> None:
        """Ends the body as failed: the connection is cut before the last chunk."""

# -- completions -------------------------------------------------------------

@final
class LoopBridge:
    """Where Rust work finished on tokio waits for its event loop (one per loop)."""

    def __new__(cls, event_loop: Any) -> Self: ...
    def fileno(self) -> int:
        """An eventfd to watch with ``loop.add_reader(fileno, bridge.drain)``."""
    def drain(self) -> None:
        """Finishes waiting futures and runs their callbacks (loop thread only)."""
    def flush(self) -> None:
        """Hands the statements started in this loop iteration to tokio as one task
        (``call_soon``-scheduled by the first of them)."""

@final
class RustFuture:
    """An awaitable result of Rust work, compatible with ``asyncio.Future`` and with the
    coroutine protocol (``send``/``throw``/``close``: ``create_task`` takes it;
    ``hyperdjango.runtime`` registers it as a ``collections.abc.Coroutine``)."""

    _asyncio_future_blocking: bool
    def get_loop(self) -> Any: ...
    def done(self) -> bool: ...
    def cancelled(self) -> bool: ...
    def result(self) -> Any: ...
    def exception(self) -> BaseException | None: ...
    def add_done_callback(self, callback: Any, *, context: Any = None) -> None: ...
    def remove_done_callback(self, callback: Any) -> int: ...
    def cancel(self, msg: Any = None) -> bool:
        """Cancels the work; a running query is cancelled on the server."""
    def __await__(self) -> Any: ...
    def __iter__(self) -> Self: ...
    def __next__(self) -> Any: ...
    def send(self, value: None) -> Any:
        """A step: the future itself while pending, ``StopIteration(result)`` once done."""
    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        """Cancels the work if still pending and raises the exception."""
    def close(self) -> None:
        """Cancels the work if still pending."""

# -- databases ---------------------------------------------------------------

@final
class Row:
    """One result row: ``row["name"]``, ``row[0]``, ``row.name``, ``dict(row)``."""

    def __getitem__(self, key: str | int | slice, /) -> Any: ...
    def __getattr__(self, name: str) -> Any: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Any: ...
    def __contains__(self, name: object, /) -> bool: ...
    def keys(self) -> tuple[str, ...]: ...
    def values(self) -> tuple[Any, ...]: ...
    def items(self) -> list[tuple[str, Any]]: ...
    def get(self, name: str, default: Any = None) -> Any: ...

@final
class InstanceReader:
    """How the ORM reads rows into instances of ``cls``: ``object.__new__(cls)`` whose
    ``__dict__`` maps ``names`` to the row's first values (each passed through its
    ``(index, converter)`` when it has one), then holds ``extra``. Calling it reads
    fetched rows; ``query_instances`` reads a query's rows with no ``Row`` in between."""

    def __new__(cls, cls_: type, names: tuple[str, ...], extra: dict[str, Any], converters: list[tuple[int, Callable[[Any], Any]]], /) -> Self: ...
    def __call__(self, rows: Iterable[Iterable[Any]], /) -> list[Any]: ...

def instances_from_rows(rows: Iterable[Row], cls: type, names: tuple[str, ...], extra: dict[str, Any]) -> list[Any]:
    """``object.__new__(cls)`` per row, its ``__dict__`` mapping ``names`` to the row's
    first values, then holding ``extra`` (the ORM's loader: no ``__init__``, no validation)."""

class _Statements:
    def query(self, bridge: LoopBridge, sql: str, params: Sequence[Any]) -> RustFuture: ...
    def query_one(self, bridge: LoopBridge, sql: str, params: Sequence[Any]) -> RustFuture: ...
    def query_val(self, bridge: LoopBridge, sql: str, params: Sequence[Any]) -> RustFuture: ...
    def query_exists(self, bridge: LoopBridge, sql: str, params: Sequence[Any]) -> RustFuture:
        """Whether the statement returns a row."""
    def execute(self, bridge: LoopBridge, sql: str, params: Sequence[Any]) -> RustFuture: ...
    def execute_many(self, bridge: LoopBridge, sql: str, rows: Iterable[Sequence[Any]]) -> RustFuture: ...
    def copy_in(self, bridge: LoopBridge, table: str, columns: list[str], rows: Iterable[Sequence[Any]]) -> RustFuture: ...
    def query_instances(self, bridge: LoopBridge, reader: InstanceReader, sql: str, params: Sequence[Any]) -> RustFuture: ...
    def query_instance(
        self, bridge: LoopBridge, reader: InstanceReader, several: tuple[Any, ...] | None, sql: str, params: Sequence[Any]
    ) -> RustFuture:
        """The first row's instance or None; with ``several`` (``(make_error, *args)``), more
        than one row fails with ``make_error(*args)``."""
    def pipeline(self, bridge: LoopBridge, statements: Iterable[tuple[str, Sequence[Any]] | str]) -> RustFuture: ...
    def cursor(self, bridge: LoopBridge, sql: str, params: Sequence[Any], chunk_size: int) -> RustFuture: ...

@final
class Database(_Statements):
    """A PostgreSQL or SQLite database; connects on first use."""

    vendor: Literal["postgresql", "sqlite"]
    connected: bool
    def __new__(cls, url: str, transaction: ContextVar[Any] | None = None) -> Self: ...
    def current(self) -> Database | Transaction:
        """Where the caller's statements go: the ``Transaction`` of its ``atomic()`` block (the
        ``core`` of the state ``transaction`` holds), else this database (its pool)."""
    def connect(self, bridge: LoopBridge) -> RustFuture: ...
    def close(self, bridge: LoopBridge) -> RustFuture: ...
    def clear_statement_cache(self, bridge: LoopBridge) -> RustFuture:
        """Every connection forgets its prepared statements (at its next statement);
        nothing to do on SQLite or before the pool opened."""
    def begin(self, bridge: LoopBridge, isolation: str | None = None, read_only: bool = False) -> RustFuture:
        """A future of a :class:`Transaction` on a connection of its own."""
    def notify(self, bridge: LoopBridge, channel: str, payload: str) -> RustFuture:
        """``pg_notify(channel, payload)`` on a shared connection; InterfaceError on SQLite,
        DataError for a payload of 8000 bytes or more."""
    def listener(self, bridge: LoopBridge, capacity: int = 1024) -> RustFuture:
        """A future of a :class:`Listener` on a dedicated connection; InterfaceError on SQLite."""

@final
class PlannedRead:
    """One compiled read of the ORM: started with its parameters on ``db``, it returns the
    driver's awaitable, the statement sent in the caller's transaction (``Database.current``).
    Outside a running loop, or on an object that is not a ``hyperdjango`` ``Database`` (a
    proxy), it returns what ``db``'s public method returns (``query_instances``,
    ``query_instance``, ``query_val``, ``query_exists``)."""

    def __new__(cls, sql: str, reader: InstanceReader | None = None) -> Self: ...
    def rows(self, db: Any, params: Sequence[Any]) -> Awaitable[list[Any]]:
        """Every row read into an instance by the reader."""
    def first(self, db: Any, params: Sequence[Any], several: tuple[Any, ...] | None) -> Awaitable[Any]:
        """The first row's instance or None; with ``several`` (``(make_error, *args)``), more
        than one row fails with ``make_error(*args)``."""
    def value(self, db: Any, params: Sequence[Any]) -> Awaitable[Any]:
        """The first column of the first row, or None."""
    def exists(self, db: Any, params: Sequence[Any]) -> Awaitable[bool]:
        """Whether there is a row."""

@final
class Transaction(_Statements):
    """Statements on one connection, one after another, until commit or rollback."""

    def savepoint(self, bridge: LoopBridge, name: str) -> RustFuture: ...
    def release(self, bridge: LoopBridge, name: str) -> RustFuture: ...
    def rollback_to(self, bridge: LoopBridge, name: str) -> RustFuture: ...
    def commit(self, bridge: LoopBridge) -> RustFuture: ...
    def rollback(self, bridge: LoopBridge) -> RustFuture: ...

@final
class Cursor:
    """Rows streamed in chunks."""

    def fetch(self, bridge: LoopBridge) -> RustFuture:
        """A future of the next ``list[Row]``, or None at the end."""
    def close(self, bridge: LoopBridge) -> RustFuture: ...

@final
class Listener:
    """A dedicated PostgreSQL connection that LISTENs; events reach the loop in batches
    through ``fileno()`` (watch it with ``loop.add_reader``) and ``drain()``."""

    connected: bool
    def fileno(self) -> int:
        """An eventfd that becomes readable when events are waiting."""
    def drain(self, max: int = 256) -> list[tuple[str, str, int] | tuple[None, str, float]]:
        """Up to ``max`` events, oldest first: ``(channel, payload, process_id)`` for a
        notification, ``(None, reason, downtime_seconds)`` after a reconnect. Fewer than
        ``max`` means the queue is empty and the fd re-armed."""
    def listen(self, bridge: LoopBridge, channel: str) -> RustFuture: ...
    def unlisten(self, bridge: LoopBridge, channel: str) -> RustFuture: ...
    def close(self, bridge: LoopBridge) -> RustFuture: ...
    def channels(self) -> list[str]: ...
    def stats(self) -> dict[str, int]:
        """delivered, stalls, reconnects, dropped_unlistened, queued."""

class RedisError(Exception):
    """An error reply of the Redis server to one command (``WRONGTYPE ...``, ``NOSCRIPT ...``)."""

@final
class RedisSubscriber:
    """A dedicated Redis pub/sub connection read by the engine; messages reach the loop in
    batches through ``fileno()`` (watch it with ``loop.add_reader``) and ``drain()``."""

    connected: bool
    @staticmethod
    def connect(bridge: LoopBridge, url: str, name: str, capacity: int = ...) -> RustFuture:  # 8192
        """A future of a subscriber connected to ``url`` as ``name`` (``CLIENT SETNAME``);
        ConnectionError when Redis cannot be reached, ValueError for a bad URL."""
    def fileno(self) -> int:
        """An eventfd that becomes readable when events are waiting."""
    def drain(self, max: int = 256) -> list[tuple[str, bytes] | tuple[None, str, Any]]:
        """Up to ``max`` events, oldest first: ``(channel, payload)`` for a message;
        ``(None, "lost", reason)``, ``(None, "reconnected", downtime_seconds)`` and
        ``(None, "overflow", dropped)``. Fewer than ``max`` means the queue is empty and
        the fd re-armed."""
    def subscribe(self, bridge: LoopBridge, channel: str) -> RustFuture: ...
    def unsubscribe(self, bridge: LoopBridge, channel: str) -> RustFuture: ...
    def close(self, bridge: LoopBridge) -> RustFuture: ...
    def channels(self) -> list[str]: ...
    def stats(self) -> dict[str, int]:
        """delivered, dropped, reconnects, dropped_unsubscribed, queued."""

@final
class RedisCommands:
    """Pipelined Redis commands on one engine connection, opened on first use."""

    def __new__(cls, url: str, name: str) -> Self: ...
    def load_script(self, bridge: LoopBridge, source: str) -> RustFuture:
        """A future of the script's SHA1 for ``EVALSHA``; loaded on every later connection too."""
    def pipeline(self, bridge: LoopBridge, commands: Iterable[Iterable[bytes | str | int]]) -> RustFuture:
        """A future of one reply per command (an error reply as a :class:`RedisError` in its
        place), sent in one write; ConnectionError when Redis cannot be reached."""
    def close(self) -> None: ...

# A data message is its payload (text: str, binary: bytes), not a tuple (a tuple per
# message cost ~700 instructions per echo to build and unpack). The end is a tuple.
_WsMessage = (
    str
    | bytes
    | tuple[Literal["close"], str, int]
    | tuple[Literal["gone"], None, int]
)

def ws_broadcast(connections: list[WebSocketConnection], message: str | bytes) -> list[tuple[int, int]]:
    """Queues one message (str: text, bytes: binary) on every connection in one
    call, payload shared; ``(position, close_code)`` of each that did not take it."""

@final
class WebSocketConnection:
    """An accepted WebSocket: sends queue without waiting, receives come through a LoopBridge."""

    close_code: int | None
    def send_text(self, text: str, bridge: LoopBridge | None = None) -> int:
        """0 when queued, else the close code (1013: the send queue overflowed). With the
        loop's ``bridge``, the session is woken at the end of the loop iteration."""
    def send_bytes(self, data: bytes, bridge: LoopBridge | None = None) -> int: ...
    def close(self, code: int = 1000, reason: str = ...) -> None: ...  # reason: "" (pyo3 states it as ...)
    def try_receive(self) -> _WsMessage | None:
        """A message already received, or None."""
    def receive(self, bridge: LoopBridge) -> RustFuture:
        """Awaitable of the next message: its payload (str or bytes), or a ``(kind, reason, code)`` tuple at the end."""

@final
class Sent:
    """What a queued WebSocket send returns: an awaitable already finished (result None).
    A coroutine by protocol, so ``asyncio.create_task``, ``gather`` and ``TaskGroup`` take it."""

    def __init__(self) -> None: ...
    def __await__(self) -> Sent: ...
    def __iter__(self) -> Sent: ...
    def __next__(self) -> None: ...
    def send(self, value: object) -> None: ...
    def throw(self, typ: object, value: object = None, _traceback: object = None) -> None: ...
    def close(self) -> None: ...

# -- passwords (hyperdjango.auth.hashers): the GIL is released while they run -------------

def argon2_hash(password: bytes, salt: bytes, memory_kib: int, iterations: int, parallelism: int) -> str:
    """The argon2id PHC string (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``); ValueError for bad parameters."""

def argon2_verify(password: bytes, encoded: str) -> bool:
    """Whether ``password`` matches an argon2 PHC string; ValueError for a malformed one."""

def bcrypt_verify(password: bytes, encoded: str) -> bool:
    """Whether ``password`` matches a bcrypt hash (``$2b$12$...``); ValueError for a malformed one."""

# -- static files (crates/engine/src/http/files.rs) ------------------------------------

def find_file(roots: Sequence[str | PathLike[str]], relative: str) -> str | None:
    """The real path of ``relative`` below the first root holding it; None if missing or
    if it would leave its root (``..``, symlinks out, NUL, backslash)."""

def file_answer(
    path: str | PathLike[str],
    method: str,
    if_none_match: str | None = None,
    if_modified_since: str | None = None,
    if_range: str | None = None,
    range: str | None = None,
    accept_encoding: str | None = None,
    precompressed: bool = False,
) -> tuple[int, list[tuple[str, str]], tuple[str, int, int] | None]:
    """``(status, headers, (path, offset, length) or None)``: 200, 206, 304 or 416."""

# -- templates (crates/templates) -----------------------------------------------------

class TemplateError(Exception):
    """A template failed to compile or render."""

    template: str | None
    line: int | None
    column: int | None
    kind: str
    message: str
    source_lines: list[tuple[int, str]]

@final
class TemplateEngine:
    """minijinja environment: folders searched in order, compiled templates cached."""

    def __new__(cls, dirs: Sequence[str | PathLike[str]], reload: bool = False, strict_undefined: bool = False) -> Self: ...
    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """Converts ``context`` once, then renders without the GIL."""
    def render_bytes(self, name: str, context: Mapping[str, Any]) -> bytes:
        """``render``, as UTF-8 bytes: a response body, never decoded into a str."""
    def render_string(self, name: str, source: str, context: Mapping[str, Any]) -> str: ...
    def stream(self, name: str, context: Mapping[str, Any], chunk_size: int = 16384) -> TemplateStream:
        """Renders on a thread of its own into a bounded queue of chunks."""
    def add_filter(self, name: str, function: Callable[..., Any]) -> None: ...
    def add_test(self, name: str, function: Callable[..., Any]) -> None: ...
    def add_global(self, name: str, value: Any) -> None: ...
    def clear_cache(self) -> None: ...
    @staticmethod
    def stream_stats() -> dict[str, int]:
        """``running``, ``refused`` (since start) and ``max`` streamed renders."""

class StreamsFull(RuntimeError):
    """``max`` streamed renders run already."""

@final
class TemplateStream:
    """Byte chunks of a render; ``next()`` blocks (without the GIL) until one is ready."""

    def __iter__(self) -> TemplateStream: ...
    def __next__(self) -> bytes: ...
