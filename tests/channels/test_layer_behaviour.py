"""One behaviour suite for every channel layer (memory, PostgreSQL, Redis).

``a`` and ``b`` stand for two processes (the same layer for memory).
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from support.waiting import until

#: For what only a layer with several processes does.
cross_process = pytest.mark.parametrize("kind", ["postgres", "redis"], indirect=True)


async def test_subscribers_get_messages_in_publish_order_sync_or_async(layers, name):
    a, b = await layers()
    got_sync, got_async = [], []

    async def on_async(msg):
        await asyncio.sleep(0.001 * (msg["n"] % 3))  # an uneven callback keeps its order
        got_async.append(msg["n"])

    b.channel(name()).subscribe(lambda msg: got_sync.append(msg["n"]))
    b.channel(name()).subscribe(on_async)
    for n in range(30):
        await a.channel(name()).publish({"n": n})
    await until(lambda: len(got_sync) == 30 and len(got_async) == 30)
    assert got_sync == got_async == list(range(30))


async def test_a_process_gets_its_own_publish_once(layers, name):
    a, b = await layers()
    got = []
    a.channel(name()).subscribe(got.append)
    for n in range(5):
        await a.channel(name()).publish(n)
    await b.channel(name()).publish("from b")  # arrives after a's own, which must not come back
    await until(lambda: "from b" in got)
    assert got == [0, 1, 2, 3, 4, "from b"]


async def test_unsubscribe_stops_delivery(layers, name):
    a, b = await layers()
    got = []
    sub_id = b.channel(name()).subscribe(got.append)
    await a.channel(name()).publish(1)
    await until(lambda: got == [1])
    assert b.channel(name()).unsubscribe(sub_id) is True
    assert b.channel(name()).unsubscribe(sub_id) is False
    late = []
    b.channel(name()).subscribe(late.append)
    await a.channel(name()).publish(2)
    await until(lambda: late == [2])
    assert got == [1]


async def test_group_members_and_publish_work_across_processes(layers, name):
    a, b = await layers()
    got = {}
    for n in (1, 2, 3):
        b.channel(name(f"user{n}")).subscribe(lambda m, n=n: got.setdefault(n, m))
    group = a.group(name("notifications"))
    for n in (1, 2, 3):
        group.add(name(f"user{n}"))
    group.discard(name("user3"))
    await until(lambda: b.group(name("notifications")).members == [name("user1"), name("user2")])
    await b.group(name("notifications")).publish({"type": "alert", "text": "System maintenance in 1 hour"})
    await until(lambda: sorted(got) == [1, 2])
    assert got[1] == {"type": "alert", "text": "System maintenance in 1 hour"}


async def test_presence_has_the_spec_shape_and_is_shared(layers, name):
    a, b = await layers()
    a.channel(name()).join(user_id="user42", metadata={"name": "Alice"})
    await until(lambda: b.channel(name()).presence() == [{"user_id": "user42", "name": "Alice"}])
    b.channel(name()).join(user_id="user42", metadata={"name": "Alice"})  # a second tab, elsewhere
    a.channel(name()).leave(user_id="user42")
    b.channel(name()).leave(user_id="user42")  # ... and that one closes too
    await until(lambda: a.channel(name()).presence() == [] and b.channel(name()).presence() == [])


async def test_history_returns_the_last_messages_oldest_first_everywhere(layers, name):
    a, b = await layers(history_size=5)
    for n in range(8):
        await a.channel(name()).publish(n)
    assert a.channel(name()).history(limit=3) == [5, 6, 7]
    await until(lambda: b.channel(name()).history(limit=50) == [3, 4, 5, 6, 7])


async def test_a_full_subscriber_queue_counts_overflow_and_logs_it(layers, name, caplog):
    a, b = await layers(queue_size=4)
    blocker = asyncio.Event()
    got = []

    async def stuck(msg):
        await blocker.wait()
        got.append(msg)

    b.channel(name()).subscribe(stuck)
    with caplog.at_level(logging.WARNING, logger="hyperdjango.channels"):
        for n in range(12):
            await a.channel(name()).publish(n)
        await until(lambda: b.channel(name()).history(limit=1) == [11])
    assert b.stats()["overflow"] > 0
    assert "dropping messages" in caplog.text
    blocker.set()
    await until(lambda: len(got) + b.stats()["overflow"] == 12)
    assert got == sorted(got)


async def test_a_large_message_is_delivered_whole(layers, name):
    a, b = await layers()
    got = []
    b.channel(name()).subscribe(got.append)
    big = {"text": "x" * 20_000, "tail": "end"}
    await a.channel(name()).publish({"n": 1})
    await a.channel(name()).publish(big)
    await a.channel(name()).publish({"n": 2})
    await until(lambda: len(got) == 3)
    assert got == [{"n": 1}, big, {"n": 2}]
    if hasattr(a, "notify_channel"):
        assert a.stats()["large_payloads"] == 1


@cross_process
async def test_a_layer_that_connects_later_loads_presence_history_and_groups(layers, name, kind):
    a, = await layers(1)
    a.channel(name()).join(user_id="u1", metadata={"name": "Ann"})
    a.group(name("g")).add(name())
    await a.channel(name()).publish("hello")
    c, = await layers(1)
    assert c.channel(name()).presence() == [{"user_id": "u1", "name": "Ann"}]
    assert c.channel(name()).history() == ["hello"]
    assert c.group(name("g")).members == [name()]


@cross_process
async def test_closing_a_layer_removes_its_presence_elsewhere(layers, name, kind):
    a, b = await layers()
    a.channel(name()).join(user_id="u1", metadata={})
    await until(lambda: b.channel(name()).presence() == [{"user_id": "u1"}])
    await a.close()
    await until(lambda: b.channel(name()).presence() == [])


@cross_process
async def test_a_message_that_is_not_json_is_refused_before_anyone_gets_it(layers, name, kind):
    a, = await layers(1)
    got = []
    a.channel(name()).subscribe(got.append)
    with pytest.raises(TypeError, match="JSON-compatible"):
        await a.channel(name()).publish({"when": object()})
    assert a.channel(name()).history() == [] and got == []


@cross_process
async def test_plain_calls_before_connect_say_what_to_do(kind):
    from hyperdjango.channels import PgChannelLayer, RedisChannelLayer

    layer = PgChannelLayer("postgres://x@127.0.0.1/x") if kind == "postgres" else RedisChannelLayer()
    with pytest.raises(RuntimeError, match="connect"):
        layer.channel("c").join("u1")


@cross_process
async def test_a_change_the_backend_refuses_is_logged_and_counted(layers, name, kind, caplog):
    a, = await layers(1)
    refused = name("refused")
    if kind == "postgres":
        for table in ("hyperdjango_channel_messages", "hyperdjango_channel_presence"):
            await a.database.execute(f"ALTER TABLE {table} ADD CONSTRAINT refuse_{refused[-8:]} CHECK (channel <> '{refused}')")
    else:
        await a._client.set(a._key("history", refused), "not a list")
        await a._client.set(a._key("presence", refused), "not a hash")
    try:
        with caplog.at_level(logging.ERROR, logger="hyperdjango.channels"):
            with pytest.raises(Exception):
                await a.channel(refused).publish("lost")
            a.channel(refused).join("u1")
            await until(lambda: a.stats()["write_failures"] == 2)
        assert "could not store a publish change" in caplog.text
        assert "could not store a presence change" in caplog.text
        await a.channel(name()).publish("fine")  # the layer goes on
    finally:
        if kind == "postgres":
            for table in ("hyperdjango_channel_messages", "hyperdjango_channel_presence"):
                await a.database.execute(f"ALTER TABLE {table} DROP CONSTRAINT refuse_{refused[-8:]}")
