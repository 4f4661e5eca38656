#!/usr/bin/env python3
"""WebSocket throughput of hyperdjango next to the `websockets` library and FastAPI/uvicorn.

Two workloads, each server in turn as ONE process pinned to one core, the load
client (benchmarks/wsload, a single-threaded Rust client on tokio-tungstenite)
pinned to the other:

- echo: 64 connections each send a 32-byte text message and wait for its echo;
  round trips per second;
- fanout: 1,000 subscribers and one publisher; every published message goes to
  every subscriber; deliveries per second (the publisher stays at most 8
  broadcasts ahead of the slowest delivery, so nothing queues without bound).

    .venv/bin/python benchmarks/ws_bench.py                      # every case, 10 s each
    .venv/bin/python benchmarks/ws_bench.py -d 5 --cases hyperdjango,websockets
    .venv/bin/python benchmarks/ws_bench.py --list

Process handling, CPU pinning and the machine summary come from http_bench.py.
See benchmarks/README.md for the method. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import shutil
import tempfile
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_bench import HERE, HOST, PY, Server, cpu_pins, machine_busy, pinning_arguments, stop_all, wait_for_quiet  # noqa: E402
from perf_counts import PerfCounts  # noqa: E402

WSLOAD_DIR = HERE / "wsload"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "hyperdjango" / "target")).parent / "wsload-target"
BASELINE = "hyperdjango"
WORKLOADS = ("echo", "fanout")

CASES: dict[str, tuple[list[str], str]] = {
    "hyperdjango": ([PY, "ws_hyperdjango_app.py", "{port}"],
                    "hyperdjango app.run(workers=1); fan-out by a loop over the connections"),
    "hyperdjango-layer": ([PY, "ws_hyperdjango_app.py", "{port}", "--layer"],
                          "the same, fan-out through an InMemoryChannelLayer channel"),
    "hyperdjango-broadcast": ([PY, "ws_hyperdjango_app.py", "{port}", "--broadcast"],
                              "the same, fan-out with hyperdjango.websockets.broadcast (one engine call)"),
    "websockets": ([PY, "ws_websockets_app.py", "{port}"],
                   "the websockets library's asyncio server on uvloop; fan-out with websockets.broadcast"),
    "fastapi-uvicorn": ([PY, "-m", "uvicorn", "ws_fastapi_app:app", "--host", HOST, "--port", "{port}",
                         "--workers", "1", "--loop", "uvloop", "--http", "httptools", "--ws", "websockets",
                         "--backlog", "4096", "--no-access-log", "--log-level", "warning"],
                        "FastAPI on uvicorn, 1 worker, uvloop, websockets protocol; fan-out by a loop of awaits"),
}


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def build_wsload() -> Path:
    """Builds the load client (release) once; its own target dir, outside the workspace's."""
    subprocess.run(["cargo", "build", "--release", "--quiet", "--manifest-path", str(WSLOAD_DIR / "Cargo.toml"),
                    "--target-dir", str(TARGET)], check=True)
    return TARGET / "release" / "wsload"


def process_cpu(pid: int) -> float:
    """user+system CPU seconds of one process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(server: Server, wsload: Path, pin: list[str], workload: str, args: argparse.Namespace) -> dict:
    """Runs wsload; CPU times are sampled at its `start` and `stop` marks, so
    connecting and warming up are not counted."""
    if workload == "echo":
        cmd = [str(wsload), "echo", f"ws://{HOST}:{server.port}/ws/echo", str(args.connections), str(args.duration), str(args.size)]
    else:
        cmd = [str(wsload), "fanout", f"ws://{HOST}:{server.port}/ws/fanout", str(args.subscribers), str(args.duration),
               str(args.size), str(args.window)]
    # taskset execs wsload: the pid is wsload's.
    perf = PerfCounts(server.proc.pid) if args.counts else None
    counts: dict[str, int] = {}
    load = subprocess.Popen(pin + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples, result = {}, None
    try:
        for line in load.stdout:
            if line.strip() in ("start", "stop"):
                if perf is not None and line.strip() == "start":
                    perf.start()
                samples[line.strip()] = (machine_busy(), server.cpu_seconds(), process_cpu(load.pid), time.monotonic())
                if perf is not None and line.strip() == "stop":
                    counts = perf.stop()
            elif line.startswith("{"):
                result = json.loads(line)
        load.wait(args.duration + 120)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    if load.returncode != 0 or set(samples) != {"start", "stop"} or result is None:
        raise RuntimeError(f"wsload {workload} failed ({load.returncode}): {load.stderr.read()[-2000:]}")
    ((busy0, steal0), server0, client0, t0), ((busy1, steal1), server1, client1, t1) = samples["start"], samples["stop"]
    wall = t1 - t0
    server_cpu, client_cpu = (server1 - server0) / wall, (client1 - client0) / wall
    result.update(server_cpu=server_cpu, client_cpu=client_cpu, steal=(steal1 - steal0) / wall,
                  other_cpu=max(0.0, (busy1 - busy0) / wall - server_cpu - client_cpu))
    result["server_us"] = server_cpu * wall / result["messages"] * 1e6 if result["messages"] else 0.0
    if counts and result["messages"]:
        result["per_message"] = {name: round(n / result["messages"], 3) for name, n in counts.items()}
    return result


def report(cases: list[str], workloads: list[str], results: dict[tuple[str, str], dict]) -> list[str]:
    head = f"{'case':<18} {'workload':<8} {'msg/s':>10} {'p50 rtt':>9} {'p99 rtt':>9} {'server CPU':>10} {'µs CPU/msg':>10} {'client CPU':>10} {'other':>6} {'steal':>6}"
    lines = [head, "-" * len(head)]
    for case in cases:
        for workload in workloads:
            r = results.get((case, workload))
            if r is None:
                lines.append(f"{case:<18} {workload:<8} {'failed':>10}")
                continue
            rtt = (f"{r['p50_us'] / 1000:>7.2f}ms {r['p99_us'] / 1000:>7.2f}ms" if "p50_us" in r else f"{'-':>9} {'-':>9}")
            lines.append(f"{case:<18} {workload:<8} {r['per_second']:>10,.0f} {rtt} {r['server_cpu']:>10.0%} "
                         f"{r['server_us']:>10.2f} {r['client_cpu']:>10.0%} {r['other_cpu']:>6.0%} {r['steal']:>6.0%}"
                         + ("" if r.get("complete", True) else "  (incomplete: deliveries missing)"))
    lines += ["", "msg/s: echo round trips, or fan-out deliveries (one message to one subscriber). CPU columns:",
              "share of one core during the measured part (not connecting, not warming up); 'µs CPU/msg' is the",
              "server's CPU per message; 'other' is the rest of the machine (other processes, softirq). A client",
              "well under 100 % while the server is near 100 % means the server is the limit.",
              "", f"Ratios (msg/s of {BASELINE} / msg/s of the case, same run; above 1 = {BASELINE} faster):"]
    for case in cases:
        for workload in workloads:
            base, other = results.get((BASELINE, workload)), results.get((case, workload))
            if case != BASELINE and base and other and other["per_second"]:
                lines.append(f"  {workload:<7} vs {case}: {base['per_second'] / other['per_second']:.2f}x")
    lines += ["", f"Server CPU per message of the case / of {BASELINE} (above 1 = {BASELINE} cheaper; less",
              "sensitive than msg/s to other load on the machine):"]
    for case in cases:
        for workload in workloads:
            base, other = results.get((BASELINE, workload)), results.get((case, workload))
            if case != BASELINE and base and other and base["server_us"]:
                lines.append(f"  {workload:<7} vs {case}: {other['server_us'] / base['server_us']:.2f}x")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", "--duration", type=float, default=10, help="seconds measured per workload (10)")
    parser.add_argument("-c", "--connections", type=int, default=64, help="echo connections (64)")
    parser.add_argument("--subscribers", type=int, default=1000, help="fan-out subscribers (1000)")
    parser.add_argument("--window", type=int, default=8, help="fan-out broadcasts in flight at most (8)")
    parser.add_argument("--size", type=int, default=32, help="message bytes (32)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, from --list (all)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="echo,fanout (both)")
    parser.add_argument("--counts", action="store_true",
                        help="count the server's system calls and context switches per message (perf stat)")
    pinning_arguments(parser, client="wsload", step="workload")
    args = parser.parse_args()
    if args.list:
        for name, (_, what) in CASES.items():
            print(f"{name:<18} {what}")
        return 0
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    if unknown := [c for c in cases if c not in CASES] + [w for w in workloads if w not in WORKLOADS]:
        parser.error(f"unknown case(s) or workload(s): {', '.join(unknown)}")

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    wsload = build_wsload()
    server_pin, client_pin = cpu_pins(args)
    print(f"date: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; nproc={os.cpu_count()}; python {sys.version.split()[0]}")
    print("versions: " + ", ".join(f"{d} {version(d)}" for d in ("hyperdjango", "websockets", "fastapi", "uvicorn", "uvloop"))
          + ", hyperdjango commit " + subprocess.run(["git", "-C", str(HERE), "describe", "--always", "--dirty"],
                                                      capture_output=True, text=True).stdout.strip())
    print(f"pinning: server {' '.join(server_pin) or 'not pinned'}; wsload {' '.join(client_pin) or 'not pinned'}")
    print(f"echo: {args.connections} connections, {args.size}-byte text; fanout: {args.subscribers} subscribers, "
          f"window {args.window}; {args.duration:g} s each after a 1 s warm-up\n", flush=True)
    results: dict[tuple[str, str], dict] = {}
    log_dir = Path(tempfile.mkdtemp(prefix="ws-bench-"))
    try:
        for case in cases:
            argv, what = CASES[case]
            print(f"{case}: {what}", flush=True)
            for workload in workloads:
                # A fresh server per workload: the echo run's leftovers do not weigh on the fan-out.
                if args.wait_idle > 0:
                    wait_for_quiet(args.wait_idle)
                server = Server(case, argv, server_pin, log_dir)
                try:
                    server.wait_ready(path="/ready")
                    r = results[case, workload] = measure(server, wsload, client_pin, workload, args)
                    print(f"  {workload:<7} {r['per_second']:>10,.0f} msg/s  server CPU {r['server_cpu']:.0%} "
                          f"({r['server_us']:.2f} µs/msg), client {r['client_cpu']:.0%}, other {r['other_cpu']:.0%}", flush=True)
                    if "per_message" in r:
                        print(f"          server, per message: {r['per_message']}", flush=True)
                except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
                    print(f"  ! {case} {workload} failed: {exc}\n{server.log_tail()}", flush=True)
                finally:
                    server.stop()
    except KeyboardInterrupt:
        print("\ninterrupted; stopping servers", flush=True)
        return 130
    finally:
        stop_all()
        shutil.rmtree(log_dir, ignore_errors=True)
    print()
    print("\n".join(report(cases, workloads, results)))
    return 0 if len(results) == len(cases) * len(workloads) else 1


if __name__ == "__main__":
    sys.exit(main())
