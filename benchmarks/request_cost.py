#!/usr/bin/env python3
"""Per-request cost of a server with repeatable counters, not wall-clock time.

A busy machine makes requests/s meaningless, but the work a server does per
request is the same on a busy machine and a quiet one. This script starts one
server process (an app of benchmarks/http_bench.py's CASES), warms it up, then
sends a FIXED number of keep-alive GETs from a client pinned to another core,
and reports per request:

- ``callgrind``: instructions executed by the server process (every thread:
  tokio's and Python's, Rust and Python frames), counted by valgrind's
  callgrind with collection switched on only around the measured requests;
- ``strace``: system calls, by name, of the server (``strace -c -f`` attached
  after the warm-up);
- ``perf``: context switches, CPU migrations and system calls (all, and the
  ones a server's hand-offs are made of: reads, writes, epoll, futex), of
  every thread, counted by ``perf stat`` from the first measured request to
  the last (this VM has no hardware counters, but these events work);
- ``rss``: the server's resident set after the requests (VmRSS and VmHWM).

    .venv/bin/python benchmarks/request_cost.py --tool callgrind --cases hyperdjango --path json -n 2000
    .venv/bin/python benchmarks/request_cost.py --tool strace --cases hyperdjango,granian-rsgi -n 20000
    .venv/bin/python benchmarks/request_cost.py --tool perf --cases hyperdjango,granian-rsgi -n 20000
    .venv/bin/python benchmarks/request_cost.py --tool perf --cases hyperdjango,granian-rsgi --wrk 5 -c 64
    .venv/bin/python benchmarks/request_cost.py --tool rss --cases hyperdjango,granian-rsgi -n 200000
    DATABASE_URL=postgres://... .venv/bin/python benchmarks/request_cost.py --path fortunes \
        --cases hyperdjango,granian-rsgi -n 1000   # run.py's fortunes page (tables made here)

``--suite django`` measures benchmarks/django_bench.py's servers instead (the
Django app on ``hyper run`` ASGI/WSGI and on Granian, and the raw ASGI
hello-world), on a fresh database with the admin logged in (its cookie is sent
with every request):

    .venv/bin/python benchmarks/request_cost.py --suite django --cases hyper-asgi,granian-asgi --path db -n 300

The callgrind output file is kept (``--keep DIR``) for ``callgrind_annotate``.
Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import django_bench  # noqa: E402  (the Django servers and their database)
from perf_counts import PerfCounts  # noqa: E402
from techempower import data as techempower_data  # noqa: E402  (the world and fortune tables)
import http_bench  # noqa: E402  (CASES, Server, pinning: one definition of each server)


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> None:
    """Reads one response body: Content-Length or chunked."""
    length = re.search(rb"(?i)content-length:\s*(\d+)", head)
    if length is not None:
        await reader.readexactly(int(length.group(1)))
        return
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        await reader.readexactly(size + 2)
    await reader.readuntil(b"\r\n")  # no trailers: the blank line after the last chunk


async def _client(port: int, path: str, total: int, connections: int, headers: str = "") -> int:
    """Sends ``total`` GETs over ``connections`` keep-alive connections; returns the 200s.
    ``headers`` are extra header lines, each ending in CRLF."""
    request = f"GET /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode()
    remaining = total
    ok = 0

    async def one() -> None:
        nonlocal remaining, ok
        reader, writer = await asyncio.open_connection(http_bench.HOST, port)
        try:
            while remaining > 0:
                remaining -= 1
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                await _read_body(reader, head)
                ok += head.startswith(b"HTTP/1.1 200")
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(connections)))
    return ok


def drive(port: int, path: str, total: int, connections: int, client_pin: list[str], headers: str = "") -> None:
    """Runs the client in its own process, pinned like wrk would be."""
    code = (
        "import asyncio, sys; sys.path.insert(0, %r); import request_cost as r; "  # noqa: UP031 - %r writes Python source
        "ok = asyncio.run(r._client(%d, %r, %d, %d, %r)); sys.exit(0 if ok == %d else 1)"
        % (str(Path(__file__).resolve().parent), port, path, total, connections, headers, total)
    )
    done = subprocess.run(client_pin + [sys.executable, "-c", code])
    if done.returncode != 0:
        raise RuntimeError("some requests did not get a 200")


def drive_wrk(port: int, path: str, seconds: float, connections: int, client_pin: list[str]) -> int:
    """Loads the server with wrk (one thread) for ``seconds``; returns the requests it completed.
    Unlike ``drive``'s Python client, wrk keeps every connection busy, as in the wall-clock runs."""
    done = subprocess.run(client_pin + ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", f"http://{http_bench.HOST}:{port}/{path}"],
                          capture_output=True, text=True, check=True)
    if "Non-2xx" in done.stdout or "Socket errors" in done.stdout:
        raise RuntimeError(f"wrk saw errors:\n{done.stdout}")
    return int(re.search(r"(\d+) requests in", done.stdout).group(1))


def callgrind_total(out_file: Path) -> int:
    """The 'totals:'/'summary:' instruction count of a callgrind dump (0 while it is being written)."""
    match = re.search(r"^(?:totals|summary):\s*(\d+)", out_file.read_text(errors="replace"), re.M)
    return int(match.group(1)) if match else 0


def measure(name: str, args: argparse.Namespace, server_pin: list[str], client_pin: list[str], log_dir: Path) -> str:
    argv = args.commands[name]
    prefix: list[str] = []
    out_pattern = log_dir / f"callgrind.{name}.out"
    if args.tool == "callgrind":
        prefix = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--trace-children=yes",
                  f"--callgrind-out-file={out_pattern}.%p"]
    server = http_bench.Server(name, prefix + argv, server_pin, log_dir)
    try:
        server.wait_ready(timeout=300 if prefix else 30, path=args.ready_path)
        drive(server.port, args.path, args.warmup, args.connections, client_pin, args.headers)
        if args.tool == "callgrind":
            # Granian's worker is a child process: every process of the server's session is
            # switched, by pid (callgrind_control without one would reach every valgrind on the machine).
            pids = [str(pid) for pid in _session_pids(server.proc.pid)]
            for command in ("-i on", None, "-d", "-i off"):
                if command is None:
                    drive(server.port, args.path, args.requests, args.connections, client_pin, args.headers)
                    continue
                for pid in pids:
                    subprocess.run(["callgrind_control", *command.split(), pid], check=True, capture_output=True)
            dumps = [p for p in log_dir.glob(f"callgrind.{name}.out.*") if callgrind_total(p) > 0]
            total = sum(callgrind_total(p) for p in dumps)
            if args.keep:
                for p in dumps:
                    shutil.copy(p, Path(args.keep) / p.name)
            return f"{name:<16} /{args.path:<10} {total / args.requests:>12,.0f} instructions/request"
        if args.tool == "strace":
            pids = _session_pids(server.proc.pid)
            trace = log_dir / f"strace.{name}"
            cmd = ["strace", "-c", "-f", "-o", str(trace)] + [a for pid in pids for a in ("-p", str(pid))]
            tracer = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # strace attaches to every thread
            drive(server.port, args.path, args.requests, args.connections, client_pin, args.headers)
            tracer.send_signal(signal.SIGINT)
            tracer.wait(30)
            return f"{name:<16} /{args.path}\n" + _per_request(trace.read_text(), args.requests)
        if args.tool == "perf":
            perf = PerfCounts(_session_pids(server.proc.pid))
            perf.start()
            if args.wrk:
                requests = drive_wrk(server.port, args.path, args.wrk, args.connections, client_pin)
            else:
                drive(server.port, args.path, args.requests, args.connections, client_pin, args.headers)
                requests = args.requests
            counts = perf.stop()
            return f"{name:<16} /{args.path} ({requests:,} requests)\n" + "\n".join(
                f"    {n / requests:8.3f}  {event}" for event, n in sorted(counts.items(), key=lambda c: -c[1]))
        drive(server.port, args.path, args.requests, args.connections, client_pin, args.headers)
        rss = [_status(pid) for pid in _session_pids(server.proc.pid)]
        each = ", ".join(f"{r[0] / 1024:.1f}" for r in rss)
        kib = sum(r[0] for r in rss), sum(r[1] for r in rss)
        return (f"{name:<16} /{args.path:<10} RSS {kib[0] / 1024:.1f} MiB (processes: {each}), "
                f"peak {kib[1] / 1024:.1f} MiB")
    finally:
        server.stop(timeout=60)


def _session_pids(leader: int) -> list[int]:
    """The leader and its descendants still alive (Granian runs its worker as a child)."""
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fields = Path(f"/proc/{entry.name}/stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == leader:  # same session
                pids.append(int(entry.name))
    return pids


def _status(pid: int) -> tuple[int, int]:
    text = Path(f"/proc/{pid}/status").read_text()
    values = {k: int(v.split()[0]) for k, v in re.findall(r"^(VmRSS|VmHWM):\s*(.+)$", text, re.M)}
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def _per_request(summary: str, requests: int) -> str:
    """strace -c's table as calls per request."""
    lines = []
    for line in summary.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[-1] != "total" and parts[0][0].isdigit() and parts[3].isdigit():
            lines.append((int(parts[3]) / requests, parts[-1]))
        elif parts and parts[-1] == "total" and len(parts) >= 4:
            lines.append((int(parts[3]) / requests, "TOTAL"))
    return "\n".join(f"    {calls:8.3f}  {name}" for calls, name in sorted(lines, reverse=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tool", choices=("callgrind", "strace", "perf", "rss"), default="callgrind")
    parser.add_argument("--suite", choices=("http", "django"), default="http",
                        help="whose servers: http_bench.py's (default) or django_bench.py's")
    parser.add_argument("--cases", default="hyperdjango", help="comma-separated names from the suite's --list")
    parser.add_argument("--path", choices=tuple(dict.fromkeys((*http_bench.PATHS, "fortunes", *django_bench.DJANGO_PATHS))), default="json",
                        help="fortunes: run.py's fortunes page ($DATABASE_URL; its tables are made here)")
    parser.add_argument("-n", "--requests", type=int, default=2000, help="requests measured (2000)")
    parser.add_argument("--warmup", type=int, default=500, help="requests before measuring (500)")
    parser.add_argument("-c", "--connections", type=int, default=16, help="keep-alive connections (16)")
    parser.add_argument("--wrk", type=float, metavar="SECONDS",
                        help="--tool perf: load with wrk -t1 for SECONDS instead of -n requests (use -c 64)")
    parser.add_argument("--keep", metavar="DIR", help="copy the callgrind dumps here")
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    server_pin = ["taskset", "-c", str(cpus[-1])] if len(cpus) > 1 else []
    client_pin = ["taskset", "-c", str(cpus[0])] if len(cpus) > 1 else []
    args.headers, args.ready_path = "", f"/{args.path}"
    if args.suite == "http" and args.path == "fortunes":
        asyncio.run(techempower_data.create_tables(os.environ["DATABASE_URL"]))
    with tempfile.TemporaryDirectory(prefix="request-cost-") as tmp:
        if args.suite == "django":
            args.commands = {name: case[0] for name, case in django_bench.CASES.items()}
            args.headers = django_bench.django_environment(Path(tmp)) + "\r\n"
            args.ready_path = "/json"
        else:
            args.commands = {name: case[0] for name, case in http_bench.CASES.items()}
        for name in args.cases.split(","):
            print(measure(name, args, server_pin, client_pin, Path(tmp)), flush=True)


if __name__ == "__main__":
    main()
