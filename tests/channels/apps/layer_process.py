"""One process of a cross-process channel-layer test, driven line by line.

``python layer_process.py <url> <prefix> <options JSON>`` connects a
PgChannelLayer (``postgres://`` URL) or RedisChannelLayer (``redis://``, keys
under ``prefix``), prints ``ready`` and then answers commands read from stdin:

- ``subscribe <channel>``: records every message of ``channel``; ``subscribed``;
- ``join <channel> <user_id> <name>``: joins; ``joined``;
- ``publish <channel> <tag> <count>``: publishes ``{"from": tag, "n": i}`` for
  ``i < count``, all at once (concurrently); ``published``;
- ``report <channel> <count>``: once ``count`` messages were received, prints
  ``{"received": [...], "history": [...]}`` as JSON.
"""

import asyncio
import json
import sys

from hyperdjango.channels import PgChannelLayer, RedisChannelLayer


async def main(url: str, prefix: str, options: dict) -> None:
    if url.startswith("redis"):
        layer = RedisChannelLayer(url, prefix=prefix, **options)
    else:
        layer = PgChannelLayer(url, **options)
    await layer.connect()
    received: dict[str, list] = {}
    loop = asyncio.get_running_loop()

    def answer(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    answer("ready")
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command, channel, *args = line.split()
        if command == "subscribe":
            layer.channel(channel).subscribe(received.setdefault(channel, []).append)
            answer("subscribed")
        elif command == "join":
            layer.channel(channel).join(user_id=args[0], metadata={"name": args[1]})
            answer("joined")
        elif command == "publish":
            tag, count = args[0], int(args[1])
            await asyncio.gather(*(layer.channel(channel).publish({"from": tag, "n": n}) for n in range(count)))
            answer("published")
        elif command == "report":
            while len(received.get(channel, [])) < int(args[0]):
                await asyncio.sleep(0.01)
            answer(json.dumps({"received": received[channel], "history": layer.channel(channel).history(limit=10**6)}))
    await layer.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3])))
