"""InMemoryChannelLayer: the spec's API, ordering, bounded queues."""

from __future__ import annotations

import asyncio
import logging

from hyperdjango.channels import ChannelLayer, InMemoryChannelLayer


async def settle():
    for _ in range(5):
        await asyncio.sleep(0)


async def test_subscribers_receive_published_messages_sync_or_async():
    layer = InMemoryChannelLayer()
    await layer.connect()
    channel = layer.channel("chat:room1")
    got_sync, got_async = [], []

    async def on_async(msg):
        got_async.append(msg)

    a = channel.subscribe(got_sync.append)
    channel.subscribe(on_async)
    await channel.publish({"type": "message", "text": "Hello, room!"})
    await settle()
    assert got_sync == got_async == [{"type": "message", "text": "Hello, room!"}]
    assert channel.unsubscribe(a) is True
    assert channel.unsubscribe(a) is False
    await channel.publish({"n": 2})
    await settle()
    assert len(got_sync) == 1 and len(got_async) == 2
    await layer.close()


async def test_group_publish_reaches_every_member_channel():
    layer = InMemoryChannelLayer()
    got = {}
    for n in (1, 2, 3):
        layer.channel(f"user:{n}").subscribe(lambda m, n=n: got.setdefault(n, m))
    group = layer.group("notifications")
    for n in (1, 2, 3):
        group.add(f"user:{n}")
    group.discard("user:3")
    await group.publish({"type": "alert", "text": "System maintenance in 1 hour"})
    await settle()
    assert sorted(got) == [1, 2]


async def test_presence_is_flat_and_counts_joins():
    layer = InMemoryChannelLayer()
    channel = layer.channel("chat:room1")
    channel.join(user_id="user42", metadata={"name": "Alice"})
    assert channel.presence() == [{"user_id": "user42", "name": "Alice"}]
    channel.join(user_id="user42", metadata={"name": "Alice"})  # a second tab
    channel.leave(user_id="user42")
    assert channel.presence() == [{"user_id": "user42", "name": "Alice"}]
    channel.leave(user_id="user42")
    assert channel.presence() == []


async def test_history_returns_the_last_messages_oldest_first():
    layer = InMemoryChannelLayer(history_size=5)
    channel = layer.channel("c")
    for i in range(8):
        await channel.publish(i)
    assert channel.history(limit=3) == [5, 6, 7]
    assert channel.history(limit=50) == [3, 4, 5, 6, 7]


async def test_delivery_is_ordered_even_with_a_slow_async_callback():
    layer = InMemoryChannelLayer()
    got = []

    async def slow(msg):
        await asyncio.sleep(0.001 * (msg % 3))
        got.append(msg)

    layer.channel("c").subscribe(slow)
    for i in range(30):
        await layer.channel("c").publish(i)
    while len(got) < 30:
        await asyncio.sleep(0.01)
    assert got == list(range(30))


async def test_a_full_subscriber_queue_counts_and_logs_overflow(caplog):
    layer = InMemoryChannelLayer(queue_size=4)
    blocker = asyncio.Event()
    got = []

    async def stuck(msg):
        await blocker.wait()
        got.append(msg)

    layer.channel("c").subscribe(stuck)
    with caplog.at_level(logging.WARNING, logger="hyperdjango.channels"):
        for i in range(10):
            await layer.channel("c").publish(i)
        await settle()
        for i in range(10, 12):
            await layer.channel("c").publish(i)
    assert layer.stats()["overflow"] > 0
    assert "dropping messages" in caplog.text
    blocker.set()
    await settle()
    assert got == sorted(got)


async def test_a_failing_callback_is_counted_and_others_still_run():
    layer = InMemoryChannelLayer()
    got = []
    layer.channel("c").subscribe(lambda m: 1 / 0)
    layer.channel("c").subscribe(got.append)
    await layer.channel("c").publish("x")
    await settle()
    assert got == ["x"]
    assert layer.stats()["callback_errors"] == 1


def test_the_in_memory_layer_implements_the_shared_interface():
    assert issubclass(InMemoryChannelLayer, ChannelLayer)


async def test_a_subscriber_whose_websocket_is_gone_is_dropped():
    from hyperdjango.websockets import WebSocketDisconnect

    layer = InMemoryChannelLayer()
    calls = []

    def gone(msg):
        calls.append(msg)
        raise WebSocketDisconnect(1001)

    layer.channel("c").subscribe(gone)
    await layer.channel("c").publish(1)
    await settle()
    await layer.channel("c").publish(2)
    await settle()
    assert calls == [1]
    assert layer.stats()["closed_subscribers"] == 1
    assert layer.stats()["callback_errors"] == 0
    assert layer.stats()["subscribers"] == 0
