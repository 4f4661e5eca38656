"""The Redis server behind the cache, the cache-backed sessions and the Redis channel
layer killed (SIGKILL) while the app runs, then started again, empty: during the outage
the cache raises ``cache.unavailable_errors()`` (as Django's RedisCache raises redis-py's
errors), a request that needs its session is a 503 with ``Retry-After`` and a publish is a
503 too, a request that never uses its session answers; once the server is back each works again, without restarting the app.

The test starts its own throwaway ``redis-server``; the shared one is never touched."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from hyperdjango import HyperApp
from hyperdjango.cache import caches
from hyperdjango.channels import RedisChannelLayer
from hyperdjango.sessions import SessionMiddleware
from hyperdjango.testing import TestClient

from support.outage_apps import add_outage_views
from support.redis import kill, start_again
from support.waiting import until


@pytest.fixture
def client(throwaway_redis):
    layer = RedisChannelLayer(throwaway_redis.url)
    app = HyperApp(secret_key="outage test", caches={"default": {"BACKEND": "redis", "LOCATION": throwaway_redis.url}})
    app.use(SessionMiddleware(engine="cache"))

    add_outage_views(app, layer)

    @app.get("/cached")
    async def cached(request):
        # The documented way for a view to live without its cache.
        cache = caches["default"]
        try:
            await cache.set("greeting", "hello")
            return {"greeting": await cache.get("greeting")}
        except cache.unavailable_errors():
            return {"greeting": None}

    with TestClient(app, timeout=20) as client:
        yield client


def cached(client) -> dict:
    """``GET /cached`` without the session cookie (the middleware loads a session it is sent)."""
    return httpx.get(f"{client.base_url}/cached", timeout=20).json()


def test_a_redis_outage_is_a_503_for_sessions_and_publishes_and_everything_recovers(throwaway_redis, client):
    assert client.get("/visits").json() == {"visits": 1}
    assert client.get("/visits").json() == {"visits": 2}
    assert cached(client) == {"greeting": "hello"}
    assert client.post("/say").status_code == 200

    kill(throwaway_redis)
    for response in (client.get("/visits"), client.post("/say")):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert "cannot be reached" in response.json()["detail"]
    assert cached(client) == {"greeting": None}
    # The session cookie is sent, but this view never uses its session.
    assert client.get("/static-page").json() == {"page": "about"}

    start_again(throwaway_redis)
    # The restarted server is empty: the old session is gone, a new one starts.
    assert client.get("/visits").json() == {"visits": 1}
    assert client.get("/visits").json() == {"visits": 2}
    assert cached(client) == {"greeting": "hello"}
    asyncio.run(until(lambda: client.post("/say").status_code == 200, what="a publish after the restart"))
