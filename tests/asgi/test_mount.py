"""``app.mount(prefix, other_app)``: what the HyperApp has no route for falls
through to a mounted ASGI or WSGI app, each side with its own middleware; on
the HyperApp's own server and with the HyperApp under another ASGI host."""

from __future__ import annotations

import httpx
import pytest

from hyperdjango import HyperApp
from hyperdjango.testing import TestClient


def build_app() -> tuple[HyperApp, list[str]]:
    lifespan_events: list[str] = []
    app = HyperApp(database="sqlite://:memory:")

    @app.use
    async def mark(request, next_handler):
        response = await next_handler(request)
        response.headers["x-side"] = "hyper"
        return response

    @app.get("/api/hello")
    async def hello(request):
        return {"from": "hyper"}

    @app.websocket("/ws/own")
    async def own(ws, request):
        async for message in ws:
            await ws.send_text("hyper:" + message.text)

    async def legacy_asgi(scope, receive, send):
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            while (message := await receive())["type"] == "websocket.receive":
                await send({"type": "websocket.send", "text": f"legacy {scope['path']}:" + message["text"]})
            return
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                lifespan_events.append(message["type"])
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        text = f"asgi {scope['method']} {scope['path']} root={scope['root_path']} body={body.decode()}"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": text.encode()})

    def legacy_wsgi(environ, start_response):
        start_response("200 OK", [("content-type", "text/plain")])
        return [f"wsgi {environ['SCRIPT_NAME']} {environ['PATH_INFO']} {environ['wsgi.input'].read().decode()}".encode()]

    app.mount("/", legacy_asgi)
    app.mount("/old", legacy_wsgi)
    return app, lifespan_events


@pytest.fixture(params=["hyper", "asgi-transport"])
async def client(request):
    app, events = build_app()
    if request.param == "hyper":
        async with TestClient(app) as client:
            assert events == ["lifespan.startup"]
            yield client
        assert events == ["lifespan.startup", "lifespan.shutdown"]
        return
    await app.start_services()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield client
    finally:
        await app.stop_services()
        await app.database.close()


async def test_the_hyperapps_routes_are_its_own_with_its_middleware(client):
    response = await client.get("/api/hello")
    assert response.json() == {"from": "hyper"}
    assert response.headers["x-side"] == "hyper"


async def test_other_paths_fall_through_to_the_mounted_asgi_app_without_the_hyperapps_middleware(client):
    response = await client.post("/polls/3/vote", content=b"choice=1")
    assert response.text == "asgi POST /polls/3/vote root= body=choice=1"
    assert "x-side" not in response.headers


async def test_a_method_the_hyperapp_does_not_route_falls_through_too(client):
    response = await client.post("/api/hello", content=b"x")
    assert response.text == "asgi POST /api/hello root= body=x"


async def test_the_longest_prefix_wins_and_a_wsgi_app_sees_its_script_name(client):
    response = await client.post("/old/page", content=b"form")
    assert response.text == "wsgi /old /page form"
    assert (await client.get("/older")).text.startswith("asgi GET /older")


async def test_an_asgi_app_mounted_below_a_prefix_gets_it_as_root_path():
    app = HyperApp(database="sqlite://:memory:")

    async def inner(scope, receive, send):
        if scope["type"] != "http":
            raise ValueError("no lifespan here")  # refused, as Django does
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": f"{scope['root_path']}|{scope['path']}".encode()})

    app.mount("/legacy", inner)
    async with TestClient(app) as client:
        assert (await client.get("/legacy/x/y")).text == "/legacy|/legacy/x/y"
        assert (await client.get("/elsewhere")).status_code == 404


async def test_websockets_the_hyperapp_does_not_route_reach_the_mounted_app():
    app, _ = build_app()
    async with TestClient(app) as client:
        async with client.websocket_connect("/ws/own") as ws:
            await ws.send_text("a")
            assert await ws.receive_text() == "hyper:a"
        async with client.websocket_connect("/cable/room") as ws:
            await ws.send_text("b")
            assert await ws.receive_text() == "legacy /cable/room:b"
