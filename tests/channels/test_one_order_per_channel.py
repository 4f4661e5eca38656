"""Every process of a cross-process layer sees one channel's messages in one
order, and ``history()`` is that order, whoever published and however
concurrently."""

from __future__ import annotations

import asyncio
import json

import pytest

from support.waiting import until

cross_process = pytest.mark.parametrize("kind", ["postgres", "redis"], indirect=True)

#: Messages each publisher sends at once.
BURST = 150


@cross_process
async def test_concurrent_publishers_in_two_processes_give_every_subscriber_the_same_order(
    layer_process, layers, name, kind
):
    options = {"history_size": 1000}
    one, two = await layer_process(**options), await layer_process(**options)
    here, there = await layers(2, **options)  # two more layers in this process, connected separately
    channel = name()
    seen = {"here": [], "there": []}
    here.channel(channel).subscribe(seen["here"].append)
    there.channel(channel).subscribe(seen["there"].append)
    for proc in (one, two):
        assert await proc.send(f"subscribe {channel}") == "subscribed"

    # Both processes and both local layers publish their bursts at the same moment.
    for proc, tag in ((one, "one"), (two, "two")):
        proc.popen.stdin.write(f"publish {channel} {tag} {BURST}\n")
        proc.popen.stdin.flush()
    await asyncio.gather(
        *(here.channel(channel).publish({"from": "here", "n": n}) for n in range(BURST)),
        *(there.channel(channel).publish({"from": "there", "n": n}) for n in range(BURST)),
    )
    assert [await one.read(), await two.read()] == ["published", "published"]

    total = 4 * BURST
    reports = [json.loads(await proc.send(f"report {channel} {total}")) for proc in (one, two)]
    await until(lambda: len(seen["here"]) == total and len(seen["there"]) == total, timeout=60)
    order = seen["here"]
    assert seen["there"] == order
    for report in reports:
        assert report["received"] == order
        assert report["history"] == order
    assert here.channel(channel).history(limit=total) == order
    assert there.channel(channel).history(limit=total) == order
    # Nothing lost or doubled, and each publisher's own messages in its order.
    for tag in ("one", "two", "here", "there"):
        assert [m["n"] for m in order if m["from"] == tag] == list(range(BURST))


@cross_process
async def test_publish_returns_once_the_publishing_process_has_the_message(layers, name, kind):
    a, b = await layers()
    got = []
    a.channel(name()).subscribe(got.append)
    await b.channel(name()).publish("from b")
    await a.channel(name()).publish("from a")
    # Delivered through the backend, in its order, and already recorded when publish returned.
    assert a.channel(name()).history()[-1] == "from a"
    await until(lambda: len(got) == 2)
    assert got == ["from b", "from a"]


@cross_process
async def test_a_large_message_keeps_its_place_among_concurrent_small_ones(layers, name, kind):
    a, b = await layers()
    seen_a, seen_b = [], []
    a.channel(name()).subscribe(seen_a.append)
    b.channel(name()).subscribe(seen_b.append)
    big = {"text": "x" * 20_000}
    await asyncio.gather(
        *(a.channel(name()).publish({"n": n}) for n in range(20)),
        b.channel(name()).publish(big),
        *(b.channel(name()).publish({"n": 100 + n}) for n in range(20)),
    )
    await until(lambda: len(seen_a) == 41 and len(seen_b) == 41)
    assert seen_a == seen_b == a.channel(name()).history() == b.channel(name()).history()
    assert big in seen_a
