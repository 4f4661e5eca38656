#!/usr/bin/env python3
"""Server CPU per WebSocket delivery, counted in instructions (callgrind), not timed.

Wall-clock rates need a quiet machine; instruction counts do not. The server
runs under ``valgrind --tool=callgrind`` twice per case: once where the
members connect and leave without a message, once where ``--messages``
32-byte messages go to every member. The difference, divided by the
deliveries, is the server's instructions per delivery (Python, engine and
kernel entry points in user space; system calls are counted separately with
``strace -c -f`` when ``--syscalls`` is given).

Cases (all in one app, the user's code as a user writes it):

- loop: ``for ws in members: await ws.send_text(text)``;
- broadcast: ``hyperdjango.websockets.broadcast(members, text)``;
- layer-task: an InMemoryChannelLayer channel, each member subscribed with a
  closure (``async def forward(m): await ws.send_text(m)``): a task and a
  queue per subscriber;
- layer-engine: the same channel, each member subscribed with ``ws.send_text``:
  fed by the engine in one call per message;
- echo: ``--members`` connections each send ``--messages`` messages and read
  every echo (instructions per echoed message).

    .venv/bin/python benchmarks/ws_cost.py --members 64 --messages 200 --cases broadcast,loop
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = ("loop", "broadcast", "layer-task", "layer-engine", "echo")
BURST = 20  # messages published between two yields of the publisher


def serve(port: int, case: str) -> None:
    from hyperdjango import HyperApp
    from hyperdjango.channels import InMemoryChannelLayer
    from hyperdjango.websockets import broadcast

    app = HyperApp()
    members: list = []
    layer = InMemoryChannelLayer(queue_size=100_000)
    channel = layer.channel("room")

    @app.websocket("/ws/member")
    async def member(ws, request):
        await ws.accept()
        if case == "layer-task":
            async def forward(message):
                await ws.send_text(message)
            sub_id = channel.subscribe(forward)
        elif case == "layer-engine":
            sub_id = channel.subscribe(ws.send_text)
        else:
            members.append(ws)
        try:
            async for _ in ws:
                pass
        finally:
            if case.startswith("layer"):
                channel.unsubscribe(sub_id)
            else:
                members.remove(ws)

    @app.websocket("/ws/publish")
    async def publish(ws, request):
        count = int(await ws.receive_text())
        text = "x" * 32
        for i in range(count):
            if case == "loop":
                for member_ws in members:
                    await member_ws.send_text(text)
            elif case == "broadcast":
                broadcast(members, text)
            else:
                await channel.publish(text)
            if i % BURST == BURST - 1:
                await asyncio.sleep(0)
        await ws.send_text("done")
        await ws.receive()

    @app.websocket("/ws/echo")
    async def echo(ws, request):
        async for message in ws:
            await ws.send_text(message.text)

    app.run(host="127.0.0.1", port=port, workers=1, backlog=4096)


async def drive(port: int, case: str, members: int, messages: int) -> None:
    from websockets.asyncio.client import connect

    base = f"ws://127.0.0.1:{port}"
    if case == "echo":
        async def one() -> None:
            async with connect(base + "/ws/echo", max_queue=None) as ws:
                for _ in range(messages):
                    await ws.send("x" * 32)
                    await ws.recv()
        await asyncio.gather(*(one() for _ in range(members)))
        return
    sockets = [await connect(base + "/ws/member", max_queue=None) for _ in range(members)]
    path = "/ws/publish"
    async with connect(base + path) as publisher:
        await publisher.send(str(messages))

        async def read_all(ws) -> None:
            for _ in range(messages):
                await ws.recv()
        await asyncio.gather(*(read_all(ws) for ws in sockets))
        assert await publisher.recv() == "done"
    for ws in sockets:
        await ws.close()


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the server did not start")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measured(case: str, members: int, messages: int, out: Path, syscalls: bool) -> tuple[int, dict[str, int]]:
    """Instructions of one server run (and its system calls by name when asked)."""
    port = free_port()
    tool = (["strace", "-c", "-f", "-o", str(out) + ".strace"] if syscalls
            else ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no"])
    proc = subprocess.Popen([*tool, sys.executable, __file__, "serve", str(port), case],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        asyncio.run(drive(port, case, members, messages))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=300)
    if syscalls:
        calls = {}
        for line in Path(str(out) + ".strace").read_text().splitlines():
            fields = line.split()
            if len(fields) >= 5 and fields[-1].isidentifier() and fields[3].isdigit():
                calls[fields[-1]] = int(fields[3])
        return 0, calls
    totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.M)
    assert totals, "no totals in the callgrind output"
    return int(totals.group(1)), {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=64)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--syscalls", action="store_true", help="count system calls (strace -c -f) instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases.split(","):
            idle, idle_calls = measured(case, args.members, 0, Path(tmp) / f"{case}-idle", args.syscalls)
            busy, busy_calls = measured(case, args.members, args.messages, Path(tmp) / f"{case}-busy", args.syscalls)
            deliveries = args.members * args.messages
            result: dict = {"case": case, "members": args.members, "messages": args.messages, "deliveries": deliveries}
            if args.syscalls:
                result["syscalls_per_delivery"] = {
                    name: round((busy_calls.get(name, 0) - idle_calls.get(name, 0)) / deliveries, 3)
                    for name in sorted(set(busy_calls) | set(idle_calls))
                    if busy_calls.get(name, 0) - idle_calls.get(name, 0) > 0
                }
            else:
                result["instructions_per_delivery"] = round((busy - idle) / deliveries)
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
    else:
        main()
