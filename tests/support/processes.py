"""Server processes for tests: ``hyper run`` on a free port, waited for and stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 20.0, what: str = "the condition") -> float:
    """Waits for ``predicate()`` to hold; returns the seconds it took (the timeout only bounds a failing test)."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        time.sleep(0.01)
    return time.monotonic() - started


class HyperRunServers:
    """``start(env)`` runs ``hyper run <app>`` in ``cwd`` and returns ``http://host:port`` once it
    answers ``probe``; ``stop()`` sends SIGTERM to each and expects a clean exit."""

    def __init__(self, app: str, cwd: Path, probe: str = "/") -> None:
        self.app, self.cwd, self.probe = app, cwd, probe
        self.processes: list[subprocess.Popen] = []

    def start(self, env: dict[str, str]) -> str:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "hyperdjango", "run", self.app, "--port", str(port)], cwd=self.cwd, env={**os.environ, **env}
        )
        self.processes.append(process)
        base = f"http://127.0.0.1:{port}"

        def serving() -> bool:
            assert process.poll() is None, f"the server exited with {process.returncode}"
            try:
                return httpx.get(base + self.probe, timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(serving, what="the server answering")
        return base

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            assert process.wait(timeout=30) == 0
