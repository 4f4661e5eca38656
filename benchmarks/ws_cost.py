#!/usr/bin/env python3
"""Server CPU per WebSocket delivery: CPU seconds of the server process (all
its threads, user + system, from /proc) spent between two marks, divided by
the deliveries; the best of ``--rounds``.

Wall-clock rates need a quiet machine; CPU time per delivery is steadier on a
busy one (though not immune: caches are shared). This VM exposes no hardware
counters (``perf stat -e instructions`` is "not supported"), and callgrind's
totals for the multi-threaded server came out inconsistent, so CPU time it
is. ``--callgrind DIR`` runs the server under valgrind's callgrind instead,
collecting only between the marks (every thread: tokio's and Python's), and
reports instructions per delivery (keep the dumps in DIR for
``callgrind_annotate``). With ``--counts``, ``perf stat`` also counts (per delivery) the server's
context switches and system calls (all, and the writes among them) between the
marks: counts, unlike CPU time, do not depend on what else the machine runs.

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

    .venv/bin/python benchmarks/ws_cost.py --members 64 --messages 2000 --cases broadcast,loop
    .venv/bin/python benchmarks/ws_cost.py --members 1000 --messages 20 --rounds 1 --cases broadcast --callgrind /tmp/cg
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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from perf_counts import PerfCounts  # noqa: E402

HERE = Path(__file__).resolve().parent
CASES = ("loop", "broadcast", "layer-task", "layer-engine", "echo")
YIELD_EVERY = 20  # messages published between two yields of the publisher
BURST = 200  # messages per burst; the next burst once every member has all of them (below any send queue)


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
        text = "x" * 32
        async for request_message in ws:  # a burst: publish this many, then say "done"
            for i in range(int(request_message.text)):
                if case == "loop":
                    for member_ws in members:
                        await member_ws.send_text(text)
                elif case == "broadcast":
                    broadcast(members, text)
                else:
                    await channel.publish(text)
                if i % YIELD_EVERY == YIELD_EVERY - 1:
                    await asyncio.sleep(0)
            await ws.send_text("done")

    @app.websocket("/ws/echo")
    async def echo(ws, request):
        async for message in ws:
            await ws.send_text(message.text)

    app.run(host="127.0.0.1", port=port, workers=1, backlog=4096)


async def drive(port: int, case: str, members: int, messages: int, mark) -> None:
    """Runs one case; ``mark()`` is called once everyone is connected and once all is received."""
    from websockets.asyncio.client import connect

    base = f"ws://127.0.0.1:{port}"
    if case == "echo":
        sockets = [await connect(base + "/ws/echo", max_queue=None) for _ in range(members)]

        async def one(ws) -> None:
            for _ in range(messages):
                await ws.send("x" * 32)
                await ws.recv()
        mark()
        await asyncio.gather(*(one(ws) for ws in sockets))
        mark()
    else:
        sockets = [await connect(base + "/ws/member", max_queue=None) for _ in range(members)]
        async with connect(base + "/ws/publish") as publisher:
            await asyncio.sleep(0.5)  # every member registered

            async def read_all(ws, count: int) -> None:
                for _ in range(count):
                    await ws.recv()
            mark()
            for start in range(0, messages, BURST):
                burst = min(BURST, messages - start)
                await publisher.send(str(burst))
                await asyncio.gather(*(read_all(ws, burst) for ws in sockets))
                assert await publisher.recv() == "done"
            mark()
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


def process_cpu(pid: int) -> float:
    """user + system CPU seconds of one process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def callgrind_total(out_file: Path) -> int:
    """The 'totals:'/'summary:' instruction count of a callgrind dump (0 if none)."""
    match = re.search(r"^(?:totals|summary):\s*(\d+)", out_file.read_text(errors="replace"), re.M)
    return int(match.group(1)) if match else 0


def measured(case: str, members: int, messages: int, counts: bool = False,
             callgrind: Path | None = None) -> tuple[float, dict[str, int]]:
    """Server CPU seconds between the marks (and the perf counts, if asked);
    with ``callgrind``, the instructions between the marks instead of seconds."""
    port = free_port()
    prefix: list[str] = []
    if callgrind is not None:
        prefix = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                  f"--callgrind-out-file={callgrind}/callgrind.{case}.%p"]
    proc = subprocess.Popen(prefix + [sys.executable, __file__, "serve", str(port), case],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marks: list[float] = []
    perf = None
    counted: dict[str, int] = {}

    def switch(command: str) -> None:
        subprocess.run(["callgrind_control", *command.split(), str(proc.pid)], check=True, capture_output=True)

    def mark() -> None:
        nonlocal counted
        if callgrind is not None:
            switch("-i on" if not marks else "-d")
            if marks:
                switch("-i off")
                dump = max(callgrind.glob(f"callgrind.{case}.{proc.pid}*"), key=lambda p: p.stat().st_mtime)
                marks.append(float(callgrind_total(dump)))
                return
            marks.append(0.0)
            return
        if perf is not None and not marks:
            perf.start()
        marks.append(process_cpu(proc.pid))
        if perf is not None and len(marks) == 2:
            counted = perf.stop()

    try:
        wait_port(port, proc)
        if counts:
            perf = PerfCounts(proc.pid)
        asyncio.run(drive(port, case, members, messages, mark))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    return marks[1] - marks[0], counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=64)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--counts", action="store_true", help="also count context switches and system calls (perf stat)")
    parser.add_argument("--callgrind", metavar="DIR", type=Path,
                        help="count the server's instructions (callgrind, every thread) instead of CPU time; dumps go to DIR")
    args = parser.parse_args()
    if args.callgrind is not None:
        args.callgrind.mkdir(parents=True, exist_ok=True)
    for case in args.cases.split(","):
        deliveries = args.members * args.messages
        result: dict = {"case": case, "members": args.members, "messages": args.messages, "deliveries": deliveries}
        runs = [measured(case, args.members, args.messages, args.counts, args.callgrind) for _ in range(args.rounds)]
        if args.callgrind is not None:
            result["server_instructions_per_delivery"] = [round(n / deliveries) for n, _ in runs]
        else:
            result["server_cpu_us_per_delivery"] = [round(cpu * 1e6 / deliveries, 2) for cpu, _ in runs]
        if args.counts:
            result["per_delivery"] = [{name: round(n / deliveries, 3) for name, n in counted.items()} for _, counted in runs]
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
    else:
        main()
