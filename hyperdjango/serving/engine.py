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
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from .. import _core

log = logging.getLogger("hyperdjango.server")

#: Requests taken per wake-up (as the HyperApp Dispatcher).
BATCH = 256


def catch_all_router() -> _core.Router:
    """A route table that sends every path on, WebSocket upgrades included."""
    router = _core.Router(redirect_slashes=False)
    router.add("/", ["WEBSOCKET"])
    router.add("/{path:path}", ["WEBSOCKET"])
    return router


class RequestPump:
    """Moves requests from the server's queue to ``dispatch(raw)`` on the loop,
    one wake-up per batch.

    With ``capacity`` (how many more requests the app can take now), the pump
    takes no more than that and stops watching the server while it is full:
    the rest wait in the engine's bounded queue, then in the listen backlog.
    ``resume_soon()`` (from any thread) starts it again once there is room.
    """

    def __init__(
        self, server: _core.Server, loop: asyncio.AbstractEventLoop, dispatch: Callable[[Any], None],
        capacity: Callable[[], int] | None = None,
    ) -> None:
        self.server = server
        self.loop = loop
        self.dispatch = dispatch
        self.capacity = capacity
        self.fd = server.fileno()
        self.paused = False
        self._lock = threading.Lock()

    def start(self) -> None:
        self.loop.add_reader(self.fd, self.on_readable)
        self.on_readable()

    def stop(self) -> None:
        with self._lock:
            self.paused = True  # no resume after this
        self.loop.remove_reader(self.fd)

    def on_readable(self) -> None:
        room = BATCH if self.capacity is None else min(BATCH, self.capacity())
        batch = self.server.drain(room) if room > 0 else []
        for raw in batch:
            self.dispatch(raw)
        if len(batch) < room:
            return  # the queue is empty and the eventfd armed
        if room == BATCH:
            self.loop.call_soon(self.on_readable)  # let other callbacks have a turn first
            return
        with self._lock:  # full: more may be waiting in the engine
            self.paused = True
        self.loop.remove_reader(self.fd)

    def resume_soon(self) -> None:
        """Watches the server again if the pump was paused for lack of room; thread-safe, cheap when not paused."""
        if self.paused:
            with self._lock:
                if not self.paused:
                    return
                self.paused = False
            self.loop.call_soon_threadsafe(self.start)


class EngineServed:
    """What ``AsgiServer`` and ``WsgiServer`` share: ``serve``/``run`` shaped like
    ``HyperApp``'s, so ``hyper run``'s worker supervisor runs them the same way.
    A subclass says how one request is taken (``dispatch``, on the loop, never
    blocking), how much it can take (``capacity``) and what lives as long as
    the server (``lifetime``: lifespan, a thread pool)."""

    title = "app"
    #: This process's number among ``run(workers=N)``'s processes.
    worker_index = 0
    server_address: tuple[str, int] = ("127.0.0.1", 0)
    capacity: Callable[[], int] | None = None
    pump: RequestPump | None = None

    def dispatch(self, raw: Any) -> None:
        raise NotImplementedError

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
            self.pump = RequestPump(server, loop, self.dispatch, self.capacity)
            self.pump.start()
            try:
                if ready is not None:
                    ready(*self.server_address)
                await stop.wait()
            finally:
                finished = await loop.run_in_executor(None, server.shutdown, grace)
                if not finished:
                    log.warning("requests still running after the %ss grace period were dropped", grace)
                self.pump.stop()
                await self.finish()

    def run(self, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, **options: Any) -> None:
        """Serves until SIGTERM or SIGINT with ``workers`` processes (see ``HyperApp.run``)."""
        from .workers import run

        run(self, host, port, workers, options)  # type: ignore[arg-type]
