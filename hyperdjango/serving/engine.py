"""The engine's server on the running loop, for apps that are not HyperApps.

ASGI and WSGI apps (:mod:`.asgi`, :mod:`.wsgi`) are served through this: a
route table that sends every path on, bodies left for the app to pull
(``stream_bodies=True``), the eventfd drained once per batch, and the same
graceful shutdown as ``HyperApp.serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from .. import _core

log = logging.getLogger("hyperdjango.server")

#: Requests taken per wake-up (as the HyperApp Dispatcher).
BATCH = 256
#: What ``StreamSender.try_send`` answers besides 0 (queued): the buffer is full
#: (wait with ``send_blocking``, never on the loop), or the client is gone.
SEND_FULL = 1
SEND_CLOSED = 2


def catch_all_router() -> _core.Router:
    """A route table that sends every path on, WebSocket upgrades included."""
    router = _core.Router(redirect_slashes=False)
    router.add("/", ["WEBSOCKET"])
    router.add("/{path:path}", ["WEBSOCKET"])
    return router


class RequestPump:
    """Moves requests from the server's queue to ``dispatch(raw)`` on the loop,
    one wake-up per batch."""

    def __init__(self, server: _core.Server, loop: asyncio.AbstractEventLoop, dispatch: Callable[[Any], None]) -> None:
        self.server = server
        self.loop = loop
        self.dispatch = dispatch
        self.fd = server.fileno()

    def start(self) -> None:
        self.loop.add_reader(self.fd, self.on_readable)
        self.on_readable()

    def stop(self) -> None:
        self.loop.remove_reader(self.fd)

    def on_readable(self) -> None:
        batch = self.server.drain(BATCH)
        for raw in batch:
            self.dispatch(raw)
        if len(batch) == BATCH:
            self.loop.call_soon(self.on_readable)  # more may wait; let other callbacks have a turn first


class EngineServed:
    """What ``AsgiServer`` and ``WsgiServer`` share: ``serve``/``run`` shaped like
    ``HyperApp``'s, so ``hyper run``'s worker supervisor runs them the same way.
    A subclass says how requests are taken (by default ``dispatch`` on the loop,
    never blocking, fed by a ``RequestPump``; ``take_requests``/``stop_taking``
    replace that) and what lives as long as the server (``lifetime``: lifespan)."""

    title = "app"
    #: This process's number among ``run(workers=N)``'s processes.
    worker_index = 0
    server_address: tuple[str, int] = ("127.0.0.1", 0)
    pump: RequestPump | None = None

    def dispatch(self, raw: Any) -> None:
        raise NotImplementedError

    def take_requests(self, server: _core.Server, loop: asyncio.AbstractEventLoop) -> None:
        """Starts taking the started server's requests: on the loop, one wake-up per batch."""
        self.pump = RequestPump(server, loop, self.dispatch)
        self.pump.start()

    def stop_taking(self, server: _core.Server) -> None:
        """After the server shut down: stops what ``take_requests`` started."""
        if self.pump is not None:
            self.pump.stop()

    @contextlib.asynccontextmanager
    async def lifetime(self) -> AsyncIterator[None]:
        yield

    async def finish(self) -> None:
        """After the engine stopped: waits a moment for what the app still runs."""

    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        stop: asyncio.Event | None = None,
        ready: Callable[[str, int], Any] | None = None,
        grace: float = 30.0,
        **server_options: Any,
    ) -> None:
        """Serves until ``stop`` is set, then shuts down gracefully (as ``HyperApp.serve``):
        no new connections, in-flight requests finish within ``grace`` seconds.
        ``server_options`` are the engine's limits."""
        loop = asyncio.get_running_loop()
        stop = stop or asyncio.Event()
        async with self.lifetime():
            server = _core.Server(catch_all_router(), host=host, port=port, stream_bodies=True, **server_options)
            self.server_address = server.start()
            self.take_requests(server, loop)
            try:
                if ready is not None:
                    ready(*self.server_address)
                await stop.wait()
            finally:
                finished = await loop.run_in_executor(None, server.shutdown, grace)
                if not finished:
                    log.warning("requests still running after the %ss grace period were dropped", grace)
                self.stop_taking(server)
                await self.finish()

    def run(self, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, **options: Any) -> None:
        """Serves until SIGTERM or SIGINT with ``workers`` processes (see ``HyperApp.run``)."""
        from .workers import run

        run(self, host, port, workers, options)  # type: ignore[arg-type]
