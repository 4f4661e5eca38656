"""Slowloris: many clients dribbling request heads and bodies a byte at a time get
408 and are closed, while a normal client is still served quickly.

Short mode: 200 slow heads and 200 slow bodies; ``HYPERDJANGO_STRESS=full``: 1,000 of each."""

from __future__ import annotations

import asyncio
import time

import pytest

from hyperdjango.testing import TestClient

from support.stress import address, hello_upload_app, p99, scale, timed_get

app = hello_upload_app("slowloris", max_body_size=1_000_000)
HEADER_TIMEOUT = 1.0
#: What a normal client's slowest 1 % may take while the slow ones hold their connections
#: (generous: the test machine is shared; on a quiet one it is a few milliseconds).
P99_BOUND = 1.0


@pytest.fixture(scope="module")
def server():
    with TestClient(app, header_timeout=HEADER_TIMEOUT) as client:
        yield client


async def dribble(host: str, port: int, first: bytes, drip: bytes, give_up: float) -> bytes:
    """Sends ``first``, then ``drip`` a byte every 100 ms; returns the status line the server answers."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(first)
        deadline = time.monotonic() + give_up
        answer = asyncio.ensure_future(reader.readline())
        for byte in drip:
            done, _ = await asyncio.wait({answer}, timeout=0.1)
            if done or time.monotonic() > deadline:
                break
            try:
                writer.write(bytes([byte]))
            except (ConnectionError, RuntimeError):
                break
        return await asyncio.wait_for(answer, max(0.1, deadline - time.monotonic()))
    except (ConnectionError, TimeoutError):
        return b""
    finally:
        writer.close()


async def attack_and_measure(base_url: str, slow: int) -> tuple[list[bytes], list[bytes], list[float]]:
    host, port = address(base_url)
    heads = [dribble(host, port, b"GET /hello HTTP/1.1\r\nHost: x\r\n", b"X-Slow: " + b"a" * 200, give_up=10) for _ in range(slow)]
    bodies = [dribble(host, port, b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", b"b" * 1000, give_up=10) for _ in range(slow)]
    attack = asyncio.gather(*heads, *bodies)
    latencies = []
    ends = time.monotonic() + 2 * HEADER_TIMEOUT
    while time.monotonic() < ends:
        status, took = await timed_get(host, port)
        assert status.startswith(b"HTTP/1.1 200"), status
        latencies.append(took)
        await asyncio.sleep(0.01)
    answers = await attack
    return answers[:slow], answers[slow:], latencies


def test_slow_heads_and_bodies_get_408_while_a_normal_client_is_served(server):
    slow = scale(200, 1000)
    heads, bodies, latencies = asyncio.run(attack_and_measure(server.base_url, slow))
    assert all(a.startswith(b"HTTP/1.1 408") for a in heads), {a[:12] for a in heads}
    assert all(a.startswith(b"HTTP/1.1 408") for a in bodies), {a[:12] for a in bodies}
    assert len(latencies) > 10
    assert p99(latencies) < P99_BOUND, sorted(latencies)[-5:]
    assert server.get("/hello").text == "hello"
