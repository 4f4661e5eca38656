#!/usr/bin/env python3
"""Memory of many idle keep-alive connections on one worker, read from ``/proc/PID/smaps``.

Starts ``tests/stress/apps/idle_app.py`` (one worker, 60 s keep-alive), opens ``-c``
connections in waves of 500, sends one ``GET /pid`` on each, then leaves them idle (the
engine parks them after 1 s) and samples the server's RSS every 0.5 s for ``--settle``
seconds. At the end it prints where the resident memory sits, from smaps:

- ``heap``: the main glibc arena (``[heap]``);
- ``arenas``: anonymous mappings inside 64 MiB-aligned reservations (glibc's per-thread
  arena heaps, used by the tokio threads' allocations under the system allocator);
- ``other anon``: every other anonymous mapping (thread stacks, mmap-ed chunks, Python's
  obmalloc arenas, another allocator's segments);
- ``files``: mapped files (the interpreter, the extension, libraries).

    .venv/bin/python benchmarks/idle_memory.py -c 10000
    MALLOC_ARENA_MAX=2 .venv/bin/python benchmarks/idle_memory.py -c 10000   # the env reaches the server

Traffic goes to 127.0.0.1 only; the client stops after its bounded waits.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support.stress import rss_mb, server_process  # noqa: E402  (the tests' bounded server start and stop)

APP = ROOT / "tests" / "stress" / "apps" / "idle_app.py"
ARENA_ALIGN = 64 << 20


def smaps_breakdown(pid: int) -> dict[str, int]:
    """Resident KiB by kind of mapping (see the module docs)."""
    totals = {"heap": 0, "arenas": 0, "other anon": 0, "files": 0}
    kind = "files"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = re.match(r"^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$", line)
        if head:
            start, inode, name = int(head.group(1), 16), int(head.group(3)), head.group(4)
            if name == "[heap]":
                kind = "heap"
            elif inode != 0 or name.startswith("/"):
                kind = "files"
            elif name == "" and start % ARENA_ALIGN == 0:
                kind = "arenas"
            else:
                kind = "other anon"
        elif line.startswith("Rss:"):
            totals[kind] += int(line.split()[1])
    return totals


async def get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length:\s*(\d+)", head)
    await reader.readexactly(int(length.group(1)) if length else 0)
    return head.startswith(b"HTTP/1.1 200")


async def run(port: int, pid: int, count: int, settle: float, rounds: int, probes: list[str]) -> None:
    start_rss = rss_mb(pid)
    print(f"before: RSS {start_rss:.1f} MB  {fmt(smaps_breakdown(pid))}")
    connections = []
    for start in range(0, count, 500):
        connections += await asyncio.gather(
            *(asyncio.open_connection("127.0.0.1", port) for _ in range(start, min(count, start + 500))))
    for round_no in range(1, rounds + 1):
        ok = await asyncio.gather(*(get(r, w) for r, w in connections))
        assert all(ok), "some requests did not get a 200"
        print(f"round {round_no}: {count} requests answered, RSS {rss_mb(pid):.1f} MB")
        samples = []
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            samples.append(rss_mb(pid))
        idle = samples[-1]
        print(f"  idle {settle:.0f} s: RSS min {min(samples):.1f} / last {idle:.1f} MB, "
              f"{(idle - start_rss) * 1024 / count:.2f} KiB per connection  {fmt(smaps_breakdown(pid))}")
        for path in probes:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            body = (await reader.read()).split(b"\r\n\r\n", 1)[-1].decode()
            print(f"  {path}: {body}")
            writer.close()
            print(f"  after {path}: RSS {rss_mb(pid):.1f} MB  {fmt(smaps_breakdown(pid))}")
    for _, writer in connections:
        writer.close()


def fmt(breakdown: dict[str, int]) -> str:
    return "(" + ", ".join(f"{k} {v / 1024:.1f}" for k, v in breakdown.items()) + " MB)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--connections", type=int, default=10_000)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds idle before reading (10)")
    parser.add_argument("--rounds", type=int, default=2, help="request rounds, each followed by the idle wait (2)")
    parser.add_argument("--app", type=Path, default=APP, help="the server script, run as APP PORT (the idle app)")
    parser.add_argument("--probe", action="append", default=[], metavar="PATH",
                        help="GET PATH after each idle wait and print its body (an app's diagnostics)")
    args = parser.parse_args()
    with server_process(lambda port: [sys.executable, str(args.app), str(port)], ROOT) as (server, port):
        time.sleep(0.5)
        asyncio.run(run(port, server.pid, args.connections, args.settle, args.rounds, args.probe))


if __name__ == "__main__":
    main()
