"""Many concurrent keep-alive connections on one worker process: all served, the
server's memory stated while they are busy and once they idle (parked, see
``crates/engine/src/http/connection.rs``), each served again after idling and parked
again, and no file descriptor left behind once they close.

Short mode: 1,000 connections; ``HYPERDJANGO_STRESS=full``: 10,000 (the server's
default ``max_connections``), which must fit in ``IDLE_RSS_MB``. Run with ``-s`` to
see the measured RSS."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from support.stress import open_fds, rss_mb, scale, server_process

APP = Path(__file__).parent / "apps" / "idle_app.py"
#: Memory per keep-alive connection just after its request, at most (16 KiB
#: measured: mostly hyper's read and write buffers, 8 KiB each).
PER_CONNECTION_KB = 24
#: Memory per idle (parked) keep-alive connection, at most (3.7 KiB measured with
#: 10,000: the connection's task, its socket registration and the glibc pages they
#: keep in use; hyper's buffers are freed).
PER_IDLE_CONNECTION_KB = 6
#: The server's whole RSS with 10,000 idle connections (full mode; 77 MB measured,
#: the goal of issue #10 is 100 MB).
IDLE_RSS_MB = 100
#: How long the idle connections may take to be parked and their memory returned to
#: the system (the engine parks after 1 s idle, and releases memory in waves).
SETTLE = 20.0


@pytest.fixture
def server():
    with server_process(lambda port: [sys.executable, str(APP), str(port)], APP.parent) as running:
        yield running


async def keep_alive_get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
    status = await reader.readline()
    length = 0
    while (line := await reader.readline()) != b"\r\n":
        if not line:
            raise ConnectionError("the server closed a keep-alive connection")
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return status


async def settled_rss(pid: int, base_rss: float, count: int) -> float:
    """The server's RSS once its idle connections fit in ``PER_IDLE_CONNECTION_KB``,
    or after ``SETTLE`` seconds."""
    deadline = time.monotonic() + SETTLE
    while (rss_mb(pid) - base_rss) * 1024 / count >= PER_IDLE_CONNECTION_KB and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    return rss_mb(pid)


async def hold_connections(port: int, count: int, pid: int, base_rss: float) -> tuple[float, float, float, int]:
    connections = []
    for start in range(0, count, 500):  # in waves, within the listen backlog
        opened = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in range(start, min(count, start + 500))))
        connections += opened
    statuses = await asyncio.gather(*(keep_alive_get(r, w) for r, w in connections))
    assert all(s.startswith(b"HTTP/1.1 200") for s in statuses)
    busy_rss, fds = rss_mb(pid), open_fds(pid)
    idle_rss = await settled_rss(pid, base_rss, count)
    # Every connection still open and usable: a second request on each, after which
    # each one idles (and is parked) again.
    statuses = await asyncio.gather(*(keep_alive_get(r, w) for r, w in connections))
    assert all(s.startswith(b"HTTP/1.1 200") for s in statuses)
    idle_again_rss = await settled_rss(pid, base_rss, count)
    for _, writer in connections:
        writer.close()
    return busy_rss, idle_rss, idle_again_rss, fds


def test_many_keep_alive_connections_are_served_and_leave_no_fd_behind(server):
    proc, port = server
    count = scale(1000, 10_000)
    time.sleep(0.5)
    before, base_rss = open_fds(proc.pid), rss_mb(proc.pid)
    busy_rss, idle_rss, idle_again_rss, during = asyncio.run(hold_connections(port, count, proc.pid, base_rss))
    print(f"\n{count} keep-alive connections: server RSS {base_rss:.1f} MB before, {busy_rss:.1f} MB just "
          f"after their requests, {idle_rss:.1f} MB once idle, {idle_again_rss:.1f} MB idle after a "
          f"second request each; {during} fds")
    assert during >= before + count
    assert (busy_rss - base_rss) * 1024 / count < PER_CONNECTION_KB, (base_rss, busy_rss)
    for idle in (idle_rss, idle_again_rss):
        assert (idle - base_rss) * 1024 / count < PER_IDLE_CONNECTION_KB, (base_rss, idle_rss, idle_again_rss)
        if count >= 10_000:
            assert idle < IDLE_RSS_MB, (idle_rss, idle_again_rss)
    deadline = time.monotonic() + 10
    while open_fds(proc.pid) > before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert open_fds(proc.pid) <= before + 2, (before, open_fds(proc.pid))
