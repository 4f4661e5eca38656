"""Lifecycle: startup and shutdown hooks (sync and async), /health and /ready."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from hyperdjango import HyperApp
from hyperdjango.testing import TestClient


def test_sync_startup_hook_runs_before_the_first_request():
    app = HyperApp()
    state = {}

    @app.on_startup
    def load():
        state["catalog"] = ["tea"]

    @app.get("/")
    async def view(request):
        return state["catalog"]

    with TestClient(app) as c:
        assert c.get("/").json() == ["tea"]


def test_async_startup_hook_is_awaited_before_the_first_request():
    app = HyperApp()
    state = {}

    @app.on_startup
    async def connect():
        await asyncio.sleep(0.01)
        state["db"] = "connected"

    @app.get("/")
    async def view(request):
        return state["db"]

    with TestClient(app) as c:
        assert c.get("/").text == "connected"


def test_startup_hooks_run_once_in_registration_order():
    app = HyperApp()
    log = []
    app.on_startup(lambda: log.append("first"))

    @app.on_startup
    async def second():
        log.append("second")

    app.on_startup(lambda: log.append("third"))
    with TestClient(app) as c:
        c.get("/")
        c.get("/")
    assert log == ["first", "second", "third"]


def test_async_startup_hook_runs_on_the_serving_loop():
    app = HyperApp()
    loops = {}

    @app.on_startup
    async def remember():
        loops["startup"] = asyncio.get_running_loop()

    @app.get("/")
    async def view(request):
        return {"same": asyncio.get_running_loop() is loops["startup"]}

    with TestClient(app) as c:
        assert c.get("/").json() == {"same": True}


def test_failing_startup_hook_fails_the_start():
    app = HyperApp()

    @app.on_startup
    def broken():
        raise RuntimeError("cannot connect")

    with pytest.raises(RuntimeError, match="cannot connect"):
        with TestClient(app):
            pass


def test_sync_shutdown_hook_runs_on_exit():
    app = HyperApp()
    log = []
    app.on_shutdown(lambda: log.append("closed"))
    with TestClient(app) as c:
        c.get("/")
        assert log == []
    assert log == ["closed"]


def test_async_shutdown_hook_is_awaited_on_exit():
    app = HyperApp()
    log = []

    @app.on_shutdown
    async def close():
        await asyncio.sleep(0.01)
        log.append("closed")

    with TestClient(app):
        pass
    assert log == ["closed"]


def test_shutdown_hooks_run_in_registration_order():
    app = HyperApp()
    log = []
    app.on_shutdown(lambda: log.append("a"))
    app.on_shutdown(lambda: log.append("b"))
    with TestClient(app):
        pass
    assert log == ["a", "b"]


def test_failing_shutdown_hook_does_not_stop_the_others():
    app = HyperApp()
    log = []

    @app.on_shutdown
    def broken():
        raise RuntimeError("close failed")

    app.on_shutdown(lambda: log.append("after"))
    with TestClient(app):
        pass
    assert log == ["after"]


async def test_in_flight_request_is_answered_before_shutdown_hooks_run():
    app = HyperApp()
    log = []
    entered = asyncio.Event()
    release = asyncio.Event()
    app.on_shutdown(lambda: log.append("shutdown"))

    @app.get("/slow")
    async def slow(request):
        entered.set()
        await release.wait()
        log.append("view done")
        return "finished"

    async with httpx.AsyncClient(timeout=10) as other:
        async with TestClient(app) as c:
            pending = asyncio.create_task(other.get(f"{c.base_url}/slow"))
            await asyncio.wait_for(entered.wait(), timeout=5)
            asyncio.get_running_loop().call_later(0.2, release.set)
        response = await pending
    assert (response.status_code, response.text) == (200, "finished")
    assert log == ["view done", "shutdown"]


def test_hooks_decorator_returns_the_function():
    app = HyperApp()

    def hook():
        pass

    assert app.on_startup(hook) is hook
    assert app.on_shutdown(hook) is hook


# -- health and readiness ----------------------------------------------------------


def test_health_answers_ok():
    app = HyperApp()
    app.mount_health()
    with TestClient(app) as c:
        r = c.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_ready_answers_ready_once_started():
    app = HyperApp()
    app.mount_health()
    with TestClient(app) as c:
        r = c.get("/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ready"}


def test_ready_answers_503_when_a_readiness_check_fails():
    app = HyperApp()
    app.mount_health()

    async def database():
        return False

    app.readiness_checks.append(database)
    with TestClient(app) as c:
        r = c.get("/ready")
        health = c.get("/health")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "failing": ["database"]}
    assert health.status_code == 200


def test_ready_answers_503_when_a_readiness_check_raises():
    app = HyperApp()
    app.mount_health()

    async def database():
        raise ConnectionRefusedError("db down")

    app.readiness_checks.append(database)
    with TestClient(app) as c:
        r = c.get("/ready")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "failing": ["database"]}


def test_ready_follows_a_readiness_check_that_recovers():
    app = HyperApp()
    app.mount_health()
    up = {"value": False}

    async def cache():
        return up["value"]

    app.readiness_checks.append(cache)
    with TestClient(app) as c:
        assert c.get("/ready").status_code == 503
        up["value"] = True
        assert c.get("/ready").status_code == 200


def test_health_paths_can_be_changed():
    app = HyperApp()
    app.mount_health(health="/livez", ready="/readyz")
    with TestClient(app) as c:
        assert c.get("/livez").status_code == 200
        assert c.get("/readyz").status_code == 200
        assert c.get("/health").status_code == 404


def test_health_routes_are_named():
    app = HyperApp()
    app.mount_health()
    assert app.url_for("health") == "/health"
    assert app.url_for("ready") == "/ready"


def test_health_answers_only_get_and_head():
    app = HyperApp()
    app.mount_health()
    with TestClient(app) as c:
        assert c.head("/health").status_code == 200
        assert c.post("/health").status_code == 405


def test_ready_accepts_sync_readiness_checks():
    app = HyperApp()
    app.mount_health()
    app.readiness_checks.append(lambda: False)
    with TestClient(app) as c:
        assert c.get("/ready").status_code == 503
    app.readiness_checks[-1] = lambda: True
    with TestClient(app) as c:
        assert c.get("/ready").status_code == 200
