"""Serving a WSGI application on the engine (``hyper run mysite.wsgi:application``).

A bounded pool of ``threads`` worker threads (default 32) takes requests
from the engine's queue itself: a free worker waits in the queue without the
GIL and the engine wakes it directly, one wake-up per request and no event
loop in between (the loop only runs the server's lifetime). At most
``threads`` WSGI calls run at once; the requests beyond wait in the engine's
bounded queue, then in the listen backlog. The worker answers the engine
directly (``respond`` is thread-safe).

- ``wsgi.input`` reads the body from the engine chunk by chunk, without the
  GIL while it waits (the server runs with ``stream_bodies=True``): a 1 GiB
  upload never sits in memory, and a slow reader holds the client back.
  ``max_body_size`` still answers 413.
- ``start_response`` with ``exc_info`` re-raises once the head is sent, as
  PEP 3333 asks; the returned ``write()`` works too.
- The iterable: a one-element list goes out in one ``respond``, and so does an
  iterable whose first chunk is the whole declared Content-Length (Django's
  ``HttpResponse``); anything else streams through the engine's bounded chunk
  channel, each chunk as it comes (the thread waits only when the client reads
  slowly). ``close()`` is always called.
- ``wsgi.file_wrapper``: a wrapped real file, not yet read, is sent by the
  engine itself from its path (no Python in the loop for the bytes).
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .. import _core
from .engine import SEND_CLOSED, SEND_FULL, EngineServed

log = logging.getLogger("hyperdjango.wsgi")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Default size of the WSGI thread pool.
DEFAULT_THREADS = 32


class BodyError(OSError):
    """The request body could not be read: ``status`` is the answer (413, 400, 408)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class WsgiInput(io.RawIOBase):
    """``wsgi.input``: the request body, read from the engine as asked."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._buffer = bytearray()
        self._done = raw.body_complete

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        """Appends the next chunk to the buffer; False at the end."""
        if self._done:
            return False
        status, data, more = self._raw.read_body_blocking()
        if status:
            self._done = True
            raise BodyError(status, data)
        self._done = not more
        self._buffer += data
        return bool(data) or more

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            while self._fill():
                pass
            size = len(self._buffer)
        while len(self._buffer) < size and self._fill():
            pass
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def readinto(self, target: Any) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = sys.maxsize if size is None or size < 0 else size
        while b"\n" not in self._buffer and len(self._buffer) < limit and self._fill():
            pass
        end = self._buffer.find(b"\n")
        end = len(self._buffer) if end < 0 else end + 1
        data = bytes(self._buffer[: min(end, limit)])
        del self._buffer[: len(data)]
        return data

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


class FileWrapper:
    """``wsgi.file_wrapper``: iterates ``filelike`` in blocks; the server sends
    a real file that was not read yet straight from disk instead."""

    def __init__(self, filelike: Any, block_size: int = 64 * 1024) -> None:
        self.filelike = filelike
        self.block_size = block_size

    def __iter__(self) -> Iterator[bytes]:
        while block := self.filelike.read(self.block_size):
            yield block

    def path_and_size(self) -> tuple[str, int] | None:
        """The file's path and size when the engine can send it itself."""
        name = getattr(self.filelike, "name", None)
        try:
            if not isinstance(name, str) or self.filelike.tell() != 0:
                return None
            size = os.fstat(self.filelike.fileno()).st_size
        except (OSError, AttributeError, ValueError):
            return None
        return (name, size) if os.path.isfile(name) else None

    def close(self) -> None:
        if hasattr(self.filelike, "close"):
            self.filelike.close()


def _status_code(status: str) -> int:
    try:
        return int(status.split(" ", 1)[0])
    except ValueError:
        raise ValueError(f"invalid WSGI status line {status!r}") from None


def _declares_length(headers: list[tuple[str, str]], length: int) -> bool:
    """Whether ``headers`` say Content-Length: ``length``."""
    for name, value in headers:
        if name.lower() == "content-length":
            return value.strip() == str(length)
    return False


class WsgiCall:
    """One request through a WSGI app, run in a worker thread."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.head: tuple[int, list[tuple[str, str]]] | None = None
        self.sender: Any = None

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.sender is not None or self.raw.answered:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.head is not None:
            raise RuntimeError("start_response was already called (pass exc_info to replace the head)")
        self.head = (_status_code(status), list(headers))
        return self.write

    def write(self, data: bytes) -> None:
        """The legacy ``write()`` of ``start_response``: streams ``data`` now."""
        self._stream(data)

    def _stream(self, data: bytes) -> None:
        if self.head is None:
            raise RuntimeError("the WSGI app produced a body before calling start_response")
        if self.sender is None:
            self.sender = self.raw.respond_stream(*self.head)
        if data:
            data = bytes(data)
            state = self.sender.try_send(data)  # room in the buffer: no GIL release
            if state == SEND_FULL:  # the client reads slower than the app writes
                state = 0 if self.sender.send_blocking(data) else SEND_CLOSED
            if state == SEND_CLOSED:
                raise BodyError(499, "the client disconnected")

    def run(self, app: WsgiApp, environ: dict[str, Any]) -> None:
        try:
            result = app(environ, self.start_response)
        except BodyError as exc:
            self._refuse(exc)
            return
        try:
            self._send(result)
        except BodyError as exc:
            self._refuse(exc)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _send(self, result: Iterable[bytes]) -> None:
        if isinstance(result, FileWrapper) and self.sender is None and self.head is not None:
            found = result.path_and_size()
            if found is not None:
                self.raw.respond_file(*self.head, *found)
                return
        if isinstance(result, (list, tuple)) and len(result) <= 1 and self.sender is None:
            body = bytes(result[0]) if result else b""
            if self.head is None:
                raise RuntimeError("the WSGI app returned without calling start_response")
            self.raw.respond(*self.head, body)
            return
        chunks = iter(result)
        for chunk in chunks:
            head = self.head
            if self.sender is None and head is not None and chunk and _declares_length(head[1], len(chunk)):
                # The whole declared body at once (Django's and Werkzeug's responses):
                # one respond, no stream, nothing held back (PEP 3333).
                self.raw.respond(*head, bytes(chunk))
                if any(chunks):
                    log.error("the WSGI app sent more than its Content-Length for %s %s; the rest was dropped", self.raw.method, self.raw.path)
                return
            self._stream(chunk)
        if self.sender is None:  # an empty iterable
            self._stream(b"")
        self.sender.close()

    def _refuse(self, exc: BodyError) -> None:
        if exc.status == 499:  # the client is gone: nobody to answer
            return
        if self.sender is not None:
            self.sender.abort()
        elif not self.raw.answered:
            self.raw.respond(exc.status, [("content-type", "text/plain; charset=utf-8"), ("connection", "close")], exc.detail.encode())

    def fail(self, exc: BaseException) -> None:
        """After the app raised: 500 if nothing was sent, else cut the response."""
        log.error("the WSGI app failed on %s %s", self.raw.method, self.raw.path, exc_info=exc)
        if self.sender is not None:
            self.sender.abort()
        elif not self.raw.answered:
            self.raw.respond(500, [("content-type", "text/plain; charset=utf-8")], b"Internal Server Error")


class WsgiServer(EngineServed):
    """Serves a WSGI app on the engine (``hyper run mysite.wsgi:application``).

    ``threads`` bounds the WSGI calls running at once (default 32, see the
    module docs); ``root_path`` becomes ``SCRIPT_NAME``.
    """

    def __init__(self, app: WsgiApp, *, title: str = "WSGI app", threads: int = DEFAULT_THREADS, root_path: str = "") -> None:
        if threads < 1:
            raise ValueError("a WSGI server needs at least one thread")
        self.app = app
        self.title = title
        self.threads = threads
        self.root_path = root_path.rstrip("/")
        self._server_environ: dict[str, Any] = {}

    def environ(self, raw: Any) -> dict[str, Any]:
        """The PEP 3333 environ of one engine request."""
        environ = self._server_environ.copy()  # what every request of this server shares
        environ["REQUEST_METHOD"] = raw.method
        # PEP 3333: the decoded path as Latin-1 "bytes in a str".
        environ["PATH_INFO"] = raw.path.encode("utf-8").decode("latin-1")
        environ["QUERY_STRING"] = raw.query_string
        environ["SERVER_PROTOCOL"] = f"HTTP/{raw.http_version}"
        environ["REMOTE_ADDR"], port = raw.client
        environ["REMOTE_PORT"] = str(port)
        environ["wsgi.input"] = WsgiInput(raw)
        for name, value in raw.headers:
            if name == "content-type":
                key = "CONTENT_TYPE"
            elif name == "content-length":
                key = "CONTENT_LENGTH"
            else:
                key = "HTTP_" + name.upper().replace("-", "_")
            # Repeated headers are joined with a comma (RFC 9110 5.3), cookies with "; ".
            environ[key] = f"{environ[key]}{'; ' if key == 'HTTP_COOKIE' else ','}{value}" if key in environ else value
        return environ

    def call(self, raw: Any) -> None:
        """Runs the app for one request (in a worker thread) and answers it."""
        if raw.is_websocket:  # WSGI has no WebSocket
            raw.respond(404, [("content-type", "text/plain")], b"WebSocket is not served by a WSGI app")
            return
        wsgi = WsgiCall(raw)
        try:
            wsgi.run(self.app, self.environ(raw))
        except Exception as exc:  # the app, or an environ that could not be built
            wsgi.fail(exc)

    def take_requests(self, server: _core.Server, loop: asyncio.AbstractEventLoop) -> None:
        """Starts the pool: each worker takes the next request from the engine when it is free."""
        host, port = self.server_address
        self._server_environ = {
            "SCRIPT_NAME": self.root_path,
            "SERVER_NAME": host,
            "SERVER_PORT": str(port),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
        }
        for i in range(self.threads):
            threading.Thread(target=self._work, args=(server,), name=f"hyperdjango-wsgi-{i}", daemon=True).start()

    def _work(self, server: _core.Server) -> None:
        while (raw := server.next_request()) is not None:
            self.call(raw)

    def stop_taking(self, server: _core.Server) -> None:
        """Lets every worker go once it is free (requests still running finish)."""
        server.release_workers()
