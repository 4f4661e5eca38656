"""Many concurrent keep-alive connections on one worker process: all served, the
server's memory stated, and no file descriptor left behind once they close.

Short mode: 1,000 connections; ``HYPERDJANGO_STRESS=full``: 10,000 (the server's
default ``max_connections``). Run with ``-s`` to see the measured RSS."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.stress import open_fds, rss_mb, scale

APPS = Path(__file__).parent.parent / "server" / "apps"
#: Memory per open keep-alive connection, at most (13 KiB measured: most of it hyper's
#: read buffer, which it keeps between requests). The issue's goal, 100 MB for 10,000
#: idle connections in all, is not met yet: see docs/operations.md.
PER_CONNECTION_KB = 20


@pytest.fixture
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "hyperdjango", "run", "workers_app:app", "--port", str(port)],
                            cwd=APPS, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield proc, port
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


async def keep_alive_get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
    status = await reader.readline()
    length = 0
    while (line := await reader.readline()) != b"\r\n":
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return status


async def hold_connections(port: int, count: int, pid: int) -> tuple[float, int]:
    connections = []
    for start in range(0, count, 500):  # in waves, within the listen backlog
        opened = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in range(start, min(count, start + 500))))
        connections += opened
    statuses = await asyncio.gather(*(keep_alive_get(r, w) for r, w in connections))
    assert all(s.startswith(b"HTTP/1.1 200") for s in statuses)
    rss, fds = rss_mb(pid), open_fds(pid)
    # Every connection still open and usable: a second request on each.
    statuses = await asyncio.gather(*(keep_alive_get(r, w) for r, w in connections))
    assert all(s.startswith(b"HTTP/1.1 200") for s in statuses)
    for _, writer in connections:
        writer.close()
    return rss, fds


def test_many_keep_alive_connections_are_served_and_leave_no_fd_behind(server):
    proc, port = server
    count = scale(1000, 10_000)
    time.sleep(0.5)
    before, idle_rss = open_fds(proc.pid), rss_mb(proc.pid)
    rss, during = asyncio.run(hold_connections(port, count, proc.pid))
    print(f"\n{count} keep-alive connections: server RSS {idle_rss:.1f} MB idle, {rss:.1f} MB with them open, {during} fds")
    assert during >= before + count
    assert (rss - idle_rss) * 1024 / count < PER_CONNECTION_KB, (idle_rss, rss)
    deadline = time.monotonic() + 10
    while open_fds(proc.pid) > before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert open_fds(proc.pid) <= before + 2, (before, open_fds(proc.pid))
