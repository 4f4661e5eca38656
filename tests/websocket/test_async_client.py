"""`TestClient.websocket_connect` from async tests: the app on the test's loop, a real socket."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hyperdjango import HyperApp
from hyperdjango.testing import AsyncWebSocketSession, TestClient
from support.websocket_apps import add_echo


def make_app() -> HyperApp:
    app = HyperApp()

    add_echo(app)

    @app.websocket("/ws/proto")
    async def proto(ws, request):
        await ws.accept(subprotocol="chat.v2" if "chat.v2" in ws.subprotocols else None)
        await ws.send_json({"subprotocol": ws.subprotocol, "token": request.headers.get("x-token")})
        await ws.receive()

    @app.websocket("/ws/bye")
    async def bye(ws, request):
        await ws.receive_text()
        await ws.close(4002, "done")

    @app.websocket("/ws/refuse")
    async def refuse(ws, request):
        return

    return app


async def test_async_with_echoes_text_binary_and_json():
    async with TestClient(make_app()) as client:
        async with client.websocket_connect("/ws/echo") as ws:
            assert isinstance(ws, AsyncWebSocketSession)
            await ws.send_text("hello")
            assert await ws.receive_text() == "hello"
            await ws.send_bytes(b"\x00\xff")
            assert await ws.receive_bytes() == b"\x00\xff"
            await ws.send_json({"n": [1, 2]})
            assert await ws.receive_json() == {"n": [1, 2]}


async def test_await_opens_a_session_without_a_with_block():
    async with TestClient(make_app()) as client:
        ws = await client.websocket_connect("/ws/echo")
        try:
            await ws.send_text("once")
            assert await ws.receive() == "once"
        finally:
            await ws.close()
        assert ws.close_code == 1000


async def test_subprotocols_and_headers_reach_the_handler():
    async with TestClient(make_app()) as client:
        async with client.websocket_connect("/ws/proto", subprotocols=["chat.v2"], headers={"x-token": "t1"}) as ws:
            assert ws.subprotocol == "chat.v2"
            assert await ws.receive_json() == {"subprotocol": "chat.v2", "token": "t1"}


async def test_the_server_close_code_is_seen():
    async with TestClient(make_app()) as client:
        async with client.websocket_connect("/ws/bye") as ws:
            await ws.send_text("go")
            with pytest.raises(ConnectionClosed):
                await ws.receive()
            assert ws.close_code == 4002


async def test_a_refused_upgrade_raises_invalid_status():
    async with TestClient(make_app()) as client:
        with pytest.raises(InvalidStatus) as refused:
            async with client.websocket_connect("/ws/refuse"):
                pass
        assert refused.value.response.status_code == 403


async def test_many_concurrent_sessions_on_one_loop():
    async with TestClient(make_app()) as client:
        async def talk(i: int) -> str:
            async with client.websocket_connect("/ws/echo") as ws:
                await ws.send_text(f"client {i}")
                return await ws.receive_text()

        answers = await asyncio.gather(*(talk(i) for i in range(20)))
        assert answers == [f"client {i}" for i in range(20)]


async def test_a_receive_that_never_comes_times_out():
    async with TestClient(make_app(), timeout=0.2) as client:
        async with client.websocket_connect("/ws/echo") as ws:
            with pytest.raises(TimeoutError):
                await ws.receive()


def test_the_sync_form_still_works():
    with TestClient(make_app()) as client:
        with client.websocket_connect("/ws/echo") as ws:
            ws.send_text("sync")
            assert ws.receive_text() == "sync"
