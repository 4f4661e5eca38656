"""The PostgreSQL server behind the database-backed sessions and the PostgreSQL channel
layer stopped while the app runs, then started again: during the outage a request that
needs its session and a publish answer 503 with ``Retry-After`` (as with Redis, see
``tests/cache/test_redis_outage.py``), a request that never touches its session answers
200 (the session and ``request.user`` fail at their first use, not before the view), and once the server is back everything works again without restarting the app.

The test runs its own throwaway cluster (``start_cluster``); the shared server is never
stopped."""

from __future__ import annotations

import asyncio

import pytest

from hyperdjango import HyperApp
from hyperdjango.auth import AuthenticationMiddleware, User, authenticate, login
from hyperdjango.channels import InMemoryChannelLayer, PgChannelLayer
from hyperdjango.migrations import migrate
from hyperdjango.sessions import SessionMiddleware
from hyperdjango.testing import TestClient

from support.outage_apps import add_outage_views
from support.postgres import start_cluster
from support.waiting import until


@pytest.fixture
def cluster():
    server = start_cluster()
    yield server
    server.stop()


@pytest.fixture
def client(cluster):
    url = cluster.url(cluster.create_database())
    layer = PgChannelLayer(url)
    app = HyperApp(database=url, secret_key="postgres outage test")
    app.use(SessionMiddleware(engine="db"))
    app.use(AuthenticationMiddleware())

    add_outage_views(app, layer)

    @app.on_startup
    async def ready():
        await migrate(app.database, "hyperdjango.sessions", "hyperdjango.auth")
        layer.group("everyone").add("room")  # the layer connected in the hook before (they run in order)

    @app.get("/whoami")
    async def whoami(request):
        return {"authenticated": request.user.is_authenticated}

    @app.post("/tell-group")
    async def tell_group(request):
        await layer.group("everyone").publish({"text": "hi all"})
        return {"ok": True}

    with TestClient(app, timeout=30) as client:
        yield client


def test_a_postgres_outage_is_a_503_for_db_sessions_and_publishes_and_everything_recovers(cluster, client):
    assert client.get("/visits").json() == {"visits": 1}
    assert client.get("/visits").json() == {"visits": 2}
    assert client.post("/say").status_code == 200
    assert client.post("/tell-group").status_code == 200

    cluster.halt()
    for response in (client.get("/visits"), client.post("/say"), client.post("/tell-group")):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert "cannot be reached" in response.json()["detail"]

    cluster.start_again()
    # The session was stored in the database, which kept it.
    assert client.get("/visits").json() == {"visits": 3}
    asyncio.run(until(lambda: client.post("/say").status_code == 200, timeout=30, what="a publish after the restart"))
    assert client.post("/tell-group").status_code == 200


def test_during_a_postgres_outage_a_view_that_ignores_its_session_still_answers(cluster, client):
    assert client.get("/visits").json() == {"visits": 1}
    assert "sessionid" in client.cookies

    cluster.halt()
    response = client.get("/static-page")
    assert response.status_code == 200, response.text
    assert response.json() == {"page": "about"}
    assert "set-cookie" not in response.headers  # the cookie is kept, not deleted
    for needs_the_session in ("/visits", "/whoami"):
        response = client.get(needs_the_session)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"

    cluster.start_again()
    assert client.get("/visits").json() == {"visits": 2}
    assert client.get("/whoami").json() == {"authenticated": False}


def cache_sessions_app(cluster, backend: str) -> HyperApp:
    """An app on a database of the cluster whose sessions are in a cache of ``backend``."""
    url = cluster.url(cluster.create_database())
    app = HyperApp(database=url, secret_key="postgres outage test", caches={"sessions": {"BACKEND": backend}})
    app.use(SessionMiddleware(engine="cache", cache_alias="sessions"))
    app.use(AuthenticationMiddleware())
    add_outage_views(app, InMemoryChannelLayer())
    return app


@pytest.fixture
def cache_sessions_client(cluster):
    """Sessions in the database cache, on the cluster the test halts."""
    app = cache_sessions_app(cluster, "database")

    @app.on_startup
    async def ready():
        await migrate(app.database, "hyperdjango.cache", "hyperdjango.auth")

    with TestClient(app, timeout=30) as client:
        yield client


def test_a_postgres_outage_is_a_503_for_sessions_in_the_database_cache_and_they_recover(cluster, cache_sessions_client):
    client = cache_sessions_client
    assert client.get("/visits").json() == {"visits": 1}
    assert client.get("/visits").json() == {"visits": 2}

    cluster.halt()
    response = client.get("/visits")
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert "cannot be reached" in response.json()["detail"]
    # The session cookie is sent, but this view never uses its session (nor its user).
    assert client.get("/static-page").json() == {"page": "about"}

    cluster.start_again()
    # The cache's table is UNLOGGED, which crash recovery (an immediate stop) empties, as a
    # Redis restarted without persistence: the old session is gone, a new one starts.
    asyncio.run(until(lambda: client.get("/visits").status_code == 200, timeout=30, what="a session after the restart"))
    assert client.get("/visits").json() == {"visits": 2}


@pytest.fixture
def users_client(cluster):
    """Sessions in a memory cache (they outlive the outage); the users in the cluster's database."""
    app = cache_sessions_app(cluster, "locmem")

    @app.on_startup
    async def ready():
        await migrate(app.database, "hyperdjango.auth")
        user = User(username="ada")
        await user.set_password("correct horse")
        await user.save()

    @app.post("/login")
    async def login_view(request):
        user = await authenticate(request, username="ada", password="correct horse")
        assert user is not None
        await login(request, user)
        return {"user": user.username}

    @app.get("/whoami")
    async def whoami(request):
        return {"authenticated": request.user.is_authenticated}

    with TestClient(app, timeout=30) as client:
        yield client


def test_a_postgres_outage_is_a_503_for_the_user_of_a_session_kept_in_a_cache(cluster, users_client):
    client = users_client
    assert client.post("/login").json() == {"user": "ada"}
    assert client.get("/whoami").json() == {"authenticated": True}

    cluster.halt()
    response = client.get("/whoami")
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert "cannot be reached" in response.json()["detail"]
    # The session loads (it is in memory) but this view never looks at the user.
    assert client.get("/static-page").json() == {"page": "about"}
    assert client.get("/visits").json() == {"visits": 1}

    cluster.start_again()
    asyncio.run(until(lambda: client.get("/whoami").status_code == 200, timeout=30, what="the user after the restart"))
    assert client.get("/whoami").json() == {"authenticated": True}
