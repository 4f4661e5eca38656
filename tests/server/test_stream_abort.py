"""A streamed response that fails while its client reads slowly is cut off cheaply."""

from __future__ import annotations

import asyncio
import os
import socket
import time

from hyperdjango import HyperApp
from hyperdjango.responses import StreamingResponse
from hyperdjango.testing import TestClient

app = HyperApp(title="stream-abort")
CLIENTS = 8
BIG = b"x" * (8 * 1024 * 1024)


@app.get("/fails-when-full")
async def fails_when_full(request):
    async def chunks():
        # The server is still writing this to a client that does not read...
        yield BIG
        await asyncio.sleep(0.2)
        # ...so these fill the stream's buffer (16 chunks) and the failure comes while it is full.
        for _ in range(16):
            yield b"y"
        raise RuntimeError("the source of the stream failed")

    return StreamingResponse(chunks())


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_aborting_full_streams_starts_no_thread_per_abort():
    with TestClient(app) as client:
        host, port = client.base_url.removeprefix("http://").split(":")
        before = os_threads()
        sockets = []
        try:
            for _ in range(CLIENTS):
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.connect((host, int(port)))
                sock.sendall(b"GET /fails-when-full HTTP/1.1\r\nHost: x\r\n\r\n")
                sockets.append(sock)
            time.sleep(1.5)  # every view has failed by now, its client still not reading
            during = os_threads()
        finally:
            for sock in sockets:
                sock.close()
        # The executor's threads may grow by a few; one thread per abort would add CLIENTS.
        assert during - before < CLIENTS, (before, during)
