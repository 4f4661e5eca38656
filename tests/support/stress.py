"""Helpers of the load and fault tests in ``tests/stress/``, each bounded in time.

``./dev.sh test`` runs them in their short mode (a few seconds each). For the full
sizes set ``HYPERDJANGO_STRESS=full``::

    HYPERDJANGO_STRESS=full ./dev.sh test tests/stress -q

``scale(short, full)`` picks the size for the current mode. ``medium`` is the
short mode plus the 60-second soak (``test_soak.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from hyperdjango import HyperApp
from support.processes import free_port

#: ``short`` (the default), ``medium`` or ``full``.
MODE = os.environ.get("HYPERDJANGO_STRESS", "short")
FULL = MODE == "full"


def scale(short: int, full: int) -> int:
    """``short`` in the default mode, ``full`` with ``HYPERDJANGO_STRESS=full``."""
    return full if FULL else short


@contextlib.contextmanager
def server_process(argv: Callable[[int], list[str]], cwd: Path, env: dict[str, str] | None = None,
                   stop_timeout: float = 20.0) -> Iterator[tuple[subprocess.Popen, int]]:
    """The server ``argv(port)`` started on a free port of 127.0.0.1, as ``(process, port)``
    once it accepts connections (or after 20 s); stopped with SIGTERM at the end, killed
    after ``stop_timeout`` seconds."""
    port = free_port()
    proc = subprocess.Popen(argv(port), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield proc, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_mb(pid: int) -> float:
    """The resident memory of process ``pid``, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def open_fds(pid: int) -> int:
    """How many file descriptors process ``pid`` has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def address(base_url: str) -> tuple[str, int]:
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


async def timed_get(host: str, port: int, path: str = "/hello", timeout: float = 10.0) -> tuple[bytes, float]:
    """One request on a new connection: the status line and the seconds it took."""
    started = time.perf_counter()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), timeout)
        await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    return status, time.perf_counter() - started


def p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def hello_upload_app(title: str, max_body_size: int) -> HyperApp:
    """An app for hostile clients: ``GET /hello`` answers ``hello``, ``POST /upload`` the body's size."""
    app = HyperApp(title=title, max_body_size=max_body_size)

    @app.get("/hello")
    async def hello(request):
        return "hello"

    @app.post("/upload")
    async def upload(request):
        return {"size": len(await request.body())}

    return app
