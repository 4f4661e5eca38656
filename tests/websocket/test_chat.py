"""The spec's chat handler, as written, with several clients and InMemoryChannelLayer."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from hyperdjango import HyperApp
from hyperdjango.channels import InMemoryChannelLayer
from hyperdjango.testing import TestClient

layer = InMemoryChannelLayer()
app = HyperApp()


async def get_user(request):
    name = request.query.get("name", "anonymous")
    return SimpleNamespace(id=name.lower(), name=name)


@app.websocket("/ws/chat/{room}")
async def chat_handler(ws, request):
    room = request.params["room"]
    channel = layer.channel(f"chat:{room}")
    user = await get_user(request)

    # Join presence
    channel.join(user_id=str(user.id), metadata={"name": user.name})

    # Subscribe to room messages
    async def forward(msg):
        await ws.send_json(msg)

    sub_id = channel.subscribe(forward)

    try:
        async for msg in ws:
            data = msg.json()
            await channel.publish({
                "type": "message",
                "user": user.name,
                "text": data["text"],
            })
    finally:
        channel.unsubscribe(sub_id)
        channel.leave(user_id=str(user.id))


@app.get("/rooms/{room}")
async def room_info(request):
    channel = layer.channel(f"chat:{request.params['room']}")
    return {"presence": channel.presence(), "history": channel.history(limit=10)}


@pytest.fixture(scope="module")
def client():
    with TestClient(app) as c:
        yield c


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_every_member_of_a_room_receives_each_message(client):
    with client.websocket_connect("/ws/chat/lobby?name=Alice") as alice, \
         client.websocket_connect("/ws/chat/lobby?name=Bob") as bob, \
         client.websocket_connect("/ws/chat/other?name=Carol") as carol:
        wait_for(lambda: len(client.get("/rooms/lobby").json()["presence"]) == 2)
        alice.send_json({"text": "hi all"})
        expected = {"type": "message", "user": "Alice", "text": "hi all"}
        assert alice.receive_json() == expected
        assert bob.receive_json() == expected
        bob.send_json({"text": "hello Alice"})
        assert alice.receive_json()["text"] == "hello Alice"
        assert bob.receive_json()["text"] == "hello Alice"
        carol.send_json({"text": "elsewhere"})
        assert carol.receive_json()["user"] == "Carol"
        info = client.get("/rooms/lobby").json()
        assert sorted(p["name"] for p in info["presence"]) == ["Alice", "Bob"]
        assert [m["text"] for m in info["history"]][-2:] == ["hi all", "hello Alice"]


def test_a_member_who_leaves_drops_out_of_presence(client):
    with client.websocket_connect("/ws/chat/quiet?name=Dan") as dan:
        with client.websocket_connect("/ws/chat/quiet?name=Eve"):
            wait_for(lambda: len(client.get("/rooms/quiet").json()["presence"]) == 2)
        wait_for(lambda: client.get("/rooms/quiet").json()["presence"] == [{"user_id": "dan", "name": "Dan"}])
        dan.send_json({"text": "alone"})
        assert dan.receive_json()["text"] == "alone"


def test_messages_arrive_in_order(client):
    with client.websocket_connect("/ws/chat/order?name=Fay") as fay, \
         client.websocket_connect("/ws/chat/order?name=Gus") as gus:
        wait_for(lambda: len(client.get("/rooms/order").json()["presence"]) == 2)
        for i in range(50):
            fay.send_json({"text": str(i)})
        assert [gus.receive_json()["text"] for _ in range(50)] == [str(i) for i in range(50)]
