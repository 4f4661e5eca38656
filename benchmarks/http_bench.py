#!/usr/bin/env python3
"""HTTP throughput of hyperdjango next to FastAPI/uvicorn and Granian, in one run.

Each server runs in turn as ONE worker process pinned to one core (taskset),
with wrk pinned to another core; both endpoints (/json, /plaintext) are warmed
up, then measured with wrk; the server is stopped before the next starts.
Prints requests/s per case and endpoint and the ratio of each to hyperdjango.

    .venv/bin/python benchmarks/http_bench.py                    # every case, 10 s each
    .venv/bin/python benchmarks/http_bench.py -d 5 --cases hyperdjango,granian-asgi
    .venv/bin/python benchmarks/http_bench.py --list

See benchmarks/README.md for the method and how to read the numbers.
Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
APPS = HERE / "apps"
PY = sys.executable
HOST = "127.0.0.1"
PATHS = ("json", "plaintext")
BASELINE = "hyperdjango"

EXPECTED = {
    "json": ("application/json", {"message": "Hello, World!"}),
    "plaintext": ("text/plain", "Hello, World!"),
}


def _granian(interface: str, target: str) -> list[str]:
    # One worker, one tokio runtime thread (Granian's default; more made its ASGI
    # path slower on one core), uvloop, HTTP/1 only like the others, no access log.
    return [PY, "-m", "granian", "--interface", interface, "--host", HOST, "--port", "{port}",
            "--workers", "1", "--runtime-threads", "1", "--loop", "uvloop", "--http", "1",
            "--no-ws", "--log-level", "warning", target]


#: name -> (command, what it is). "{port}" is replaced by a free port; cwd is apps/.
CASES: dict[str, tuple[list[str], str]] = {
    "hyperdjango": (
        [PY, "hyperdjango_app.py", "{port}"],
        "hyperdjango app.run(workers=1): 1 tokio I/O thread + uvloop",
    ),
    "fastapi-uvicorn": (
        [PY, "-m", "uvicorn", "fastapi_app:app", "--host", HOST, "--port", "{port}", "--workers", "1",
         "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
        "FastAPI on uvicorn, 1 worker, uvloop + httptools",
    ),
    "granian-asgi": (_granian("asgi", "granian_asgi_app:app"), "raw ASGI app (no framework) on Granian"),
    "fastapi-granian": (_granian("asgi", "fastapi_app:app"), "FastAPI on Granian (ASGI)"),
    "granian-rsgi": (_granian("rsgi", "granian_rsgi_app:app"), "raw RSGI app on Granian (reference ceiling)"),
}


# -- processes -------------------------------------------------------------------------


class Server:
    """One server process in its own session, so that it and its children can be stopped together."""

    def __init__(self, name: str, argv: list[str], pin: list[str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.argv = pin + [a.replace("{port}", str(self.port)) for a in argv]
        self.log_path = log_dir / f"{name}.log"
        self.log = open(self.log_path, "wb")
        # A new session: the terminal's Ctrl-C does not reach it, we stop it ourselves.
        self.proc = subprocess.Popen(self.argv, cwd=APPS, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        RUNNING.append(self)

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}/{path}"

    def log_tail(self, lines: int = 20) -> str:
        self.log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join("    | " + line for line in text[-lines:])

    def wait_ready(self, timeout: float = 30.0, path: str = "/json") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} before answering:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _, _ = fetch(self.port, path)
                if status == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """user+system CPU time of every live process of the server's session."""
        total = 0
        tick = os.sysconf("SC_CLK_TCK")
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            # After "pid (comm)": state ppid pgrp session ... utime(14) stime(15), 1-based from state=3.
            if int(fields[3]) == self.proc.pid:
                total += int(fields[11]) + int(fields[12])
        return total / tick

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (graceful), then SIGKILL for the whole session if anything is left."""
        pid = self.proc.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            print(f"  ! {self.name} did not stop within {timeout:.0f} s; killing it", flush=True)
        # Children (Granian's worker) may outlive the leader briefly; none may survive.
        deadline = time.monotonic() + 3.0
        while True:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        self.log.close()
        if self in RUNNING:
            RUNNING.remove(self)


RUNNING: list[Server] = []


def stop_all() -> None:
    for server in list(RUNNING):
        try:
            server.stop()
        except Exception as exc:  # keep stopping the others
            print(f"  ! could not stop {server.name}: {exc}", file=sys.stderr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def fetch(port: int, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("content-type", ""), response.read()
    finally:
        conn.close()


def check_answers(server: Server) -> None:
    """Every case must answer the same thing, or the comparison means nothing."""
    for path, (media_type, expected) in EXPECTED.items():
        status, content_type, body = fetch(server.port, "/" + path)
        value = json.loads(body) if path == "json" else body.decode()
        if status != 200 or not content_type.startswith(media_type) or value != expected:
            raise RuntimeError(f"{server.name} /{path}: {status} {content_type!r} {body[:80]!r}")


# -- wrk -------------------------------------------------------------------------------


@dataclass
class Result:
    rps: float
    requests: int = 0
    latency_avg_ms: float = 0.0
    latency_p99_ms: float = 0.0
    errors: int = 0
    server_cpu: float = 0.0  # share of one core used by the server, 1.0 = 100 %
    client_cpu: float = 0.0  # same for wrk
    other_cpu: float = 0.0  # cores busy with anything else (other processes, softirq): noise
    steal: float = 0.0  # cores' worth of time the hypervisor took away
    server_us: float = 0.0  # server CPU time per request, µs: steadier than req/s on a busy machine

    @property
    def disturbance(self) -> float:
        """CPU taken by others: other processes and the hypervisor (steal)."""
        return self.other_cpu + self.steal


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(out: str) -> Result:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if not rps:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{out}")
    result = Result(float(rps.group(1)))
    if m := re.search(r"^\s*(\d+) requests in", out, re.M):
        result.requests = int(m.group(1))
    if m := re.search(r"^\s+Latency\s+(\S+)", out, re.M):
        result.latency_avg_ms = _ms(m.group(1))
    if m := re.search(r"^\s+99%\s+(\S+)", out, re.M):
        result.latency_p99_ms = _ms(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        result.errors += sum(map(int, m.groups()))
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        result.errors += int(m.group(1))
    return result


def run_wrk(url: str, args: argparse.Namespace, pin: list[str], duration: float) -> tuple[str, float]:
    """wrk's output and its CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # args.script: a wrk Lua script (api_bench.py's POST with a body); none for plain GETs.
    script = ["-s", args.script] if getattr(args, "script", None) else []
    cmd = pin + ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration}s",
                 "--timeout", "5s", "--latency", *script, url]
    for header in getattr(args, "headers", ()):  # django_bench.py: the admin's session cookie
        cmd[-1:-1] = ["-H", header]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done.stdout, cpu


def machine_busy() -> tuple[float, float]:
    """(busy, steal) seconds summed over all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def wait_for_quiet(limit: float, threshold: float = 0.2) -> None:
    """Waits (up to ``limit`` s) until the machine is idle: under ``threshold`` cores busy for 1 s."""
    deadline = time.monotonic() + limit
    while True:
        busy0, t0 = machine_busy()[0], time.monotonic()
        time.sleep(1.0)
        load = (machine_busy()[0] - busy0) / (time.monotonic() - t0)
        if load < threshold:
            return
        if time.monotonic() > deadline:
            print(f"  ! machine still busy ({load:.0%} of a core used by others); measuring anyway", flush=True)
            return
        print(f"  (machine busy: {load:.0%} of a core used by others; waiting)", flush=True)
        time.sleep(4.0)


def measure(server: Server, path: str, args: argparse.Namespace, client_pin: list[str]) -> Result:
    url = server.url(path)
    if args.wait_idle > 0:
        wait_for_quiet(args.wait_idle)
    if args.warmup > 0:
        run_wrk(url, args, client_pin, args.warmup)
    (busy0, steal0), cpu0, t0 = machine_busy(), server.cpu_seconds(), time.monotonic()
    out, client_cpu = run_wrk(url, args, client_pin, args.duration)
    wall = time.monotonic() - t0
    busy1, steal1 = machine_busy()
    result = parse_wrk(out)
    result.server_cpu = (server.cpu_seconds() - cpu0) / wall
    result.client_cpu = client_cpu / wall
    result.other_cpu = max(0.0, (busy1 - busy0) / wall - result.server_cpu - result.client_cpu)
    result.steal = (steal1 - steal0) / wall
    if result.requests:
        result.server_us = result.server_cpu * wall / result.requests * 1e6
    if args.verbose:
        print(out)
    return result


def measure_clean(server: Server, path: str, args: argparse.Namespace, client_pin: list[str]) -> Result:
    """``measure``, again (up to ``--retries`` times) while other load disturbed it; the least disturbed run."""
    runs = []
    for attempt in range(args.retries + 1):
        runs.append(measure(server, path, args, client_pin))
        if runs[-1].disturbance <= args.max_other:
            break
        if attempt < args.retries:
            print(f"  (/{path}: {runs[-1].rps:,.0f} req/s but other CPU + steal {runs[-1].disturbance:.0%}: "
                  "disturbed, measuring again)", flush=True)
    return min(runs, key=lambda r: r.disturbance)


# -- report ----------------------------------------------------------------------------


def machine_lines(args: argparse.Namespace, pins: tuple[list[str], list[str]]) -> list[str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "-"

    commit = subprocess.run(["git", "-C", str(HERE), "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip() or "?"
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    server_pin, client_pin = pins
    return [
        f"date:      {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"machine:   nproc={os.cpu_count()}, CPU: {model}, {platform.system()} {platform.release()}",
        f"python:    {platform.python_implementation()} {platform.python_version()}",
        "versions:  " + ", ".join(f"{d} {version(d)}" for d in
                                  ("hyperdjango", "fastapi", "starlette", "uvicorn", "granian", "uvloop", "httptools", "orjson"))
        + f", hyperdjango commit {commit}",
        f"load:      {wrk_version.strip()}; -t {args.threads} -c {args.connections}, warm-up {args.warmup:g} s, "
        f"measured {args.duration:g} s per endpoint, repeat {args.repeat} ({args.pick} shown), "
        f"retries {args.retries} when other CPU + steal > {args.max_other:.0%}",
        f"pinning:   server {' '.join(server_pin) or 'not pinned'}; wrk {' '.join(client_pin) or 'not pinned'}",
    ]


def report(cases: list[str], results: dict[tuple[str, str], list[Result]], args: argparse.Namespace) -> list[str]:
    lines = []
    head = f"{'case':<17} {'endpoint':<10} {'req/s':>9} {'avg lat':>9} {'p99 lat':>9} {'errors':>6} {'server CPU':>10} {'µs CPU/req':>10} {'wrk CPU':>8} {'other CPU':>9} {'steal':>6}"
    lines += [head, "-" * len(head)]
    shown: dict[tuple[str, str], Result] = {}
    for case in cases:
        for path in PATHS:
            runs = results.get((case, path))
            if not runs:
                lines.append(f"{case:<17} {path:<10} {'failed':>9}")
                continue
            ordered = sorted(runs, key=lambda r: r.rps)
            best = ordered[-1] if args.pick == "best" else ordered[len(ordered) // 2]
            shown[case, path] = best
            lines.append(
                f"{case:<17} {path:<10} {best.rps:>9,.0f} {best.latency_avg_ms:>7.2f}ms {best.latency_p99_ms:>7.2f}ms "
                f"{sum(r.errors for r in runs):>6} {best.server_cpu:>10.0%} {best.server_us:>10.1f} {best.client_cpu:>8.0%} {best.other_cpu:>9.0%} {best.steal:>6.0%}{'!' if best.disturbance > args.max_other else ''}"
            )
            if len(runs) > 1:
                spread = ", ".join(f"{r.rps:,.0f}" for r in runs)
                lines.append(f"{'':<17} {'':<10} runs: {spread} ({args.pick} shown)")
    lines += ["", "CPU columns: share of one core during the measurement; 'µs CPU/req' is the server's CPU time",
              "(all its threads, user+system) per request. 'other' is everything else on the machine (other",
              "processes, softirq); 'steal' is time the hypervisor gave to other VMs. Together much above",
              "~10-20 % means the run was disturbed ('!': above --max-other even after the retries).",
              "", "Ratios (req/s of the case / req/s of hyperdjango, same run):"]
    for case in cases:
        if case == BASELINE:
            continue
        for path in PATHS:
            base, other = shown.get((BASELINE, path)), shown.get((case, path))
            if base and other:
                lines.append(f"  {case} {path}: {other.rps / base.rps:.2f}x of hyperdjango")
    lines += ["", "Requests per CPU-second relative to hyperdjango (hyperdjango's µs CPU/req / the case's;",
              "less sensitive to other load than req/s):"]
    for case in cases:
        if case == BASELINE:
            continue
        for path in PATHS:
            base, other = shown.get((BASELINE, path)), shown.get((case, path))
            if base and other and base.server_us and other.server_us:
                lines.append(f"  {case} {path}: {base.server_us / other.server_us:.2f}x of hyperdjango")
    return lines


# -- main ------------------------------------------------------------------------------


def pinning_arguments(parser: argparse.ArgumentParser, client: str, step: str) -> None:
    """--server-cpus, --client-cpus, --no-pin, --wait-idle and --list, shared with ws_bench.py."""
    parser.add_argument("--server-cpus", help="taskset CPU list for the server (default: 2nd usable CPU)")
    parser.add_argument("--client-cpus", help=f"taskset CPU list for {client} (default: 1st usable CPU)")
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    parser.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                        help=f"before each {step}, wait up to SECONDS for other processes to go quiet (0: don't)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")


def chosen_cases(parser: argparse.ArgumentParser, names: str, known: dict) -> list[str]:
    """The comma-separated ``--cases``; a parser error for a name not in ``known``."""
    cases = [c.strip() for c in names.split(",") if c.strip()]
    unknown = [c for c in cases if c not in known]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; see --list")
    return cases


def cpu_pins(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    if args.no_pin:
        return [], []
    if not shutil.which("taskset"):
        print("note: taskset not found (util-linux); running unpinned", flush=True)
        return [], []
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        print("note: fewer than 2 usable CPUs; running unpinned (server and wrk share the CPU)", flush=True)
        return [], []
    server = args.server_cpus or str(allowed[1])
    client = args.client_cpus or str(allowed[0])
    return ["taskset", "-c", server], ["taskset", "-c", client]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", "--duration", type=int, default=10, help="seconds measured per endpoint (10)")
    parser.add_argument("-w", "--warmup", type=int, default=2, help="seconds of warm-up per endpoint, discarded (2)")
    parser.add_argument("-c", "--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("-t", "--threads", type=int, default=1, help="wrk threads (1: wrk has one core)")
    parser.add_argument("-r", "--repeat", type=int, default=1, help="rounds over all cases (1)")
    parser.add_argument("--max-other", type=float, default=0.25, metavar="SHARE",
                        help="a measurement with more CPU used by other processes and stolen by the hypervisor "
                             "(share of a core) is disturbed (0.25)")
    parser.add_argument("--retries", type=int, default=2,
                        help="measure a disturbed endpoint again up to this many times; keep the least disturbed (2)")
    parser.add_argument("--pick", choices=("median", "best"), default="median",
                        help="with -r: which run of each case is shown and compared (median; 'best' on a "
                             "shared machine, where other load only ever slows a run down)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, from --list (all)")
    pinning_arguments(parser, client="wrk", step="endpoint")
    parser.add_argument("-v", "--verbose", action="store_true", help="print wrk's full output")
    args = parser.parse_args()

    if args.list:
        for name, (_, what) in CASES.items():
            print(f"{name:<17} {what}")
        return 0
    cases = chosen_cases(parser, args.cases, CASES)
    if not shutil.which("wrk"):
        print("wrk (the load generator) is not installed.\n"
              "  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y wrk\n"
              "  macOS:         brew install wrk\n"
              "  or build it:   https://github.com/wg/wrk", file=sys.stderr)
        return 2

    # SIGTERM/SIGHUP end the run like Ctrl-C does: through the finally below.
    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    pins = cpu_pins(args)
    server_pin, client_pin = pins
    for line in machine_lines(args, pins):
        print(line)
    print()
    results: dict[tuple[str, str], list[Result]] = {}
    log_dir = Path(tempfile.mkdtemp(prefix="http-bench-"))
    try:
        for round_ in range(args.repeat):
            for case in cases:
                argv, what = CASES[case]
                label = f"[{round_ + 1}/{args.repeat}] " if args.repeat > 1 else ""
                print(f"{label}{case}: {what}", flush=True)
                server = Server(case, argv, server_pin, log_dir)
                try:
                    server.wait_ready()
                    check_answers(server)
                    for path in PATHS:
                        result = measure_clean(server, path, args, client_pin)
                        results.setdefault((case, path), []).append(result)
                        print(f"  /{path:<10} {result.rps:>10,.0f} req/s  p99 {result.latency_p99_ms:.2f} ms  "
                              f"errors {result.errors}  CPU: server {result.server_cpu:.0%} ({result.server_us:.1f} µs/req), wrk {result.client_cpu:.0%}, "
                              f"other {result.other_cpu:.0%}, steal {result.steal:.0%}", flush=True)
                except (RuntimeError, OSError, http.client.HTTPException, subprocess.TimeoutExpired) as exc:
                    print(f"  ! {case} failed: {exc}", flush=True)
                finally:
                    server.stop()
    except KeyboardInterrupt:
        print("\ninterrupted; stopping servers", flush=True)
        return 130
    finally:
        # A second Ctrl-C must not leave a server behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all()
        shutil.rmtree(log_dir, ignore_errors=True)
    print()
    for line in report(cases, results, args):
        print(line)
    return 0 if all(results.get((c, p)) for c in cases for p in PATHS) else 1


if __name__ == "__main__":
    sys.exit(main())
