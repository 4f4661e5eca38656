"""One behaviour suite for a HyperApp, run on our own server (``hyper run``),
under uvicorn and Granian (the app as an ASGI 3 app), and in process through
``httpx.ASGITransport``: the answers must be the same everywhere."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from support.servers import serving

SERVERS = ["hyper", "uvicorn", "granian", "asgi-transport"]
TARGET = "support.asgi_apps:hyper_app"


@pytest.fixture(scope="module", params=SERVERS)
def server(request):
    if request.param == "asgi-transport":
        yield None
        return
    with serving(request.param, TARGET) as url:
        yield url


async def lifespan(app, kind: str, inbox: asyncio.Queue, outbox: asyncio.Queue) -> None:
    await inbox.put({"type": f"lifespan.{kind}"})
    answer = await outbox.get()
    assert answer["type"] == f"lifespan.{kind}.complete", answer


@pytest.fixture
async def client(server):
    if server is not None:
        async with httpx.AsyncClient(base_url=server) as client:
            yield client
        return
    from support.asgi_apps import hyper_app

    inbox: asyncio.Queue = asyncio.Queue()
    outbox: asyncio.Queue = asyncio.Queue()
    running = asyncio.ensure_future(hyper_app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put))
    await lifespan(hyper_app, "startup", inbox, outbox)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=hyper_app), base_url="http://test") as client:
            yield client
    finally:
        await lifespan(hyper_app, "shutdown", inbox, outbox)
        await running


async def test_a_route_with_a_parameter_and_a_query_after_startup(client):
    response = await client.get("/hello/ada", params={"q": "x y"})
    assert response.status_code == 200
    assert response.json() == {"hello": "ada", "query": "x y", "started": ["started"]}
    assert response.headers["x-middleware"] == "hyper"
    assert response.headers["content-type"].startswith("application/json")


async def test_the_body_arrives_whole(client):
    body = bytes(range(256)) * 40
    response = await client.post("/echo", content=body)
    assert (response.status_code, response.content, response.headers["x-length"]) == (200, body, str(len(body)))


async def test_a_chunked_body_arrives_whole(client):
    async def parts():
        for _ in range(4):
            yield b"x" * 1000

    response = await client.post("/echo", content=parts())
    assert (response.status_code, response.headers["x-length"]) == (200, "4000")


async def test_a_body_over_max_body_size_is_413(client):
    response = await client.post("/echo", content=b"x" * (64 * 1024 + 1))
    assert response.status_code == 413


async def test_repeated_headers_are_all_kept(client):
    response = await client.get("/headers", headers=[("x-dup", "one"), ("x-dup", "two")])
    assert response.json() == {"x-dup": ["one", "two"]}


async def test_a_streamed_response_arrives_in_order(client):
    response = await client.get("/stream")
    assert (response.status_code, response.text) == (200, "chunk0;chunk1;chunk2;")


async def test_unknown_paths_are_404_and_wrong_methods_405(client):
    missing = await client.get("/nowhere")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    wrong = await client.delete("/echo")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"


async def test_a_trailing_slash_redirects(client):
    response = await client.get("/hello/ada/?q=1")
    assert response.status_code == 301
    assert response.headers["location"] == "/hello/ada?q=1"


async def test_a_view_exception_is_a_500_and_http_exceptions_keep_their_status(client):
    assert (await client.get("/boom")).status_code == 500
    teapot = await client.get("/teapot")
    assert (teapot.status_code, teapot.json()) == (418, {"detail": "short and stout"})


async def test_head_answers_without_a_body(client):
    response = await client.head("/hello/ada")
    assert (response.status_code, response.content) == (200, b"")


def test_a_websocket_with_a_subprotocol_echoes_and_closes_with_the_handlers_code(server):
    if server is None:
        pytest.skip("httpx.ASGITransport has no WebSocket")
    url = server.replace("http://", "ws://") + "/ws"
    with connect(url, subprotocols=["chat", "other"]) as ws:
        assert ws.subprotocol == "chat"
        ws.send("hi")
        assert ws.recv(timeout=10) == "chat:hi"
        ws.send("close-4001")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "asked")


async def test_a_sync_view_sets_and_reads_cookies(client):
    first = await client.get("/cookie")
    assert first.json() == {"seen": None}
    assert "httponly" in first.headers["set-cookie"].lower()
    second = await client.get("/cookie", headers={"cookie": "flavour=ginger"})
    assert second.json() == {"seen": "ginger"}


def test_a_websocket_the_handler_does_not_accept_is_refused_with_403(server):
    if server is None:
        pytest.skip("httpx.ASGITransport has no WebSocket")
    with pytest.raises(InvalidStatus) as refused:
        with connect(server.replace("http://", "ws://") + "/ws/closed"):
            pass
    assert refused.value.response.status_code == 403


async def test_lifespan_shutdown_under_another_server_closes_the_caches_and_the_database():
    from hyperdjango import HyperApp
    from hyperdjango.cache import cache
    from support.caches import ClosingRecorder

    app = HyperApp(database="sqlite://:memory:", caches={"default": {"BACKEND": "support.caches.ClosingRecorder"}})
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent = []

    async def receive():
        message = next(messages)
        if message["type"] == "lifespan.shutdown":
            await cache.set("k", 1)  # the cache is open, as after serving requests
        return message

    async def send(message):
        sent.append(message["type"])

    before = ClosingRecorder.closed
    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert ClosingRecorder.closed == before + 1
