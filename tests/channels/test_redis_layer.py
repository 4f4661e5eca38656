"""What only the Redis layer does: its subscription is read by the engine, whose
queue is bounded; announcements it had to drop are counted and recovered."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid

from hyperdjango.channels import RedisChannelLayer

from support.waiting import until


def publish_from_another_loop(url: str, prefix: str, channel: str, count: int) -> None:
    """Publishes ``count`` messages through a layer on a thread of its own, and
    returns when they are written: the caller's loop is blocked meanwhile."""

    async def publish() -> None:
        layer = RedisChannelLayer(url, prefix=prefix)
        await layer.connect()
        try:
            await asyncio.gather(*(layer.channel(channel).publish(n) for n in range(count)))
        finally:
            await layer.close()

    thread = threading.Thread(target=asyncio.run, args=(publish(),))
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()


async def test_announcements_dropped_while_the_loop_was_behind_are_counted_and_reloaded(redis_url, caplog):
    prefix = f"hd-test:{uuid.uuid4().hex[:8]}"
    layer = RedisChannelLayer(redis_url, prefix=prefix)
    layer._receive_queue = 4  # the engine holds 4 announcements for the loop
    await layer.connect()
    try:
        got: list[int] = []
        layer.channel("room").subscribe(got.append)
        with caplog.at_level(logging.ERROR, logger="hyperdjango.channels"):
            # This loop is blocked while 50 announcements arrive: 4 fit, 46 are dropped.
            publish_from_another_loop(redis_url, prefix, "room", 50)
            await until(lambda: len(got) == 50, what="every message, the dropped ones from the history")
        assert got == list(range(50))  # in order, none twice
        assert layer.stats()["receive_overflow"] == 46
        assert "46 announcements from Redis were dropped" in caplog.text
        assert layer.channel("room").history(100) == list(range(50))
        # The subscription goes on.
        await layer.channel("room").publish("after")
        await until(lambda: got[-1] == "after", what="a message after the reload")
    finally:
        await layer.close()
