"""TestClient: sync and async use, hooks, cookies, real sockets."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from hyperdjango import HyperApp, Response
from hyperdjango.testing import TestClient


def cookie_app():
    app = HyperApp()

    @app.post("/login")
    async def login(request):
        response = Response.json({"ok": True})
        response.set_cookie("session", (await request.json())["user"])
        return response

    @app.get("/whoami")
    async def whoami(request):
        return {"user": request.cookies.get("session")}

    return app


def hello_app():
    app = HyperApp()

    @app.get("/hello/{name}")
    async def hello(request):
        return {"hello": request.params["name"]}

    return app


# -- sync ---------------------------------------------------------------------------


def test_sync_client_returns_httpx_responses():
    with TestClient(hello_app()) as c:
        r = c.get("/hello/bob")
    assert isinstance(r, httpx.Response)
    assert r.json() == {"hello": "bob"}


def test_sync_client_serves_on_a_real_local_port():
    with TestClient(hello_app()) as c:
        r = httpx.get(f"{c.base_url}/hello/direct")
    assert c.base_url.startswith("http://127.0.0.1:")
    assert r.json() == {"hello": "direct"}


def test_sync_client_stops_the_server_on_exit():
    with TestClient(hello_app()) as c:
        url = f"{c.base_url}/hello/x"
        assert httpx.get(url).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)


def test_sync_client_runs_the_app_on_another_thread():
    app = hello_app()
    threads = []

    @app.get("/thread")
    async def thread(request):
        threads.append(threading.get_ident())
        return ""

    with TestClient(app) as c:
        c.get("/thread")
    assert threads and threads[0] != threading.get_ident()


def test_sync_client_runs_startup_and_shutdown_hooks():
    app = hello_app()
    log = []
    app.on_startup(lambda: log.append("startup"))
    app.on_shutdown(lambda: log.append("shutdown"))
    with TestClient(app):
        assert log == ["startup"]
    assert log == ["startup", "shutdown"]


def test_sync_client_keeps_cookies_across_requests():
    with TestClient(cookie_app()) as c:
        assert c.get("/whoami").json() == {"user": None}
        c.post("/login", json={"user": "alice"})
        assert c.get("/whoami").json() == {"user": "alice"}


def test_sync_client_cookies_can_be_set_by_the_test():
    with TestClient(cookie_app()) as c:
        c.cookies.set("session", "preset")
        assert c.get("/whoami").json() == {"user": "preset"}


def test_sync_client_does_not_follow_redirects_by_default():
    app = HyperApp()

    @app.get("/go")
    async def go(request):
        return Response.redirect("/elsewhere")

    with TestClient(app) as c:
        assert c.get("/go").status_code == 302


def test_sync_client_sends_every_method():
    app = HyperApp()

    @app.route("/m", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    async def m(request):
        return request.method

    with TestClient(app) as c:
        for name in ("get", "post", "put", "patch", "delete", "options"):
            assert getattr(c, name)("/m").text == name.upper()


def test_sync_client_started_without_with_until_closed():
    c = TestClient(hello_app())
    try:
        assert c.get("/hello/lazy").json() == {"hello": "lazy"}
    finally:
        c.close()
    assert c._thread is None


def test_same_app_can_be_served_twice_in_a_row():
    app = hello_app()
    for name in ("one", "two"):
        with TestClient(app) as c:
            assert c.get(f"/hello/{name}").json() == {"hello": name}


def test_two_clients_serve_the_same_app_at_once():
    app = hello_app()
    with TestClient(app) as a, TestClient(app) as b:
        assert a.base_url != b.base_url
        assert a.get("/hello/a").json() == {"hello": "a"}
        assert b.get("/hello/b").json() == {"hello": "b"}


# -- async --------------------------------------------------------------------------


async def test_async_client_returns_awaitable_responses():
    async with TestClient(hello_app()) as c:
        r = await c.get("/hello/async")
    assert isinstance(r, httpx.Response)
    assert r.json() == {"hello": "async"}


async def test_async_client_runs_the_app_on_the_test_loop():
    app = HyperApp()
    loops = []

    @app.get("/loop")
    async def loop(request):
        loops.append(asyncio.get_running_loop())
        return ""

    async with TestClient(app) as c:
        await c.get("/loop")
    assert loops == [asyncio.get_running_loop()]


async def test_async_client_runs_startup_and_shutdown_hooks():
    app = hello_app()
    log = []

    @app.on_startup
    async def start():
        log.append("startup")

    @app.on_shutdown
    async def stop():
        log.append("shutdown")

    async with TestClient(app):
        assert log == ["startup"]
    assert log == ["startup", "shutdown"]


async def test_async_client_keeps_cookies_across_requests():
    async with TestClient(cookie_app()) as c:
        await c.post("/login", json={"user": "bob"})
        r = await c.get("/whoami")
    assert r.json() == {"user": "bob"}


async def test_async_client_serves_concurrent_requests():
    app = HyperApp()
    arrived = 0
    all_arrived = asyncio.Event()

    @app.get("/gather/{i:int}")
    async def gather(request):
        nonlocal arrived
        arrived += 1
        if arrived == 5:
            all_arrived.set()
        await asyncio.wait_for(all_arrived.wait(), timeout=5)
        return {"i": request.params["i"]}

    async with TestClient(app) as c:
        responses = await asyncio.gather(*(c.get(f"/gather/{i}") for i in range(5)))
    assert [r.json()["i"] for r in responses] == [0, 1, 2, 3, 4]


async def test_async_client_stops_the_server_on_exit():
    async with TestClient(hello_app()) as c:
        url = f"{c.base_url}/hello/x"
    async with httpx.AsyncClient() as other:
        with pytest.raises(httpx.ConnectError):
            await other.get(url)


async def test_async_client_leaves_the_test_loop_able_to_run_threads():
    app = HyperApp()

    @app.get("/sync")
    def sync_view(request):
        return "ok"

    async with TestClient(app) as c:
        assert (await c.get("/sync")).text == "ok"
    assert await asyncio.to_thread(lambda: "after") == "after"


async def test_async_client_keeps_the_loops_own_default_executor():
    from concurrent.futures import ThreadPoolExecutor

    loop = asyncio.get_running_loop()
    mine = ThreadPoolExecutor(1, thread_name_prefix="mine")
    loop.set_default_executor(mine)
    async with TestClient(hello_app()):
        pass
    name = await loop.run_in_executor(None, lambda: threading.current_thread().name)
    assert name.startswith("mine")


async def test_async_client_startup_failure_is_raised():
    app = hello_app()

    @app.on_startup
    async def broken():
        raise RuntimeError("no database")

    with pytest.raises(RuntimeError, match="no database"):
        async with TestClient(app):
            pass
