"""Channel layers: what one publish costs on the PostgreSQL and Redis layers.

For each layer, one connected layer with one subscriber on one channel:

- sequential: ``await channel.publish(...)`` in a loop; µs per publish. A publish
  returns once the message is stored, announced and back in this process
  (delivered in the backend's order), so this is about one write and one
  announcement round trip;
- concurrent: ``--messages`` publishes started at once (``asyncio.gather``), per
  second until the subscriber has them all: the writer batches them into
  pipelines, so this is the layer's throughput; with this process's CPU time per publish
  (user + system: it depends far less on the machine's load than the rate does).

Run:
    .venv/bin/python benchmarks/channels_bench.py [--messages 3000] [--sequential 300]

PostgreSQL comes from tests/support/postgres.py (127.0.0.1:5432 or a throwaway cluster); a
fresh database is created and dropped. Redis is used when a server answers on
127.0.0.1:6379 (keys under a fresh prefix, deleted afterwards). Absolute numbers depend on
the machine (a PostgreSQL publish is one commit: its fsync is most of it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hyperdjango.channels import PgChannelLayer, RedisChannelLayer  # noqa: E402


async def bench(label: str, layer, sequential: int, messages: int) -> None:
    await layer.connect()
    try:
        channel = layer.channel(f"bench:{uuid.uuid4().hex[:8]}")
        got: list = []
        channel.subscribe(got.append)
        start = time.perf_counter()
        for n in range(sequential):
            await channel.publish({"n": n})
        per_publish = (time.perf_counter() - start) / sequential * 1e6
        start, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(channel.publish({"n": n}) for n in range(messages)))
        while len(got) < sequential + messages:
            await asyncio.sleep(0.001)
        rate = messages / (time.perf_counter() - start)
        cpu_per_publish = (time.process_time() - cpu) / messages * 1e6
        print(f"{label:<12} sequential {per_publish:>8.0f} µs/publish   concurrent {rate:>8.0f} publishes/s "
              f"({cpu_per_publish:.0f} µs of this process's CPU each)", flush=True)
    finally:
        await layer.close()


async def clear_redis(prefix: str) -> None:
    import redis.asyncio as redis

    client = redis.Redis()
    try:
        keys = [key async for key in client.scan_iter(f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=3000, help="publishes started at once")
    parser.add_argument("--sequential", type=int, default=300, help="publishes awaited one by one")
    args = parser.parse_args()
    from support.postgres import find_or_start_server
    from support.redis import answers

    print(f"load before: {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}", flush=True)
    server = find_or_start_server()
    name = server.create_database("hd_bench")
    try:
        asyncio.run(bench("postgresql", PgChannelLayer(server.url(name)), args.sequential, args.messages))
    finally:
        server.drop_database(name)
        server.stop()
    if answers("127.0.0.1", 6379):
        prefix = f"hd-bench:{uuid.uuid4().hex[:8]}"
        try:
            layer = RedisChannelLayer("redis://127.0.0.1:6379/0", prefix=prefix)
            asyncio.run(bench("redis", layer, args.sequential, args.messages))
        finally:
            asyncio.run(clear_redis(prefix))
    else:
        print("redis        skipped: no server on 127.0.0.1:6379")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
