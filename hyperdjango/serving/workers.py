"""Processes: one event loop per worker, and a supervisor for several.

Each worker binds the port itself with SO_REUSEPORT, so the kernel spreads
connections across workers. The supervisor forks them before any thread or
loop exists, restarts a worker that dies, and on SIGTERM/SIGINT passes the
signal on and waits for every worker to finish its graceful shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..app import HyperApp

log = logging.getLogger("hyperdjango.server")

#: A worker that dies this soon after starting counts as a crash loop.
QUICK_DEATH = 1.0
#: Give up after this many quick deaths in a row (the port is taken, the app fails to import...).
MAX_QUICK_DEATHS = 5


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when installed, else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def serve_forever(app: HyperApp, host: str, port: int, options: dict[str, Any]) -> None:
    """Runs one worker in this process until SIGTERM or SIGINT."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

        def ready(bound_host: str, bound_port: int) -> None:
            log.info("worker %d serving %s on http://%s:%d", os.getpid(), app.title, bound_host, bound_port)

        await app.serve(host, port, stop=stop, ready=ready, **options)

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())


def run(app: HyperApp, host: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """Serves with ``workers`` processes; returns after a clean shutdown."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if workers <= 1:
        serve_forever(app, host, port, options)
        return
    if port == 0:
        raise ValueError("several workers need a fixed port to share; port=0 would give each its own")
    Supervisor(app, host, port, workers, options).run()


class Supervisor:
    """Forks and watches the worker processes."""

    def __init__(self, app: HyperApp, host: str, port: int, workers: int, options: dict[str, Any]) -> None:
        self.app, self.host, self.port, self.options = app, host, port, options
        self.workers = workers
        self.children: dict[int, tuple[float, int]] = {}  # pid -> (started, worker index)
        self.stopping = False
        self.quick_deaths = 0

    def spawn(self, index: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                # 0..workers-1, kept by a replacement: the app's singletons (the
                # in-process periodic scheduler) run in worker 0 only.
                self.app.worker_index = index
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                serve_forever(self.app, self.host, self.port, self.options)
            except BaseException:
                logging.getLogger("hyperdjango.server").exception("worker %d failed", os.getpid())
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = (time.monotonic(), index)

    def forward(self, signum: int, frame: Any) -> None:
        self.stopping = True
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.forward)
        signal.signal(signal.SIGINT, self.forward)
        log.info("supervisor %d starting %d workers on %s:%d", os.getpid(), self.workers, self.host, self.port)
        for index in range(self.workers):
            self.spawn(index)
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            child = self.children.pop(pid, None)
            if child is None or self.stopping:
                continue
            started, index = child
            log.warning("worker %d exited (%s); starting another", pid, _describe(status))
            if time.monotonic() - started < QUICK_DEATH:
                self.quick_deaths += 1
                if self.quick_deaths >= MAX_QUICK_DEATHS:
                    log.error("workers keep dying at start-up; giving up")
                    self.forward(signal.SIGTERM, None)
                    continue
                time.sleep(0.2 * self.quick_deaths)
            else:
                self.quick_deaths = 0
            self.spawn(index)
        if self.quick_deaths >= MAX_QUICK_DEATHS:
            sys.exit(1)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
