"""Fixtures that run real server processes with the ``hyper`` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.processes import free_port

APPS = Path(__file__).parent / "apps"


def wait_until_serving(url: str, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited early with code {proc.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


class ServerProcess:
    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


@pytest.fixture
def hyper_server(tmp_path: Path) -> Iterator:
    """Starts ``hyper run <app> --port P [args]`` and stops it afterwards."""
    started: list[ServerProcess] = []

    def start(app: str, *args: str, env: dict[str, str] | None = None, cwd: Path = APPS) -> ServerProcess:
        port = free_port()
        cmd = [sys.executable, "-m", "hyperdjango", "run", app, "--port", str(port), *args]
        proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})})
        server = ServerProcess(proc, port)
        started.append(server)
        wait_until_serving(server.url + "/", proc)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
