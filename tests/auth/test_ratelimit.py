"""Rate limiting through real sockets: fixed and sliding windows, keys, 429 with
Retry-After; counters in memory, a real Redis and the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import time

import pytest

from hyperdjango import HyperApp, Router
from hyperdjango.cache import configure_caches
from hyperdjango.middleware.ratelimit import RateLimit, RateLimitMiddleware, parse_rate, rate_limit
from hyperdjango.testing import TestClient


def limited_app(limit: RateLimit, database="sqlite://:memory:"):
    app = HyperApp(database=database)

    @app.post("/login")
    @limit
    async def login(request):
        return {"ok": True}

    @app.get("/free")
    async def free(request):
        return {"free": True}

    return app


@pytest.fixture
def memory_cache():
    import asyncio

    from hyperdjango.cache import caches

    configure_caches({"default": {"BACKEND": "locmem"}})
    asyncio.run(caches["default"].clear())  # one in-memory store per process: start empty


def test_parse_rate():
    assert parse_rate("100/m") == (100, 60)
    assert parse_rate("10/5m") == (10, 300)
    assert parse_rate("3/hour") == (3, 3600)
    with pytest.raises(ValueError):
        parse_rate("lots")


@pytest.mark.parametrize("algorithm", ["fixed", "sliding"])
def test_the_request_over_the_limit_is_a_429_with_retry_after(memory_cache, algorithm):
    limit = RateLimit("3/m", key="ip", algorithm=algorithm)
    with TestClient(limited_app(limit)) as c:
        assert [c.post("/login").status_code for _ in range(3)] == [200, 200, 200]
        refused = c.post("/login")
        assert refused.status_code == 429 and refused.json() == {"detail": "Too many requests"}
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert c.get("/free").status_code == 200  # other views are not limited
    assert (limit.stats.allowed, limit.stats.limited) == (3, 1)


def test_the_sliding_window_remembers_the_previous_window(memory_cache, monkeypatch):
    clock = [1_000_000.0]  # the start of a 10 s window
    monkeypatch.setattr(time, "time", lambda: clock[0])
    fixed, sliding = RateLimit("4/10s", algorithm="fixed", scope="f"), RateLimit("4/10s", algorithm="sliding", scope="s")

    class Peer:
        class client:
            host = "10.0.0.1"
        method = "POST"

    import asyncio

    async def burst(limit, n):
        return [await limit.check(Peer) is None for _ in range(n)]

    async def scenario():
        clock[0] = 1_000_009.0  # the end of one window: 4 requests
        assert await burst(fixed, 4) == [True] * 4 and await burst(sliding, 4) == [True] * 4
        clock[0] = 1_000_011.0  # just after the boundary
        # The fixed window starts from zero: 4 more pass (8 in 2 s); the sliding one
        # still counts 90 % of the previous window and refuses.
        assert await burst(fixed, 4) == [True] * 4
        assert await burst(sliding, 1) == [False]

    asyncio.run(scenario())


def test_keys_by_user_or_custom_function(memory_cache):
    by_header = RateLimit("1/m", key=lambda request: request.headers.get("x-api-key", "none"))
    with TestClient(limited_app(by_header)) as c:
        assert c.post("/login", headers={"x-api-key": "a"}).status_code == 200
        assert c.post("/login", headers={"x-api-key": "a"}).status_code == 429
        assert c.post("/login", headers={"x-api-key": "b"}).status_code == 200


def test_the_middleware_and_a_router_guard(memory_cache):
    app = HyperApp(database="sqlite://:memory:")
    middleware = RateLimitMiddleware("2/m", methods=("POST",))
    app.use(middleware)
    api = Router(guards=[rate_limit("1/m", scope="api")])

    @api.get("/thing")
    async def thing(request):
        return {}

    @app.post("/write")
    async def write(request):
        return {}

    app.include_router(api, prefix="/api")
    with TestClient(app) as c:
        assert [c.post("/write").status_code for _ in range(3)] == [200, 200, 429]
        assert [c.get("/api/thing").status_code for _ in range(2)] == [200, 429]
    assert middleware.stats.limited == 1


def test_counters_shared_through_a_real_redis(redis_url):
    configure_caches({"default": {"BACKEND": "redis", "LOCATION": redis_url}})
    scope = f"redis-{time.time_ns()}"
    first, second = RateLimit("2/m", scope=scope), RateLimit("2/m", scope=scope)
    # Two apps (two "processes") share one count through Redis.
    with TestClient(limited_app(first)) as a, TestClient(limited_app(second)) as b:
        assert a.post("/login").status_code == 200
        assert b.post("/login").status_code == 200
        assert a.post("/login").status_code == 429
        assert b.post("/login").status_code == 429


def test_counters_in_the_database(db_url):
    configure_caches({"default": {"BACKEND": "database", "OPTIONS": {"DATABASE": db_url}}})
    limit = RateLimit("2/m", scope=f"db-{time.time_ns()}", algorithm="sliding")
    with TestClient(limited_app(limit, database=db_url)) as c:
        assert [c.post("/login").status_code for _ in range(3)] == [200, 200, 429]
