"""Server processes for the ASGI/WSGI suites: ``hyper run``, uvicorn and Granian
serving one ``module:attribute`` on a free port, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from support.processes import free_port

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent


def command(server: str, target: str, port: int, *extra: str) -> list[str]:
    """The command line that serves ``target`` with ``server``."""
    if server == "hyper":
        return [sys.executable, "-m", "hyperdjango", "run", target, "--port", str(port), *extra]
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--lifespan", "on", "--log-level", "warning", *extra]
    if server == "granian":
        return [sys.executable, "-m", "granian", "--interface", "asgi", "--port", str(port), "--workers", "1", "--log-level", "warning", target, *extra]
    raise ValueError(server)


@contextmanager
def serving(server: str, target: str, *extra: str, timeout: float = 30.0, env: dict[str, str] | None = None, cwd: Path = TESTS):
    """Runs ``target`` (importable from ``cwd``) under ``server``; yields the base URL once it answers."""
    port = free_port()
    path = [str(cwd), str(TESTS), str(ROOT), os.environ.get("PYTHONPATH", "")]
    environment = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join(path)}
    proc = subprocess.Popen(command(server, target, port, *extra), cwd=cwd, env=environment)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{server} exited with {proc.returncode} before serving {target}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{server} did not serve {target} within {timeout}s") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@asynccontextmanager
async def running(server, **options):
    """Serves ``server`` (an ``AsgiServer``/``WsgiServer``) on the test's loop; yields its base URL."""
    stop = asyncio.Event()
    address: asyncio.Future = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(server.serve("127.0.0.1", 0, stop=stop, ready=lambda h, p: address.set_result(p), grace=2.0, **options))
    done, _ = await asyncio.wait({task, address}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # serve failed before binding: raise its error
    try:
        yield f"http://127.0.0.1:{address.result()}"
    finally:
        stop.set()
        await task
