"""Is the Redis channel layer's subscription reader (redis-py, in Python) what bounds its
receive rate? CPU per received message of the reader alone against the whole layer.

A publisher process sends ``--messages`` real announcements (built by the layer itself, 64 B
messages on one channel) with ``PUBLISH`` in pipelines of 500, as fast as Redis takes them;
this process receives them three times, one way after the other:

- reader: redis-py's pub/sub reader alone (``get_message`` in a loop, as the layer's reader
  did before the engine read the subscription), doing nothing with the messages;
- engine_reader: the engine's subscriber alone (``_core.RedisSubscriber``: a tokio thread
  reads the connection, the loop drains batches), doing nothing with the messages;
- layer: a connected ``RedisChannelLayer`` with one subscriber on the channel, each message
  decoded and delivered.

CPU time (``time.process_time``, user + system of every thread of this process, the engine's
included) from the first message to the last does not depend on the machine's load as wall
time does. Messages per second
(wall) are printed too.

Run (a Redis server on 127.0.0.1:6379; keys under a fresh prefix, deleted afterwards):
    .venv/bin/python benchmarks/redis_receive_cost.py [--messages 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid

from hyperdjango.channels import RedisChannelLayer

URL = "redis://127.0.0.1:6379/0"

PUBLISHER = """
import sys, redis
prefix, path, url = sys.argv[1:4]
envelopes = open(path, "rb").read().split(b"\\n")
client = redis.Redis.from_url(url)
for start in range(0, len(envelopes), 500):
    pipe = client.pipeline(transaction=False)
    for envelope in envelopes[start:start + 500]:
        pipe.publish(prefix, envelope)
    pipe.execute()
"""


def publish(prefix: str, envelopes: list[bytes], path: str) -> subprocess.Popen:
    with open(path, "wb") as out:
        out.write(b"\n".join(envelopes))
    return subprocess.Popen([sys.executable, "-c", PUBLISHER, prefix, path, URL])


async def receive_with_reader(prefix: str, envelopes: list[bytes], path: str) -> tuple[float, float]:
    import redis.asyncio as redis

    client = redis.Redis.from_url(URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(prefix)
    publisher = publish(prefix, envelopes, path)
    received = 0
    while received < len(envelopes):
        message = await pubsub.get_message(timeout=None)
        if message is None or message.get("type") != "message":
            continue
        if received == 0:
            start, cpu = time.perf_counter(), time.process_time()
        received += 1
    result = time.perf_counter() - start, time.process_time() - cpu
    publisher.wait()
    await pubsub.aclose()
    await client.aclose()
    return result


async def receive_with_engine(prefix: str, envelopes: list[bytes], path: str) -> tuple[float, float]:
    from hyperdjango._core import RedisSubscriber
    from hyperdjango.runtime import loop_bridge

    subscriber = await RedisSubscriber.connect(loop_bridge(), URL, "hd-bench-reader")
    await subscriber.subscribe(loop_bridge(), prefix)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    marks: list[tuple[float, float]] = []
    received = 0

    def on_readable() -> None:
        nonlocal received
        while True:
            events = subscriber.drain(256)
            if events and received == 0:
                marks.append((time.perf_counter(), time.process_time()))
            received += len(events)
            if len(events) < 256:
                break
        if received >= len(envelopes) and not done.is_set():
            marks.append((time.perf_counter(), time.process_time()))
            done.set()

    loop.add_reader(subscriber.fileno(), on_readable)
    publisher = publish(prefix, envelopes, path)
    await done.wait()
    loop.remove_reader(subscriber.fileno())
    publisher.wait()
    await subscriber.close(loop_bridge())
    (wall0, cpu0), (wall1, cpu1) = marks
    return wall1 - wall0, cpu1 - cpu0


async def receive_with_layer(layer: RedisChannelLayer, channel_name: str, envelopes: list[bytes], path: str) -> tuple[float, float]:
    got: list = []
    first: list[tuple[float, float]] = []
    last: list[tuple[float, float]] = []
    done = asyncio.Event()

    def deliver(message) -> None:
        if not got:
            first.append((time.perf_counter(), time.process_time()))
        got.append(message)
        if len(got) == len(envelopes):
            last.append((time.perf_counter(), time.process_time()))
            done.set()

    layer.channel(channel_name).subscribe(deliver)
    publisher = publish(layer.prefix, envelopes, path)
    await done.wait()
    [(wall, cpu)] = last
    publisher.wait()
    return wall - first[0][0], cpu - first[0][1]


async def main_async(messages: int) -> None:
    prefix = f"hd-bench:{uuid.uuid4().hex[:8]}"
    path = f"/tmp/{prefix.replace(':', '-')}.envelopes"
    layer = RedisChannelLayer(URL, prefix=prefix, queue_size=messages)
    channel_name = "bench"
    # Real announcements, as another process's layer would send them.
    envelopes = [layer._announcement("publish", (channel_name, uuid.uuid4().hex, json.dumps({"n": n, "text": "x" * 48}).encode()))
                 for n in range(messages)]
    try:
        reader_wall, reader_cpu = await receive_with_reader(prefix, envelopes, path)
        engine_wall, engine_cpu = await receive_with_engine(prefix, envelopes, path)
        await layer.connect()
        try:
            layer_wall, layer_cpu = await receive_with_layer(layer, channel_name, envelopes, path)
        finally:
            await layer.close()
    finally:
        os.unlink(path)
        import redis.asyncio as redis

        client = redis.Redis.from_url(URL)
        keys = [key async for key in client.scan_iter(f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    n = messages - 1  # timed from the first message
    print(json.dumps({
        "messages": messages,
        "reader_cpu_us_per_message": round(reader_cpu / n * 1e6, 2),
        "engine_reader_cpu_us_per_message": round(engine_cpu / n * 1e6, 2),
        "layer_cpu_us_per_message": round(layer_cpu / n * 1e6, 2),
        "reader_share_of_layer_cpu": round(reader_cpu / layer_cpu, 2),
        "reader_messages_per_s": round(n / reader_wall),
        "engine_reader_messages_per_s": round(n / engine_wall),
        "layer_messages_per_s": round(n / layer_wall),
    }), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20000)
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}", flush=True)
    asyncio.run(main_async(args.messages))
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
