"""A worker process SIGKILLed under load with ``--workers 4``: the supervisor replaces
it, and clients see at most the requests that worker had in flight fail.

Short mode: ~2 s of load from 8 clients; ``HYPERDJANGO_STRESS=full``: ~10 s, a kill every 2 s."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from support.stress import scale

APPS = Path(__file__).parent.parent / "server" / "apps"


@pytest.fixture
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "hyperdjango", "run", "workers_app:app", "--port", str(port), "--workers", "4"],
                            cwd=APPS, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while len(worker_pids(url, 50)) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    yield url
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def worker_pids(url: str, attempts: int) -> set[int]:
    pids = set()
    for _ in range(attempts):
        try:
            response = httpx.get(url + "/pid", headers={"connection": "close"}, timeout=2)
        except httpx.TransportError:
            continue
        if response.status_code == 200:
            pids.add(response.json()["pid"])
    return pids


async def load(url: str, until: float, seen: Counter) -> None:
    while time.monotonic() < until:
        # A new connection each time, so that the kernel spreads them over the workers.
        async with httpx.AsyncClient(timeout=5) as http:
            try:
                seen[(await http.get(url + "/slow?seconds=0.05")).status_code] += 1
            except httpx.TransportError as e:
                seen[type(e).__name__] += 1


def test_a_killed_worker_is_replaced_and_only_its_in_flight_requests_fail(server):
    kills, seconds = scale(1, 5), scale(2, 10)
    before = worker_pids(server, 80)
    assert len(before) == 4
    seen: Counter = Counter()
    killed = []

    async def scenario():
        until = time.monotonic() + seconds
        loaders = asyncio.gather(*(load(server, until, seen) for _ in range(8)))
        for _ in range(kills):
            await asyncio.sleep(seconds / (kills + 1))
            victim = (worker_pids(server, 20) - set(killed)).pop()
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
        await loaders

    asyncio.run(scenario())
    failed = sum(n for key, n in seen.items() if key != 200)
    assert set(seen) - {200} <= {"RemoteProtocolError", "ReadError", "ConnectError"}, seen
    assert failed <= 8 * kills, seen  # at most the in-flight requests: one per client per kill
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = worker_pids(server, 80)
        if len(now) == 4 and not now & set(killed):
            break
        time.sleep(0.2)
    assert len(now) == 4 and not now & set(killed), (now, killed)
