#!/usr/bin/env python3
"""One command for the TechEmpower workloads: hyperdjango next to its peers, in one run.

Workloads (TechEmpower Framework Benchmarks' test types, https://www.techempower.com/benchmarks/):
plaintext, json, db (one row by primary key), queries (20 rows, one statement each),
updates (20 rows read, changed and written back) and fortunes (rows + one added at request
time, sorted, drawn by an escaping template). Servers, each ONE worker (one process, one
runtime thread where it has them):

  hyperdjango      app.run(workers=1): the ORM and the Rust templates (apps/hyperdjango_app.py)
  granian-rsgi     Granian, raw RSGI handlers + asyncpg + Jinja2: THE REFERENCE of the ratios
  fastapi-uvicorn  FastAPI on uvicorn (uvloop, httptools) + asyncpg + Jinja2
  django-uvicorn   Django 5.2 on uvicorn (ASGI), its ORM and templates (apps/tfb_django/)
  robyn            Robyn (one process, one worker) + asyncpg + Jinja2
  hyper-rust       plain hyper + tokio-postgres on one thread: the physical reference,
                   built here on demand (benchmarks/reference/, its own cargo project)

Method: the server is pinned to one core and wrk (-t1 -c64) to the other; every server's
answers are verified before it is measured (the fortunes page byte for byte, the JSON of
db/queries against the table, updates read back from the table); each workload is warmed
up, then measured; a round runs every server back to back, and the claim is the median
over the rounds of the per-round ratio to Granian RSGI, with its min–max. Then
hyperdjango's json with workers=1 and workers=2, unpinned (wrk shares the two cores with
them): requests/s and server CPU per request.

Writes the table and the chart (docs/benchmarks-run.png) between the markers of
docs/benchmarks.md, and the raw numbers to benchmarks/results/run-<date>.json.

    DATABASE_URL=postgres://user@127.0.0.1/db .venv/bin/python benchmarks/run.py   # ~15 min
    .venv/bin/python benchmarks/run.py --duration 2 --warmup 1 --rounds 1 \\
        --cases hyperdjango,granian-rsgi --no-write                                  # a smoke run

The tables ``world`` and ``fortune`` of $DATABASE_URL are dropped and recreated. Needs the
``bench`` extra (pip install -e ".[bench]"), wrk (apt-get install wrk) and, for hyper-rust,
cargo. Run it on a quiet machine: ratios are the claim, absolute numbers are the machine's.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from http_bench import Result, Server, chosen_cases, cpu_pins, fetch, machine_lines, measure_clean, pinning_arguments, stop_all
from techempower import data, report, verify
from techempower.cases import CASES, MULTI_WORKER, NO_DATABASE, QUERIES, REFERENCE, WORKLOADS, Case, build_reference


def verify_server(server: Server, url: str, workloads: list[str]) -> None:
    """Every workload's answer checked (raises verify.WrongAnswer); the table is left as it was
    found apart from the numbers of ``world``, which the updates check rewrites."""
    stored = asyncio.run(data.world_numbers(url))
    expected_page = data.expected_fortunes_page()
    for workload in workloads:
        status, content_type, body = fetch(server.port, "/" + WORKLOADS[workload])
        media = {"plaintext": "text/plain", "fortunes": "text/html"}.get(workload, "application/json")
        verify.check_status(workload, status, content_type, media)
        if workload == "plaintext":
            verify.check_plaintext(body)
        elif workload == "json":
            verify.check_json(body)
        elif workload == "db":
            verify.check_db(body, stored)
        elif workload == "queries":
            verify.check_queries(body, QUERIES, stored)
        elif workload == "fortunes":
            verify.check_fortunes(body, expected_page)
        elif workload == "updates":
            asyncio.run(data.zero_world_numbers(url))
            before = asyncio.run(data.world_numbers(url))
            _, _, body = fetch(server.port, "/" + WORKLOADS[workload])
            after = asyncio.run(data.world_numbers(url))
            asyncio.run(data.randomise_world_numbers(url))
            verify.check_updates(body, QUERIES, before, after)


def run_case(case: Case, workloads: list[str], args: argparse.Namespace, pins: tuple[list[str], list[str]],
             log_dir: Path) -> dict[str, Result]:
    server_pin, client_pin = pins
    server = Server(case.name, list(case.argv), server_pin, log_dir)
    results = {}
    try:
        server.wait_ready()
        verify_server(server, args.database_url, workloads)
        # PostgreSQL's CPU counts as "other" load: only the workloads without a database can
        # tell a disturbed measurement from a normal one, so only they are measured again.
        no_retry = argparse.Namespace(**{**vars(args), "retries": 0})
        for workload in workloads:
            result = measure_clean(server, WORKLOADS[workload], args if workload in NO_DATABASE else no_retry, client_pin)
            results[workload] = result
            flag = f"  ! {result.errors} errors" if result.errors else ""
            print(f"  {workload:<10} {result.rps:>10,.0f} req/s  p99 {result.latency_p99_ms:6.2f} ms  "
                  f"server {result.server_us:6.1f} µs/req  other CPU {result.disturbance:.0%}{flag}", flush=True)
    except (RuntimeError, OSError, http.client.HTTPException, subprocess.TimeoutExpired, verify.WrongAnswer) as exc:
        print(f"  ! {case.name} failed: {exc}", flush=True)
    finally:
        server.stop()
    return results


def run_rounds(cases: list[str], workloads: list[str], args: argparse.Namespace, pins, log_dir: Path) -> dict:
    """``rps[workload][case]`` = req/s of each round (None: failed, had errors or timeouts, or
    finished no request), and the details."""
    rps: dict[str, dict[str, list[float | None]]] = {w: {c: [] for c in cases} for w in workloads}
    details: list[dict] = []
    for round_ in range(args.rounds):
        for name in cases:
            case = CASES[name]
            print(f"[round {round_ + 1}/{args.rounds}] {name}: {case.label}", flush=True)
            results = run_case(case, workloads, args, pins, log_dir)
            for workload in workloads:
                result = results.get(workload)
                ok = result is not None and result.errors == 0 and result.requests > 0
                rps[workload][name].append(result.rps if ok else None)
                if result is not None:
                    details.append({"round": round_ + 1, "case": name, "workload": workload, **vars(result)})
    return {"rps": rps, "details": details}


def listening_sockets(port: int) -> int:
    """How many sockets listen on ``port`` (IPv4, /proc/net/tcp): one per worker when each
    binds its own with SO_REUSEPORT, one in all when they share an inherited listener."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    listen = "0A"  # TCP_LISTEN
    return sum(1 for line in lines if line.split()[1].endswith(f":{port:04X}") and line.split()[3] == listen)


def run_multi_worker(args: argparse.Namespace, log_dir: Path) -> dict[str, list[dict]]:
    """hyperdjango json with workers=1 and workers=2, neither pinned: wrk shares the cores."""
    runs: dict[str, list[dict]] = {case.name: [] for case in MULTI_WORKER.values()}
    for round_ in range(args.rounds):
        for case in MULTI_WORKER.values():
            print(f"[round {round_ + 1}/{args.rounds}] {case.name}: {case.label}, unpinned", flush=True)
            server = Server(case.name, list(case.argv), [], log_dir)
            try:
                server.wait_ready()
                verify.check_json(fetch(server.port, "/json")[2])
                sockets = listening_sockets(server.port)
                result = measure_clean(server, "json", args, [])
                print(f"  json       {result.rps:>10,.0f} req/s  server {result.server_cpu:.2f} cores, "
                      f"{result.server_us:.1f} µs/req; {sockets} listening socket(s) on the port", flush=True)
                if not result.errors:
                    runs[case.name].append({**vars(result), "listening_sockets": sockets})
            except (RuntimeError, OSError, http.client.HTTPException, verify.WrongAnswer) as exc:
                print(f"  ! {case.name} failed: {exc}", flush=True)
            finally:
                server.stop()
    return runs


def page_section(outcome: dict, cases: list[str], args: argparse.Namespace, machine: list[str], raw: Path) -> list[str]:
    labels = {name: CASES[name].name for name in cases}
    kept = "not kept (--no-write)" if args.no_write else f"`{raw.relative_to(report.ROOT)}`"
    lines = [f"Generated by `benchmarks/run.py` ({' '.join(sys.argv[1:]) or 'defaults'}); raw numbers: {kept}.",
             "", "```text", *machine, "```", "",
             f"Each cell: requests/s as a multiple of **{REFERENCE}** (Granian RSGI raw + asyncpg + Jinja2), "
             f"median of {args.rounds} per-round ratios (min–max); the {REFERENCE} column gives its own req/s. "
             "Above 1: faster than Granian's raw path.", ""]
    lines += report.table(outcome["rps"], cases, labels, REFERENCE)
    if "multi_worker" in outcome:
        lines += ["", "hyperdjango with 1 and 2 worker processes, json, unpinned (wrk shares the two cores):", ""]
        lines += report.multi_worker_table(outcome["multi_worker"])
    if not (args.no_chart or args.no_write):
        lines += ["", f"![TechEmpower workloads: req/s as a multiple of Granian RSGI]({report.CHART.name})"]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", "--duration", type=int, default=5, help="seconds measured per workload (5)")
    parser.add_argument("-w", "--warmup", type=int, default=2, help="seconds of warm-up per workload, discarded (2)")
    parser.add_argument("-r", "--rounds", type=int, default=3, help="rounds over every server (3)")
    parser.add_argument("-c", "--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated servers (all; see --list)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated workloads (all)")
    parser.add_argument("--no-multi-worker", action="store_true", help="leave out the workers=1 vs 2 comparison")
    parser.add_argument("--no-write", action="store_true",
                        help="print only: leave docs/benchmarks.md, its chart and benchmarks/results/ alone")
    parser.add_argument("--no-chart", action="store_true", help="no PNG (matplotlib not needed)")
    parser.add_argument("--max-other", type=float, default=0.25, metavar="SHARE",
                        help="a measurement with more CPU used by others (share of a core) is disturbed (0.25)")
    parser.add_argument("--retries", type=int, default=1, help="measure a disturbed plaintext or json again up to N times (1)")
    pinning_arguments(parser, client="wrk", step="workload")
    parser.add_argument("-v", "--verbose", action="store_true", help="print wrk's full output")
    args = parser.parse_args()
    args.threads = 1  # wrk -t1: wrk has one core
    if args.list:
        for case in CASES.values():
            print(f"{case.name:<16} {case.label}")
        return 0
    cases = chosen_cases(parser, args.cases, CASES)
    workloads = chosen_cases(parser, args.workloads, WORKLOADS)
    args.database_url = os.environ.get("DATABASE_URL", "")
    if not args.database_url.startswith("postgres"):
        parser.error("set DATABASE_URL to a PostgreSQL database (its tables world and fortune are recreated)")
    if not shutil.which("wrk"):
        print("wrk (the load generator) is missing: apt-get install wrk", file=sys.stderr)
        return 2

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    if "hyper-rust" in cases:
        print("building the Rust reference (benchmarks/reference, release)...", flush=True)
        build_reference()
    asyncio.run(data.create_tables(args.database_url))
    pins = cpu_pins(args)
    args.repeat, args.pick = args.rounds, "median"  # what machine_lines describes
    machine = machine_lines(args, pins)
    print("\n".join(machine) + "\n", flush=True)
    log_dir = Path(tempfile.mkdtemp(prefix="run-bench-"))
    try:
        outcome: dict = run_rounds(cases, workloads, args, pins, log_dir)
        if not args.no_multi_worker:
            outcome["multi_worker"] = run_multi_worker(args, log_dir)
    except KeyboardInterrupt:
        print("\ninterrupted; stopping servers", flush=True)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_all()
        shutil.rmtree(log_dir, ignore_errors=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    raw = report.RESULTS / f"run-{stamp}.json"
    section = page_section(outcome, cases, args, machine, raw)
    print("\n" + "\n".join(section))
    if not args.no_write:
        report.write_raw(raw.stem, {"argv": sys.argv[1:], "machine": machine, **outcome})
        if not args.no_chart:
            labels = {name: CASES[name].label for name in cases}
            report.chart(outcome["rps"], cases, labels, REFERENCE)
        report.write_page_section(section)
    complete = all(None not in rounds for by_case in outcome["rps"].values() for rounds in by_case.values())
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
