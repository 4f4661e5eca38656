"""WebSocket endpoints against the real server, with the `websockets` client library."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from hyperdjango import HyperApp
from hyperdjango.exceptions import HTTPException
from hyperdjango.testing import TestClient
from hyperdjango.websockets import WebSocketDisconnect
from support.websocket_apps import add_echo, ws_url


def make_app() -> HyperApp:
    app = HyperApp()
    seen: dict = {}
    app.state_seen = seen  # type: ignore[attr-defined]

    add_echo(app)

    @app.websocket("/ws/items/{id:int}/{key:uuid}")
    async def item(ws, request):
        await ws.send_json({k: str(v) if isinstance(v, uuid.UUID) else v for k, v in request.params.items()}
                           | {"id_type": type(request.params["id"]).__name__, "q": request.query.get("q")})

    @app.websocket("/ws/proto")
    async def proto(ws, request):
        await ws.accept(subprotocol="chat.v2" if "chat.v2" in ws.subprotocols else None)
        await ws.send_text(ws.subprotocol or "none")
        await ws.receive()

    @app.websocket("/ws/close")
    async def close(ws, request):
        await ws.receive_text()
        await ws.close(4001, "bye now")

    @app.websocket("/ws/refuse")
    async def refuse(ws, request):
        return  # never accepts: 403

    @app.websocket("/ws/private")
    async def private(ws, request):
        await ws.send_text("secret")

    @app.websocket("/ws/disconnect")
    async def disconnect(ws, request):
        await ws.accept()
        try:
            while True:
                await ws.receive_text()
        except WebSocketDisconnect as exc:
            seen["disconnect"] = exc.code

    @app.websocket("/ws/flood")
    async def flood(ws, request):
        chunk = b"x" * 65536
        try:
            for _ in range(100_000):
                await ws.send_bytes(chunk)
                await asyncio.sleep(0)
        except WebSocketDisconnect as exc:
            seen["flood"] = exc.code

    @app.websocket("/ws/close-first")
    async def close_first(ws, request):
        await ws.close()  # before accepting: refuses with 403

    @app.websocket("/ws/silent")
    async def silent(ws, request):
        msg = await ws.receive()
        seen["silent"] = msg.code

    @app.websocket("/ws/json")
    async def json_echo(ws, request):
        data = await ws.receive_json()
        await ws.send_json({"got": data})

    async def guard(request, next_handler):
        if request.path == "/ws/private" and request.query.get("token") != "ok":
            raise HTTPException(403, "no token")
        return await next_handler(request)

    app.use(guard)
    return app


@pytest.fixture(scope="module")
def client():
    with TestClient(make_app(), ws_max_message_size=100_000, ws_send_queue=8) as c:
        yield c


def test_text_and_binary_messages_echo(client):
    with connect(ws_url(client, "/ws/echo")) as ws:
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"
        ws.send(b"\x00\x01\xff")
        assert ws.recv(timeout=5) == b"\x00\x01\xff"


def test_a_large_message_echoes(client):
    with connect(ws_url(client, "/ws/echo"), max_size=None) as ws:
        big = "é" * 40_000  # 80 kB of UTF-8, under the 100 kB limit
        ws.send(big)
        assert ws.recv(timeout=5) == big


def test_a_fragmented_message_is_reassembled(client):
    with connect(ws_url(client, "/ws/echo")) as ws:
        ws.send(["frag", "ment", "ed ✓"])  # an iterable is sent as fragments
        assert ws.recv(timeout=5) == "fragmented ✓"


def test_ping_gets_a_pong(client):
    with connect(ws_url(client, "/ws/echo")) as ws:
        pong = ws.ping(b"hi")
        assert pong.wait(timeout=5)


def test_the_handler_close_code_reaches_the_client(client):
    with connect(ws_url(client, "/ws/close")) as ws:
        ws.send("go")
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
        assert info.value.rcvd.code == 4001
        assert info.value.rcvd.reason == "bye now"


def test_an_oversized_message_closes_with_1009(client):
    with connect(ws_url(client, "/ws/echo")) as ws:
        ws.send(b"x" * 200_000)
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
        assert info.value.rcvd.code == 1009


def test_a_slow_consumer_is_closed_with_1013(client):
    with connect(ws_url(client, "/ws/flood"), max_size=None, max_queue=1) as ws:
        deadline = time.monotonic() + 10
        while "flood" not in client.app.state_seen:
            assert time.monotonic() < deadline, "the flood was never cut off"
            time.sleep(0.05)
        assert client.app.state_seen["flood"] == 1013
        with pytest.raises(ConnectionClosed) as info:
            while True:
                ws.recv(timeout=5)
        assert info.value.rcvd.code == 1013


def test_an_abrupt_disconnect_raises_websocketdisconnect_in_the_handler(client):
    ws = connect(ws_url(client, "/ws/disconnect")).__enter__()
    ws.socket.shutdown(socket.SHUT_RDWR)  # no close frame
    ws.socket.close()
    deadline = time.monotonic() + 5
    while "disconnect" not in client.app.state_seen:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert client.app.state_seen["disconnect"] == 1006


def test_a_client_close_ends_async_for_cleanly(client):
    with connect(ws_url(client, "/ws/echo")) as ws:
        ws.send("one")
        assert ws.recv(timeout=5) == "one"
    # The handler's `async for` ended; the server is still fine.
    with connect(ws_url(client, "/ws/echo")) as ws:
        ws.send("two")
        assert ws.recv(timeout=5) == "two"


def test_path_parameters_use_typed_converters(client):
    key = uuid.uuid4()
    with client.websocket_connect(f"/ws/items/42/{key}?q=x") as ws:
        assert ws.receive_json() == {"id": 42, "key": str(key), "id_type": "int", "q": "x"}


def test_subprotocol_negotiation(client):
    with client.websocket_connect("/ws/proto", subprotocols=["chat.v1", "chat.v2"]) as ws:
        assert ws.subprotocol == "chat.v2"
        assert ws.receive_text() == "chat.v2"


def test_a_handler_that_never_accepts_refuses_with_403(client):
    with pytest.raises(InvalidStatus) as info:
        client.websocket_connect("/ws/refuse")
    assert info.value.response.status_code == 403


def test_a_middleware_can_refuse_the_upgrade(client):
    with pytest.raises(InvalidStatus) as info:
        client.websocket_connect("/ws/private")
    assert info.value.response.status_code == 403
    with client.websocket_connect("/ws/private?token=ok") as ws:
        assert ws.receive_text() == "secret"


def test_an_unknown_path_is_404(client):
    with pytest.raises(InvalidStatus) as info:
        client.websocket_connect("/ws/nowhere")
    assert info.value.response.status_code == 404


def test_testclient_json_round_trip(client):
    with client.websocket_connect("/ws/json") as ws:
        ws.send_json({"a": [1, 2]})
        assert ws.receive_json() == {"got": {"a": [1, 2]}}


def test_closing_before_accepting_refuses_with_403(client):
    with pytest.raises(InvalidStatus) as info:
        client.websocket_connect("/ws/close-first")
    assert info.value.response.status_code == 403


def test_a_silent_peer_is_closed_with_1001():
    app = make_app()
    with TestClient(app, ws_ping_interval=0.1, ws_ping_timeout=0.2) as client:
        host, port = client.base_url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)))
        sock.sendall(
            b"GET /ws/silent HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert sock.recv(1024).startswith(b"HTTP/1.1 101")
        # Never answer the server's pings.
        deadline = time.monotonic() + 5
        while "silent" not in app.state_seen:
            assert time.monotonic() < deadline, "the dead peer was not detected"
            time.sleep(0.02)
        assert app.state_seen["silent"] == 1001
        sock.close()


def test_an_origin_outside_ws_allowed_origins_is_refused():
    with TestClient(make_app(), ws_allowed_origins=["https://shop.example"]) as client:
        with pytest.raises(InvalidStatus) as info:
            client.websocket_connect("/ws/echo", origin="https://evil.example")
        assert info.value.response.status_code == 403
        with client.websocket_connect("/ws/echo", origin="https://shop.example") as ws:
            ws.send_text("ok")
            assert ws.receive_text() == "ok"
