"""What the engine's connection gives `hyperdjango.websockets` per received message: a data
message as its payload (str or bytes), not a tuple (building and unpacking one cost ~700
instructions per echo); the end of the connection as a `(kind, reason, code)` tuple.
The public API (Message, receive_*, async for) is unchanged: the other websocket tests."""

from __future__ import annotations

import asyncio
import time

import pytest
from websockets.sync.client import connect

from hyperdjango import HyperApp
from hyperdjango.testing import TestClient
from support.websocket_apps import ws_url


#: What the handler received, read by the test once the connection is over.
RECEIVED: list = []


def make_app() -> HyperApp:
    app = HyperApp()

    @app.websocket("/ws/raw")
    async def raw(ws, request):
        await ws.accept()
        conn, bridge = ws._conn, ws._bridge
        for _ in range(3):
            # Awaited, so the RustFuture's result is what comes back (try_receive would
            # answer without one when the message is already there).
            await asyncio.sleep(0.05)
            RECEIVED.append(await conn.receive(bridge))
        RECEIVED.append(conn.try_receive())

    return app


@pytest.fixture(scope="module")
def client():
    with TestClient(make_app()) as c:
        yield c


def test_a_data_message_is_its_payload_and_the_end_a_tuple(client):
    with connect(ws_url(client, "/ws/raw")) as ws:
        ws.send("text")
        ws.send(b"bytes")
        ws.close(4000, "done")
    for _ in range(100):
        if len(RECEIVED) == 4:
            break
        time.sleep(0.05)
    assert RECEIVED == ["text", b"bytes", ("close", "done", 4000), ("gone", None, 4000)]
