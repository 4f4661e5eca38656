#!/usr/bin/env python3
"""Typed-API throughput: a POST whose nested JSON body (10 fields, a list of 20 items) is
decoded and validated into declared types, answered with a response model.

Cases, each one worker process pinned to one core, wrk on another (as http_bench.py):
hyperdjango (msgspec Structs, response_model=), FastAPI (pydantic v2) on uvicorn and on
Granian, and a hand-written msgspec handler on Granian's RSGI (no framework). Every case
must answer the same receipt before it is measured. Prints requests/s, µs of server CPU per
request, and each case's ratio to hyperdjango.

    .venv/bin/python -m pip install -e '.[bench]'
    .venv/bin/python benchmarks/api_bench.py                 # every case, 10 s each
    .venv/bin/python benchmarks/api_bench.py -d 2 -w 1 --cases hyperdjango,msgspec-rsgi

Targets (issue 13): hyperdjango ≥ 4x FastAPI and ≥ 1.0x the hand-written msgspec handler.
Numbers mean something only on a quiet machine; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import http_bench
from http_bench import HOST, PY, Result, Server, _granian, cpu_pins, machine_lines, measure_clean, pinning_arguments, stop_all

sys.path.insert(0, str(http_bench.APPS))
from api_payload import BODY, RECEIPT  # noqa: E402

PATH = "orders"
BASELINE = "hyperdjango"

CASES: dict[str, tuple[list[str], str]] = {
    "hyperdjango": ([PY, "api_hyperdjango_app.py", "{port}"], "hyperdjango typed handler: msgspec Structs, response_model"),
    "fastapi-uvicorn": (
        [a.replace("fastapi_app:app", "api_fastapi_app:app") for a in http_bench.CASES["fastapi-uvicorn"][0]],
        "FastAPI + pydantic v2 on uvicorn (uvloop, httptools)",
    ),
    "fastapi-granian": (_granian("asgi", "api_fastapi_app:app"), "FastAPI + pydantic v2 on Granian (ASGI)"),
    "msgspec-rsgi": (_granian("rsgi", "api_msgspec_rsgi_app:app"), "hand-written msgspec handler on Granian RSGI"),
}


def post(port: int) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("POST", "/" + PATH, body=BODY, headers={"content-type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_and_check(server: Server, timeout: float = 30.0) -> None:
    """Waits until the server answers, then checks it answers the receipt."""
    deadline = time.monotonic() + timeout
    while True:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            status, body = post(server.port)
            if status != 200 or json.loads(body) != RECEIPT:
                raise RuntimeError(f"{server.name} answered {status} {body[:200]!r}, not the receipt")
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s:\n{server.log_tail()}")
        time.sleep(0.1)


def wrk_script(directory: Path) -> str:
    path = directory / "post.lua"
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(BODY.decode())}\n"
    )
    return str(path)


def report(cases: list[str], results: dict[str, Result]) -> list[str]:
    lines = [f"{'case':<17} {'req/s':>9} {'p99 lat':>9} {'errors':>6} {'µs CPU/req':>10} {'other CPU':>9}"]
    lines.append("-" * len(lines[0]))
    for case in cases:
        r = results.get(case)
        if r is None:
            lines.append(f"{case:<17} {'failed':>9}")
            continue
        lines.append(f"{case:<17} {r.rps:>9,.0f} {r.latency_p99_ms:>7.2f}ms {r.errors:>6} {r.server_us:>10.1f} {r.disturbance:>9.0%}")
    base = results.get(BASELINE)
    if base:
        lines += ["", "hyperdjango relative to each case (req/s; server CPU per request):"]
        for case in cases:
            other = results.get(case)
            if case != BASELINE and other:
                cpu = f"{other.server_us / base.server_us:.2f}x" if base.server_us else "-"
                lines.append(f"  vs {case}: {base.rps / other.rps:.2f}x req/s, {cpu} CPU")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", "--duration", type=int, default=10, help="seconds measured per case (10)")
    parser.add_argument("-w", "--warmup", type=int, default=2, help="seconds of warm-up per case, discarded (2)")
    parser.add_argument("-c", "--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("-t", "--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument("--max-other", type=float, default=0.25, metavar="SHARE",
                        help="a measurement with more CPU taken by others is measured again (0.25)")
    parser.add_argument("--retries", type=int, default=2, help="re-measurements of a disturbed case (2)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, from --list (all)")
    pinning_arguments(parser, client="wrk", step="case")
    parser.add_argument("-v", "--verbose", action="store_true", help="print wrk's full output")
    args = parser.parse_args()
    args.repeat, args.pick = 1, "median"  # for machine_lines
    if args.list:
        for name, (_, what) in CASES.items():
            print(f"{name:<17} {what}")
        return 0
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if unknown := [c for c in cases if c not in CASES]:
        parser.error(f"unknown case(s) {', '.join(unknown)}; see --list")
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    pins = cpu_pins(args)
    for line in machine_lines(args, pins):
        print(line)
    print(f"request:   POST /{PATH}, {len(BODY)} bytes of JSON (10 fields, 20 items)\n")
    results: dict[str, Result] = {}
    work = Path(tempfile.mkdtemp(prefix="api-bench-"))
    args.script = wrk_script(work)
    try:
        for case in cases:
            argv, what = CASES[case]
            print(f"{case}: {what}", flush=True)
            server = Server(case, argv, pins[0], work)
            try:
                wait_and_check(server)
                result = measure_clean(server, PATH, args, pins[1])
                results[case] = result
                print(f"  {result.rps:>10,.0f} req/s  p99 {result.latency_p99_ms:.2f} ms  errors {result.errors}  "
                      f"server {result.server_us:.1f} µs CPU/req", flush=True)
            except (RuntimeError, OSError, http.client.HTTPException) as exc:
                print(f"  ! {case} failed: {exc}", flush=True)
            finally:
                server.stop()
    except KeyboardInterrupt:
        print("\ninterrupted; stopping servers", flush=True)
        return 130
    finally:
        stop_all()
        shutil.rmtree(work, ignore_errors=True)
    print()
    for line in report(cases, results):
        print(line)
    return 0 if len(results) == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
