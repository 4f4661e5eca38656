"""A soak: mixed traffic (JSON, ORM, background tasks, WebSockets opened and
closed) against one worker process, its RSS and open file descriptors sampled
every few seconds: neither grows.

Too long for ``./dev.sh test``, so it runs only when asked:
``HYPERDJANGO_STRESS=medium`` soaks for 60 s, ``HYPERDJANGO_STRESS=full`` for
10 minutes. Run with ``-s`` to see the samples."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from support.stress import MODE, open_fds, rss_mb, server_process
from support.ws_client import WsClient

APPS = Path(__file__).parent / "apps"
DURATION = {"medium": 60.0, "full": 600.0}.get(MODE)
#: Seconds of warm-up left out of the comparison (caches, pools and arenas filling).
WARM_UP = 0.2
#: The last third's median RSS may exceed the first third's by this much at most.
RSS_GROWTH = 0.10

pytestmark = [
    pytest.mark.skipif(DURATION is None, reason="a soak runs with HYPERDJANGO_STRESS=medium (60 s) or full (10 min)"),
    # The suite's 120 s per test would stop the 10-minute soak: its own bound, with room to start and stop.
    pytest.mark.timeout((DURATION or 0) + 120),
]


@pytest.fixture
def server(tmp_path):
    env = {**os.environ, "SOAK_DATABASE": f"sqlite:///{tmp_path / 'soak.db'}"}
    with server_process(lambda port: [sys.executable, "-m", "hyperdjango", "run", "soak_app:app", "--port", str(port)], APPS, env) as running:
        yield running


async def http_traffic(port: int, until: float, seen: Counter, latencies: list[float]) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=15) as http:
        while time.monotonic() < until:
            for path in ("/json", "/orm", "/task"):
                started = time.monotonic()
                seen[(path, (await http.get(path)).status_code)] += 1
                latencies.append(time.monotonic() - started)


async def websocket_traffic(port: int, until: float, seen: Counter) -> None:
    """Connections that live for 20 messages each: opened, used and closed over and over."""
    while time.monotonic() < until:
        client = await WsClient.connect("127.0.0.1", port, "/ws/echo")
        for n in range(20):
            client.send_text(f"echo {n}")
            _, payload = await asyncio.wait_for(client.recv(), 15)
            seen["ws", payload == f"echo {n}".encode()] += 1
        client.close()


async def sample(pid: int, until: float, every: float, samples: list[tuple[float, float, int]]) -> None:
    started = time.monotonic()
    while time.monotonic() < until:
        samples.append((time.monotonic() - started, rss_mb(pid), open_fds(pid)))
        await asyncio.sleep(every)


def test_mixed_traffic_for_a_long_time_grows_neither_memory_nor_file_descriptors(server):
    proc, port = server
    seen: Counter = Counter()
    samples: list[tuple[float, float, int]] = []
    latencies: list[float] = []

    async def scenario():
        until = time.monotonic() + DURATION
        await asyncio.gather(
            *(http_traffic(port, until, seen, latencies) for _ in range(4)),
            *(websocket_traffic(port, until, seen) for _ in range(2)),
            sample(proc.pid, until, DURATION / 60, samples),
        )

    asyncio.run(scenario())
    for t, rss, fds in samples:
        print(f"{t:6.1f} s  RSS {rss:6.1f} MB  {fds} fds")
    print(dict(seen))
    percentiles = statistics.quantiles(latencies, n=100)
    print(f"HTTP latency over {len(latencies)} requests: p50 {percentiles[49] * 1000:.1f} ms, "
          f"p99 {percentiles[98] * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    assert all(status == 200 for (kind, status) in seen if kind != "ws"), seen
    assert seen["ws", True] > 0 and seen["ws", False] == 0, seen
    measured = samples[int(len(samples) * WARM_UP):]
    third = len(measured) // 3
    first, last = measured[:third], measured[-third:]
    first_rss, last_rss = statistics.median(s[1] for s in first), statistics.median(s[1] for s in last)
    assert last_rss <= first_rss * (1 + RSS_GROWTH), (first_rss, last_rss)
    # Descriptors: the connections in flight at a sample come and go; the rest is fixed.
    assert max(s[2] for s in last) <= max(s[2] for s in first) + 4, (first, last)
