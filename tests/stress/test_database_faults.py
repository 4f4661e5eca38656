"""PostgreSQL connections killed (``pg_terminate_backend``) during HTTP + ORM load: no
request hangs, failures are 500s counted per request, and the pool recovers.

Short mode: 3 kills over ~2 s; ``HYPERDJANGO_STRESS=full``: 20 kills over ~20 s."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest

from hyperdjango import Field, HyperApp, Model
from hyperdjango.database import Database
from hyperdjango.testing import TestClient

from support.orm import setup_tables
from support.stress import scale


class Counted(Model):
    class Meta:
        table = "stress_counted"

    name: str = Field(max_length=20)
    hits: int = 0


@pytest.fixture(scope="module")
def server(pg_url):
    setup_tables(pg_url, (Counted,))
    app = HyperApp(title="faults", database=pg_url + "?max_size=4&acquire_timeout=2")

    @app.get("/count")
    async def count(request):
        await Counted.objects.create(name="x")
        return {"count": await Counted.objects.count()}

    with TestClient(app, timeout=15) as client:
        yield client


async def load(base_url: str, until: float, seen: Counter) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=15) as http:
        while time.monotonic() < until:
            started = time.monotonic()
            try:
                status = (await http.get("/count")).status_code
            except httpx.TimeoutException:
                status = "hung"
            seen[status] += 1
            seen["slowest"] = max(seen["slowest"], time.monotonic() - started)


async def kill_connections(pg_url: str, kills: int, every: float) -> None:
    admin = Database(pg_url)
    try:
        for _ in range(kills):
            await asyncio.sleep(every)
            await admin.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    finally:
        await admin.close()


def test_killed_connections_under_http_load_never_hang_and_the_pool_recovers(server, pg_url):
    kills = scale(3, 20)
    seen: Counter = Counter()

    async def scenario():
        until = time.monotonic() + kills * 0.6 + 0.5
        await asyncio.gather(*(load(server.base_url, until, seen) for _ in range(8)), kill_connections(pg_url, kills, 0.6))

    asyncio.run(scenario())
    assert set(seen) <= {200, 500, "slowest"}, seen  # typed failures, never a hang
    assert seen[200] > 0 and seen["slowest"] < 10, seen
    # Recovered: every request succeeds once the kills stop.
    deadline = time.monotonic() + 10
    while server.get("/count").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(server.get("/count").status_code == 200 for _ in range(20))
