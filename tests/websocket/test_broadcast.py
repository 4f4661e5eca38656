"""Fan-out through the engine: `broadcast()` and channel subscriptions that are a
socket's own send method, against the real server."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from hyperdjango import HyperApp
from hyperdjango.channels import InMemoryChannelLayer
from hyperdjango.testing import TestClient
from hyperdjango.websockets import broadcast
from support.websocket_apps import ws_url

N = 5


def make_app() -> HyperApp:
    app = HyperApp()
    room: list = []
    seen: dict = {"skipped": [], "read": -1}
    read_more = asyncio.Event()
    layer = InMemoryChannelLayer()
    app.state_seen = seen  # type: ignore[attr-defined]
    app.layer = layer  # type: ignore[attr-defined]
    app.room = room  # type: ignore[attr-defined]

    @app.websocket("/ws/member")
    async def member(ws, request):
        await ws.accept()
        room.append(ws)
        try:
            async for message in ws:
                # A member that reads says how far it has read: "41" after "41:xxx...".
                seen["read"] = int(message.text)
                read_more.set()
        finally:
            room.remove(ws)

    @app.websocket("/ws/publish")
    async def publish(ws, request):
        async for msg in ws:
            count, size, pause, *lead = msg.json()
            payload = "x" * size
            seen["read"] = -1
            for i in range(count):
                # Paced: at most lead[0] messages ahead of the member that says how far it read.
                while lead and i - seen["read"] > lead[0]:
                    read_more.clear()
                    await read_more.wait()
                try:
                    broadcast(room, f"{i}:{payload}" if size else str(i), raise_exceptions=True)
                except ExceptionGroup as group:
                    seen["skipped"].extend(e.code for e in group.exceptions)
                broadcast(room, b"binary")
                await asyncio.sleep(pause)
            await ws.send_text("done")

    @app.websocket("/ws/loop")
    async def loop_publish(ws, request):
        # A fan-out as a loop of sends, all in one loop iteration: each message is one
        # object sent to every member (encoded once), then dropped for the next one.
        async for msg in ws:
            for i in range(int(msg.text)):
                text = f"{i}:" + "y" * i
                for member_ws in room:
                    await member_ws.send_text(text)
                data = text.encode()
                for member_ws in room:
                    await member_ws.send_bytes(data)
                del text, data
            await ws.send_text("done")

    @app.websocket("/ws/layer/{kind}")
    async def layer_member(ws, request):
        channel = layer.channel("room")
        send = ws.send_json if request.params["kind"] == "json" else ws.send_text
        sub_id = channel.subscribe(send)
        try:
            async for msg in ws:
                await channel.publish(msg.text if request.params["kind"] == "text" else {"said": msg.text})
        finally:
            channel.unsubscribe(sub_id)

    return app


@pytest.fixture(scope="module")
def client():
    with TestClient(make_app(), ws_send_queue=8) as c:
        yield c


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_broadcast_reaches_every_member_in_order(client):
    with contextlib.ExitStack() as stack:
        members = [stack.enter_context(connect(ws_url(client, "/ws/member"))) for _ in range(N)]
        wait_for(lambda: len(client.app.room) == N, "members")
        with connect(ws_url(client, "/ws/publish")) as publisher:
            publisher.send("[3, 0, 0]")
            assert publisher.recv(timeout=5) == "done"
        for ws in members:
            got = [ws.recv(timeout=5) for _ in range(6)]
            assert got == ["0", b"binary", "1", b"binary", "2", b"binary"]


def test_a_loop_of_sends_reaches_every_member_with_each_message(client):
    with contextlib.ExitStack() as stack:
        members = [stack.enter_context(connect(ws_url(client, "/ws/member"))) for _ in range(N)]
        wait_for(lambda: len(client.app.room) == N, "members")
        with connect(ws_url(client, "/ws/loop")) as publisher:
            publisher.send("4")  # 8 messages per member: the send queue's size here
            assert publisher.recv(timeout=5) == "done"
        expected = [m for i in range(4) for m in (f"{i}:" + "y" * i, (f"{i}:" + "y" * i).encode())]
        for ws in members:
            assert [ws.recv(timeout=5) for _ in range(8)] == expected


def test_a_member_that_does_not_read_is_closed_with_1013_and_reported(client):
    client.app.state_seen["skipped"].clear()
    with connect(ws_url(client, "/ws/member")) as reader, connect(ws_url(client, "/ws/member"), max_queue=1) as stalled:
        # Both are members before the first broadcast (the 101 reaches the client before the
        # handler joins the room: a broadcast started at once could miss one of them).
        wait_for(lambda: len(client.app.room) == 2, "members")
        with connect(ws_url(client, "/ws/publish")) as publisher:
            # The publisher keeps at most 2 messages (and 2 binary ones) ahead of the reader,
            # under the send queue's 8, however late this thread runs; unpaced, a reader
            # descheduled long enough on a loaded machine was closed with 1013 as well.
            publisher.send("[300, 60000, 0, 2]")
            got = 0
            while True:
                message = reader.recv(timeout=10)
                if isinstance(message, str):
                    got += 1
                    reader.send(message.partition(":")[0])
                    if message.startswith("299:"):
                        break
            assert got == 300
            assert publisher.recv(timeout=10) == "done"
        assert client.app.state_seen["skipped"][:1] == [1013]
        with pytest.raises(ConnectionClosed) as info:
            while True:
                stalled.recv(timeout=5)
        # The close frame reaches it unless its buffers were still full.
        assert info.value.rcvd is None or info.value.rcvd.code == 1013


def test_broadcast_refuses_other_payloads_and_skips_unaccepted_sockets():
    from hyperdjango.websockets import WebSocket

    class Pending:
        subprotocols: list[str] = []

    ws = WebSocket(Pending(), None)  # type: ignore[arg-type]
    broadcast([ws], "nobody is connected")  # not accepted: skipped, not accepted by sending
    assert not ws.accepted
    with pytest.raises(TypeError):
        broadcast([], 42)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["text", "json"])
def test_channel_subscription_of_a_send_method_is_fed_by_the_engine(client, kind):
    layer = client.app.layer
    before = layer.stats()
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(connect(ws_url(client, f"/ws/layer/{kind}"))) for _ in range(N)]
        channel = layer.channel("room")
        wait_for(lambda: channel.subscriber_count == N, "subscriptions")
        assert channel._subscribers == {}  # no task and no queue per subscriber
        for i in range(3):
            sockets[0].send(f"m{i}")
        expected = [f"m{i}" if kind == "text" else f'{{"said":"m{i}"}}' for i in range(3)]
        for ws in sockets:
            assert [ws.recv(timeout=5) for _ in range(3)] == expected
        assert layer.stats()["delivered"] - before["delivered"] == 3 * N
        sockets.pop().close()
        wait_for(lambda: channel.subscriber_count == N - 1, "unsubscribe on leaving")
    wait_for(lambda: layer.channel("room").subscriber_count == 0, "every subscription ended")


async def test_a_closed_socket_subscriber_is_dropped_and_counted():
    layer = InMemoryChannelLayer()
    app = HyperApp()
    seen: dict = {}

    @app.websocket("/ws/closing")
    async def closing(ws, request):
        await ws.accept()
        layer.channel("c").subscribe(ws.send_text)
        await ws.close()
        seen["closed"] = True

    async with TestClient(app) as client:
        async with client.websocket_connect("/ws/closing") as ws:
            with pytest.raises(ConnectionClosed):
                await ws.receive_text()
        deadline = time.monotonic() + 5
        while "closed" not in seen:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await layer.channel("c").publish("after the close")
        assert layer.stats()["closed_subscribers"] == 1
        assert layer.channel("c").subscriber_count == 0
