"""Many WebSocket connections on one worker process with a chat fan-out: every
message reaches every client that reads, whether sent by the engine's
``broadcast()`` or through a channel-layer group; clients that stop reading are
closed with 1013 and counted, and never hold the others back; the server's
memory stays under a stated bound.

Short mode: 1,000 connections; ``HYPERDJANGO_STRESS=full``: 5,000. One in ten
stops reading. Run with ``-s`` to see the measured RSS."""

from __future__ import annotations

import asyncio
import resource
import sys
import time
from pathlib import Path

import httpx
import pytest

from support.stress import open_fds, rss_mb, scale, server_process
from support.ws_client import CLOSE, WsClient, close_code

APP = Path(__file__).parent / "apps" / "fanout_app.py"
#: Messages sent by each path (``broadcast()`` and the group), 1 kB each: a client
#: that stops reading has its send queue full after 40 to 100 of them.
MESSAGES = 80
#: Server memory per open WebSocket connection, at most (measured: see docs/operations.md).
PER_CONNECTION_KB = 40


@pytest.fixture
def server():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 20_000)), hard))  # the server inherits it
    with server_process(lambda port: [sys.executable, str(APP), str(port)], APP.parent, stop_timeout=30) as running:
        yield running
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def read_all(client: WsClient, into: list[str]) -> None:
    """Records each text message's tag (``b3``, ``g7``) until the connection ends."""
    try:
        while True:
            opcode, payload = await client.recv()
            if opcode == CLOSE:
                into.append(f"close:{close_code(payload)}")
                return
            into.append(payload.split(b":", 1)[0].decode())
    except (asyncio.IncompleteReadError, ConnectionError):
        into.append("eof")


async def connect_all(port: int, count: int, slow_every: int) -> tuple[list[WsClient], list[WsClient]]:
    readers, slow = [], []
    for start in range(0, count, 250):  # in waves, within the listen backlog
        wave = range(start, min(count, start + 250))
        clients = await asyncio.gather(*(
            WsClient.connect("127.0.0.1", port, "/ws", receive_buffer=4096 if i % slow_every == 0 else None) for i in wave
        ))
        for i, client in zip(wave, clients):
            if i % slow_every == 0:
                client.stop_reading()
                slow.append(client)
            else:
                readers.append(client)
    return readers, slow


def test_a_chat_fan_out_reaches_every_reader_and_closes_slow_consumers_with_1013(server):
    proc, port = server
    count = scale(1000, 5000)
    expected = [f"b{n}" for n in range(MESSAGES)] + [f"g{n}" for n in range(MESSAGES)]

    async def scenario():
        idle_rss = rss_mb(proc.pid)
        readers, slow = await connect_all(port, count, slow_every=10)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            deadline = time.monotonic() + 60
            while (await http.get("/stats")).json()["members"] < count:
                assert time.monotonic() < deadline, "not every connection reached the handler"
                await asyncio.sleep(0.1)
            connected_rss = rss_mb(proc.pid)
            received = [[] for _ in readers]
            reading = [asyncio.create_task(read_all(c, into)) for c, into in zip(readers, received)]
            peak_rss = connected_rss
            for n in range(MESSAGES):
                assert (await http.post(f"/broadcast/{n}")).status_code == 200
            for n in range(MESSAGES):
                assert (await http.post(f"/group/{n}")).status_code == 200
                peak_rss = max(peak_rss, rss_mb(proc.pid))
            # The slow clients read now: what the kernel held, then the close.
            slow_seen = [[] for _ in slow]
            draining = [asyncio.create_task(read_all(c, into)) for c, into in zip(slow, slow_seen)]
            deadline = time.monotonic() + 60
            while any(len(r) < len(expected) for r in received) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            _, still_open = await asyncio.wait(draining, timeout=30)  # reported by the assertion below
            for task in still_open:
                task.cancel()
            stats = (await http.get("/stats")).json()
            for client in readers:
                client.close()
            await asyncio.wait_for(asyncio.gather(*reading), 30)
            deadline = time.monotonic() + 30
            while (await http.get("/stats")).json()["members"] > 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        return idle_rss, connected_rss, peak_rss, received, slow_seen, stats

    idle_fds = open_fds(proc.pid)
    idle_rss, connected_rss, peak_rss, received, slow_seen, stats = asyncio.run(scenario())
    print(f"\n{count} WebSockets: server RSS {idle_rss:.1f} MB idle, {connected_rss:.1f} MB connected, "
          f"{peak_rss:.1f} MB at the peak of the fan-out; {stats}")
    wrong = [r for r in received if r[:len(expected)] != expected]
    assert not wrong, (len(wrong), wrong[0][:5], wrong[0][-5:])
    # Every slow client was closed before it had everything: it reads the close (1013)
    # behind what its socket buffers held, or, when it comes to read only after the
    # close handshake's timeout (5 s: thousands of readers go first), finds the socket gone.
    assert all(seen[-1] in ("close:1013", "eof") and len(seen) - 1 < len(expected) for seen in slow_seen), \
        sorted((len(s), s[-1]) for s in slow_seen if s[-1] not in ("close:1013", "eof"))[:5]
    # The server dropped exactly the slow ones, each once (a subscription it could not feed).
    assert stats["layer_closed_subscribers"] == len(slow_seen), stats
    assert (peak_rss - idle_rss) * 1024 / count < PER_CONNECTION_KB, (idle_rss, connected_rss, peak_rss)
    deadline = time.monotonic() + 10
    while open_fds(proc.pid) > idle_fds + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert open_fds(proc.pid) <= idle_fds + 2, (idle_fds, open_fds(proc.pid))
