"""1,000 concurrent argon2 logins: other requests keep being answered during the burst,
and no more hashes than the pool's bound are ever in memory at once."""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time

import httpx

from hyperdjango import Response
from hyperdjango.auth import User, authenticate, hashers, login
from hyperdjango.testing import TestClient

LOGINS = 1000


class CountingArgon2(hashers.Argon2PasswordHasher):
    """The real argon2id hasher, counting how many hashes run at the same time."""

    def __init__(self) -> None:
        # Cheaper than the default so 1,000 logins fit in a test; still argon2id in Rust.
        super().__init__(memory_kib=4096, iterations=1, parallelism=1)
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.calls = 0

    def verify(self, password: str, encoded: str) -> bool:
        with self.lock:
            self.running += 1
            self.calls += 1
            self.peak = max(self.peak, self.running)
        try:
            return super().verify(password, encoded)
        finally:
            with self.lock:
                self.running -= 1


# The burst comes from another process, so that its client work does not share the
# server's GIL (which would measure the client, not the server).
BURST = """
import asyncio, sys, httpx
async def main():
    n = int(sys.argv[2])
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=sys.argv[1], limits=limits, timeout=120) as client:
        async def one():
            r = await client.post("/login", json={"username": "burst", "password": "burst passphrase"})
            return r.status_code
        statuses = await asyncio.gather(*(one() for _ in range(n)))
    print(sum(s == 200 for s in statuses))
asyncio.run(main())
"""


def _burst(client: TestClient) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    start = time.perf_counter()
    burst = subprocess.Popen([sys.executable, "-c", BURST, client.base_url, str(LOGINS)], stdout=subprocess.PIPE, text=True)
    with httpx.Client(base_url=client.base_url, timeout=120) as pinger:
        while burst.poll() is None:
            began = time.perf_counter()
            assert pinger.get("/ping").status_code == 200
            latencies.append(time.perf_counter() - began)
            time.sleep(0.005)
    duration = time.perf_counter() - start
    out, _ = burst.communicate()
    return duration, latencies, int(out.strip())


def test_a_burst_of_logins_neither_stalls_other_requests_nor_exceeds_the_memory_bound(make_app):
    hasher = CountingArgon2()
    previous = hashers.pool
    hashers.set_hashers([hasher], max_concurrency=2)
    try:
        app = make_app("signed_cookies")

        @app.get("/ping")
        async def ping(request):
            return Response.text("pong")

        @app.post("/login")
        async def login_view(request):
            data = await request.json()
            user = await authenticate(request, username=data["username"], password=data["password"])
            if user is None:
                return Response.json({}, status=401)
            await login(request, user)
            return {}

        @app.post("/seed")
        async def seed(request):
            if await User.objects.filter(username="burst").first() is None:
                user = User(username="burst")
                await user.set_password("burst passphrase")
                await user.save()
            return {}

        with TestClient(app, max_connections=LOGINS + 100) as client:
            client.post("/seed")
            duration, latencies, succeeded = _burst(client)
    finally:
        hashers.pool = previous

    assert succeeded == LOGINS
    assert hasher.calls >= LOGINS
    # At most max_concurrency hashes at once: memory ≤ 2 × 4 MiB of argon2 blocks.
    assert hasher.peak <= 2
    # The loop kept answering: many pings during the burst, none waiting for it to end.
    # (Relative bounds: this machine is shared, absolute latencies are not meaningful.)
    assert len(latencies) >= 10, (duration, latencies)
    assert max(latencies) < duration / 2, (duration, max(latencies))
    print(f"\n{LOGINS} logins in {duration:.2f}s; /ping during the burst: n={len(latencies)} "
          f"median={statistics.median(latencies) * 1000:.1f}ms max={max(latencies) * 1000:.1f}ms; peak hashes {hasher.peak}")
