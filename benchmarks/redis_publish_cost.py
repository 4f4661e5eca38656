"""What one publish costs the publishing process on the Redis channel layer: CPU time per
``await channel.publish(...)``, the publish's own echo included (every process, the
publisher too, delivers a message when it comes back from the subscription).

Two ways, one after the other, on one connected ``RedisChannelLayer`` with no subscriber:

- sequential: ``await publish`` in a loop (one pipeline of one change per publish);
- gathered: ``--batch`` publishes started together (``asyncio.gather``), again and again:
  the layer's writer sends each batch in one pipeline.

CPU time (``time.process_time``: user + system of every thread of this process, the
engine's included) does not depend on the machine's load as wall time does.

Run (a Redis server on 127.0.0.1:6379; keys under a fresh prefix, deleted afterwards):
    .venv/bin/python benchmarks/redis_publish_cost.py [--publishes 5000] [--batch 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid

from hyperdjango.channels import RedisChannelLayer

URL = "redis://127.0.0.1:6379/0"


async def measure(publishes: int, batch: int) -> dict[str, float]:
    prefix = f"hd-bench:{uuid.uuid4().hex[:8]}"
    layer = RedisChannelLayer(URL, prefix=prefix)
    await layer.connect()
    try:
        channel = layer.channel("bench")
        message = {"text": "x" * 48}
        for _ in range(200):  # warm-up
            await channel.publish(message)
        cpu = time.process_time()
        for _ in range(publishes // 10):
            await channel.publish(message)
        sequential = (time.process_time() - cpu) / (publishes // 10) * 1e6
        cpu = time.process_time()
        for _ in range(publishes // batch):
            await asyncio.gather(*(channel.publish(message) for _ in range(batch)))
        gathered = (time.process_time() - cpu) / (publishes // batch * batch) * 1e6
    finally:
        await layer.close()
        import redis.asyncio as redis

        client = redis.Redis.from_url(URL)
        keys = [key async for key in client.scan_iter(f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    return {"sequential_cpu_us_per_publish": round(sequential, 1), "gathered_cpu_us_per_publish": round(gathered, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--publishes", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}", flush=True)
    result = asyncio.run(measure(args.publishes, args.batch))
    print(json.dumps({"publishes": args.publishes, "batch": args.batch, **result}), flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
