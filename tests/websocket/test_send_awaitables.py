"""What `ws.send_text()` (and `send_bytes`, `send_json`) return: the message is queued
when the send is called, and the returned awaitable is finished already, so every way
of awaiting a coroutine keeps working: `await`, `asyncio.create_task`, `gather`,
`TaskGroup`, `wait_for`. A send on a closed connection raises `WebSocketDisconnect`
where it is awaited."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import warnings

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from hyperdjango import HyperApp, _core
from hyperdjango.testing import TestClient
from hyperdjango.websockets import WebSocketDisconnect
from support.awaitables import PYGEN_RETURN, has_am_send, py_iter_send
from support.websocket_apps import ws_url


def make_app() -> HyperApp:
    app = HyperApp()
    seen: dict = {}
    app.state_seen = seen  # type: ignore[attr-defined]

    @app.websocket("/ws/ways")
    async def ways(ws, request):
        await ws.send_text("await")
        await asyncio.create_task(ws.send_text("create_task"))
        await asyncio.gather(ws.send_text("gather 1"), ws.send_bytes(b"gather 2"), ws.send_json({"gather": 3}))
        async with asyncio.TaskGroup() as group:
            group.create_task(ws.send_text("task group"))
        await asyncio.wait_for(ws.send_text("wait_for"), 5)
        await asyncio.ensure_future(ws.send_text("ensure_future"))
        await ws.receive()

    @app.websocket("/ws/order")
    async def order(ws, request):
        # The send happens when it is called: a task made of a send does not fall
        # behind a later awaited send.
        task = asyncio.create_task(ws.send_text("first"))
        await ws.send_text("second")
        await task
        await ws.receive()

    @app.websocket("/ws/closed")
    async def closed(ws, request):
        await ws.accept()
        await ws.close()
        try:
            await ws.send_text("too late")
        except WebSocketDisconnect as exc:
            seen["await"] = exc.code
        try:
            await asyncio.create_task(ws.send_text("too late"))
        except WebSocketDisconnect as exc:
            seen["task"] = exc.code
        results = await asyncio.gather(ws.send_text("a"), ws.send_json({}), return_exceptions=True)
        seen["gather"] = [type(r).__name__ for r in results]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ws.send_text("never awaited")
            gc.collect()
        seen["warnings"] = [str(w.message) for w in caught]

    @app.websocket("/ws/cancelled")
    async def cancelled(ws, request):
        await ws.accept()
        task = asyncio.create_task(ws.send_text("queued at the call"))
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            seen["cancelled"] = True
        await ws.receive()

    @app.websocket("/ws/flood-and-listen")
    async def flood_and_listen(ws, request):
        # Sends without pause while the client talks: the session still reads it.
        stop = asyncio.Event()

        async def listen():
            seen["heard"] = (await ws.receive()).text
            stop.set()

        listener = asyncio.create_task(listen())
        sent = 0
        while not stop.is_set():
            for _ in range(4):
                await ws.send_text("x")
                sent += 1
            await asyncio.sleep(0)
        await listener
        await ws.send_text(f"heard after {sent}")
        await ws.receive()

    @app.websocket("/ws/from-a-thread")
    async def from_a_thread(ws, request):
        # A thread's send wakes its session at once: the loop, idle in receive(),
        # would not run a flush scheduled for the end of its iteration.
        await ws.accept()
        threading.Thread(target=ws.send_text, args=("from a thread",)).start()
        await ws.receive()

    members: list = []

    @app.websocket("/ws/member")
    async def member(ws, request):
        # The last of three members sends to each in a loop, then every handler idles in
        # receive(): the sessions are woken by the flush at the end of that loop iteration.
        await ws.accept()
        members.append(ws)
        if len(members) == 3:
            for other in members:
                await other.send_text(f"to {len(members)} members")
            await ws.send_bytes(b"and the last one")
        await ws.receive()

    return app


@pytest.fixture(scope="module")
def client():
    with TestClient(make_app(), ws_send_queue=100_000) as c:
        yield c


def test_every_way_of_awaiting_a_coroutine_takes_a_send(client):
    with connect(ws_url(client, "/ws/ways")) as ws:
        got = [ws.recv(timeout=5) for _ in range(8)]
    assert got == ["await", "create_task", "gather 1", b"gather 2", '{"gather":3}', "task group", "wait_for",
                   "ensure_future"]


def test_a_send_steps_to_none_through_its_send_slot_and_its_methods():
    # `await` on 3.11 and asyncio's C Task take the am_send slot (no StopIteration);
    # code that steps it by hand takes the methods: the same outcome.
    sent = _core.Sent()
    assert has_am_send(_core.Sent)
    assert py_iter_send(sent) == (PYGEN_RETURN, None)
    assert py_iter_send(sent, "ignored") == (PYGEN_RETURN, None)
    with pytest.raises(StopIteration) as stop:
        sent.send(None)
    assert stop.value.value is None
    assert next(sent, "finished") == "finished"


def test_a_send_is_queued_when_it_is_called(client):
    with connect(ws_url(client, "/ws/order")) as ws:
        assert [ws.recv(timeout=5), ws.recv(timeout=5)] == ["first", "second"]


def test_a_send_on_a_closed_connection_raises_where_it_is_awaited(client):
    seen = client.app.state_seen
    with connect(ws_url(client, "/ws/closed")) as ws:
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    end = time.monotonic() + 5
    while "warnings" not in seen:
        assert time.monotonic() < end, "the handler did not finish"
        time.sleep(0.02)
    assert seen["await"] == 1000
    assert seen["task"] == 1000
    assert seen["gather"] == ["WebSocketDisconnect", "WebSocketDisconnect"]
    # Never silent: a failed send that nobody awaits warns, as an un-awaited coroutine does.
    assert any("never awaited" in w and "1000" in w for w in seen["warnings"]), seen["warnings"]


def test_cancelling_the_task_of_a_send_raises_cancelled_error(client):
    with connect(ws_url(client, "/ws/cancelled")) as ws:
        # The message was queued when send_text was called; the task only reports it.
        assert ws.recv(timeout=5) == "queued at the call"
    assert client.app.state_seen.get("cancelled") is True


def test_a_send_from_another_thread_reaches_the_client(client):
    with connect(ws_url(client, "/ws/from-a-thread")) as ws:
        assert ws.recv(timeout=5) == "from a thread"


def test_a_loop_of_sends_to_several_connections_reaches_each(client):
    with connect(ws_url(client, "/ws/member")) as a, connect(ws_url(client, "/ws/member")) as b:
        with connect(ws_url(client, "/ws/member")) as c:
            assert [a.recv(timeout=5), b.recv(timeout=5)] == ["to 3 members", "to 3 members"]
            assert [c.recv(timeout=5), c.recv(timeout=5)] == ["to 3 members", b"and the last one"]


def test_a_session_that_keeps_sending_still_reads_the_client(client):
    with connect(ws_url(client, "/ws/flood-and-listen"), max_size=None, max_queue=None) as ws:
        for _ in range(50):
            assert ws.recv(timeout=5) == "x"
        ws.send("hello while you talk")
        while (message := ws.recv(timeout=10)) == "x":
            pass
        assert message.startswith("heard after ")
    assert client.app.state_seen["heard"] == "hello while you talk"
