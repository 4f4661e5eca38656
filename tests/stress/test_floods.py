"""Floods of oversized and malformed requests: every one is answered with its 4xx
(never a 500, never a hang) and a normal client is still served quickly.

Short mode: 16 flooding connections at a time for 2 s; ``HYPERDJANGO_STRESS=full``: 200 for 20 s."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter

import pytest

from hyperdjango.testing import TestClient

from support.stress import address, hello_upload_app, p99, scale, timed_get

app = hello_upload_app("floods", max_body_size=64 * 1024)
P99_BOUND = 1.0  # seconds; generous, the test machine is shared

#: name: (what the client sends, the status it must get)
FLOODS = {
    "oversized head": (b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n", b"431"),
    "oversized body": (b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n" + b"z" * 65536, b"413"),
    "TLS to a plain port": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n", b"400"),
    "a path that is not UTF-8": (b"GET /" + b"%ff" * 10 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"400"),
    "a NUL in the path": (b"GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", b"400"),
}


@pytest.fixture(scope="module")
def server():
    with TestClient(app, header_timeout=2.0) as client:
        yield client


async def flood(host: str, port: int, until: float, seen: Counter, rng: random.Random) -> None:
    while time.monotonic() < until:
        name = rng.choice(list(FLOODS))
        data, expected = FLOODS[name]
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            seen["connect failed"] += 1
            continue
        try:
            writer.write(data)
            status = await asyncio.wait_for(reader.readline(), 5)
            got = status.split(b" ")[1] if status.startswith(b"HTTP/1.1 ") else b"closed"
            seen["refused" if got == expected else f"{name}: {got.decode()}"] += 1
        except ConnectionError:
            seen["reset"] += 1  # closed before we finished writing: it refused the request
        except TimeoutError:
            seen[f"{name}: hung"] += 1
        finally:
            writer.close()


async def run(base_url: str, clients: int, seconds: float) -> tuple[Counter, list[float]]:
    host, port = address(base_url)
    seen: Counter = Counter()
    until = time.monotonic() + seconds
    rng = random.Random(int(os.environ.get("HYPERDJANGO_STRESS_SEED", "10")))
    flooding = asyncio.gather(*(flood(host, port, until, seen, rng) for _ in range(clients)))
    latencies = []
    while time.monotonic() < until:
        status, took = await timed_get(host, port)
        assert status.startswith(b"HTTP/1.1 200"), status
        latencies.append(took)
        await asyncio.sleep(0.01)
    await flooding
    return seen, latencies


def test_floods_of_bad_requests_get_their_4xx_while_a_normal_client_is_served(server):
    seen, latencies = asyncio.run(run(server.base_url, scale(16, 200), scale(2, 20)))
    wrong = {k: n for k, n in seen.items() if k not in ("refused", "reset")}
    assert not wrong, wrong
    assert seen["refused"] > 50, seen
    assert p99(latencies) < P99_BOUND, sorted(latencies)[-5:]
    assert server.get("/hello").text == "hello"
