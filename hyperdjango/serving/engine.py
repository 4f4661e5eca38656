"""The engine's server on the running loop, for apps that are not HyperApps.

ASGI and WSGI apps (:mod:`.asgi`, :mod:`.wsgi`) are served through this: a
route table that sends every path on, bodies left for the app to pull
(``stream_bodies=True``), the eventfd drained once per batch, and the same
graceful shutdown as ``HyperApp.serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from .. import _core
from .tasks import start_task

log = logging.getLogger("hyperdjango.server")

#: Requests taken per wake-up (as the HyperApp Dispatcher).
BATCH = 256


def catch_all_router() -> _core.Router:
    """A route table that sends every path on, WebSocket upgrades included."""
    router = _core.Router(redirect_slashes=False)
    router.add("/", ["WEBSOCKET"])
    router.add("/{path:path}", ["WEBSOCKET"])
    return router


async def serve_requests(
    handle: Callable[[Any], Coroutine[Any, Any, None]],
    host: str,
    port: int,
    *,
    stop: asyncio.Event,
    ready: Callable[[str, int], Any] | None,
    grace: float,
    bound: Callable[[tuple[str, int]], None] | None = None,
    **server_options: Any,
) -> None:
    """Runs ``handle(pending_request)`` as a task (in its own context) for every
    request until ``stop`` is set; then stops accepting and lets in-flight
    requests finish within ``grace`` seconds. ``bound(address)`` learns the
    address before the first request, ``ready(host, port)`` after."""
    loop = asyncio.get_running_loop()
    server = _core.Server(catch_all_router(), host=host, port=port, stream_bodies=True, **server_options)
    running: set[asyncio.Task] = set()

    def on_readable() -> None:
        batch = server.drain(BATCH)
        for raw in batch:
            task = start_task(loop, handle(raw), contextvars.copy_context())
            if not task.done():
                running.add(task)  # asyncio holds tasks weakly
                task.add_done_callback(running.discard)
        if len(batch) == BATCH:
            loop.call_soon(on_readable)

    address = server.start()
    if bound is not None:
        bound(address)
    fd = server.fileno()
    loop.add_reader(fd, on_readable)
    on_readable()
    try:
        if ready is not None:
            ready(*address)
        await stop.wait()
    finally:
        finished = await loop.run_in_executor(None, server.shutdown, grace)
        if not finished:
            log.warning("requests still running after the %ss grace period were dropped", grace)
        loop.remove_reader(fd)
        if running:
            _, pending = await asyncio.wait(set(running), timeout=1.0)
            for task in pending:
                task.cancel()


class EngineServed:
    """What ``AsgiServer`` and ``WsgiServer`` share: ``serve``/``run`` shaped like
    ``HyperApp``'s, so ``hyper run``'s worker supervisor runs them the same way.
    A subclass says how one request is handled (``handle``) and what lives as
    long as the server (``lifetime``: lifespan, a thread pool)."""

    title = "app"
    #: This process's number among ``run(workers=N)``'s processes.
    worker_index = 0
    server_address: tuple[str, int] = ("127.0.0.1", 0)

    async def handle(self, raw: Any) -> None:
        raise NotImplementedError

    @contextlib.asynccontextmanager
    async def lifetime(self) -> AsyncIterator[None]:
        yield

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
        """Serves until ``stop`` is set, then shuts down gracefully (as ``HyperApp.serve``);
        ``server_options`` are the engine's limits."""

        def bound(address: tuple[str, int]) -> None:
            self.server_address = address

        async with self.lifetime():
            await serve_requests(self.handle, host, port, stop=stop or asyncio.Event(), ready=ready, grace=grace, bound=bound, **server_options)

    def run(self, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, **options: Any) -> None:
        """Serves until SIGTERM or SIGINT with ``workers`` processes (see ``HyperApp.run``)."""
        from .workers import run

        run(self, host, port, workers, options)  # type: ignore[arg-type]
