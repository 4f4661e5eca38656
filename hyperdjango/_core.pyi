"""Type stubs for the Rust extension module ``hyperdjango._core``."""

from os import PathLike
from typing import Any, Iterable, Literal

__version__: str

_HeaderPairs = Iterable[tuple[str | bytes, str | bytes]]

class Router:
    """The engine's route table; frozen when a server starts."""

    def __init__(self, redirect_slashes: bool = True) -> None: ...
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

class Server:
    """The HTTP server of one worker; tokio threads hand requests to the loop via ``fileno()``."""

    def __init__(
        self,
        router: Router,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        reuse_port: bool = True,
        backlog: int = 1024,
        max_body_size: int = 10485760,
        max_header_size: int = 65536,
        header_timeout: float = 30.0,
        keepalive_timeout: float = 5.0,
        max_connections: int = 10000,
        queue_size: int = 1024,
        io_threads: int = 1,
        server_name: str = "hyperdjango",
    ) -> None: ...
    def start(self) -> tuple[str, int]:
        """Binds and starts; returns the bound (host, port)."""
    def fileno(self) -> int:
        """An eventfd that becomes readable when requests are waiting."""
    def drain(self, max: int = 256) -> list[PendingRequest]:
        """Up to ``max`` waiting requests; fewer means the queue is empty and the fd re-armed."""
    def shutdown(self, grace: float) -> bool:
        """Blocking graceful shutdown; True if in-flight requests finished within ``grace``."""
    def stats(self) -> dict[str, int]: ...

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
    answered: bool
    def respond(self, status: int, headers: _HeaderPairs, body: bytes) -> bool:
        """Sends a complete response; False if the client is gone."""
    def respond_stream(self, status: int, headers: _HeaderPairs, capacity: int = 16) -> StreamSender: ...
    def respond_file(self, status: int, headers: _HeaderPairs, path: str | PathLike[str], length: int) -> bool: ...

class StreamSender:
    """The body of a streamed response."""

    def try_send(self, chunk: bytes) -> Literal[0, 1, 2]:
        """0 queued, 1 buffer full (use ``send_blocking`` off the loop), 2 client gone."""
    def send_blocking(self, chunk: bytes) -> bool: ...
    def close(self) -> None: ...
    def abort(self) -> None:
        """Ends the body as failed: the connection is cut before the last chunk."""
