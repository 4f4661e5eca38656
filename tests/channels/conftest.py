"""Fixtures for the channel-layer tests: the same behaviour on every layer.

``layers(n, **options)`` makes ``n`` connected layers of the parametrised kind
that stand for ``n`` processes: for ``memory`` they are one layer (it has one
process only), for ``postgres`` and ``redis`` they are separate layers (own
connections, own sender ids) on one database or server. Every test gets fresh
channel names (``name``) and, on Redis, its own key prefix.

``layer_process(**options)`` starts a real process with a layer on the same
backend (``apps/layer_process.py``), driven by commands.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from hyperdjango.channels import InMemoryChannelLayer, PgChannelLayer, RedisChannelLayer

KINDS = ["memory", "postgres", "redis"]


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


@pytest.fixture
def name():
    """A channel-name maker unique to the test."""
    tag = uuid.uuid4().hex[:8]
    return lambda base="room": f"{base}:{tag}"


@pytest.fixture
def backend(request, kind):
    """``(url, prefix)`` of the parametrised backend, the prefix fresh per test."""
    url = request.getfixturevalue({"memory": "name", "postgres": "pg_url", "redis": "redis_url"}[kind])
    return url, f"hd-test:{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def layers(backend, kind):
    made = []
    url, prefix = backend

    async def make(n: int = 2, **options):
        if kind == "memory":
            layer = InMemoryChannelLayer(**options)
            await layer.connect()
            made.append(layer)
            return [layer] * n
        result = []
        for _ in range(n):
            layer = PgChannelLayer(url, **options) if kind == "postgres" else RedisChannelLayer(url, prefix=prefix, **options)
            await layer.connect()
            made.append(layer)
            result.append(layer)
        return result

    yield make
    for layer in made:
        await layer.close()



class LayerProcess:
    """A process running ``apps/layer_process.py``: ``await proc.send("join c u1 Ann")``
    returns its one-line answer."""

    def __init__(self, popen: subprocess.Popen) -> None:
        self.popen = popen
        self.killed = False

    async def read(self, timeout: float = 60.0) -> str:
        line = await asyncio.wait_for(asyncio.to_thread(self.popen.stdout.readline), timeout)
        if not line:
            raise AssertionError(f"the layer process ended (exit code {self.popen.wait()})")
        return line.strip()

    async def send(self, command: str) -> str:
        self.popen.stdin.write(command + "\n")
        self.popen.stdin.flush()
        return await self.read()

    def kill(self) -> None:
        """SIGKILL: the process ends without closing its layer."""
        self.popen.kill()
        self.popen.wait(timeout=30)
        self.killed = True


@pytest.fixture
async def layer_process(backend):
    url, prefix = backend
    started = []

    async def start(**options) -> LayerProcess:
        popen = subprocess.Popen(
            [sys.executable, str(Path(__file__).parent / "apps" / "layer_process.py"), url, prefix, json.dumps(options)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        proc = LayerProcess(popen)
        started.append(proc)
        assert await proc.read() == "ready"
        return proc

    yield start
    for proc in started:
        if not proc.killed:
            proc.popen.stdin.close()  # the process closes its layer and ends
    for proc in started:
        if not proc.killed:
            assert proc.popen.wait(timeout=30) == 0
