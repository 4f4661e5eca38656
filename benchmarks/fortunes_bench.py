#!/usr/bin/env python3
"""The TechEmpower-style fortunes page — rows read from PostgreSQL, one added, sorted,
drawn by an escaping template — served by hyperdjango (ORM + templates in Rust) next
to Granian + asyncpg + Jinja2 (raw ASGI) and FastAPI + asyncpg + Jinja2 (uvicorn), in
one run, with the method of http_bench.py (one pinned worker each, wrk on another core).

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/fortunes_bench.py
    DATABASE_URL=postgres://... .venv/bin/python benchmarks/fortunes_bench.py -d 3 -w 1

The table ``fortune`` is (re)created with 12 rows, one of them hostile HTML; every
server's page is checked to be the same before it is measured. The issue's target:
hyperdjango ≥ 1.5x Granian's requests/s. Measure on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_bench import (  # noqa: E402  (the shared harness)
    HOST, PY, Server, _granian, cpu_pins, fetch, measure_clean, pinning_arguments, stop_all,
)

CASES = {
    "hyperdjango": ([PY, "fortunes_hyperdjango.py", "{port}"], "hyperdjango: ORM + template (Rust), app.run(workers=1)"),
    "granian-asyncpg-jinja2": (_granian("asgi", "fortunes_asgi:app"), "raw ASGI on Granian: asyncpg + Jinja2"),
    "fastapi-asyncpg-jinja2": (
        [PY, "-m", "uvicorn", "fortunes_fastapi:app", "--host", HOST, "--port", "{port}", "--workers", "1",
         "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
        "FastAPI on uvicorn: asyncpg + Jinja2",
    ),
}
BASELINE = "granian-asyncpg-jinja2"

MESSAGES = [
    "A watched kettle never boils.", "Green tea before black tea.", "<script>alert('steeped')</script>",
    "Oolong: half way between.", "Milk first & argue later.", "茶は心を落ち着かせる。",
    "Sugar is a matter of taste.", "Leaves, not bags.", "The pot must be warm.",
    "Three minutes, no more.", "A \"proper\" cup.", "Fortune favours the brewer.",
]


async def seed(url: str) -> None:
    from hyperdjango.database import Database

    db = Database(url)
    await db.connect()
    await db.execute("DROP TABLE IF EXISTS fortune")
    await db.execute("CREATE TABLE fortune (id integer PRIMARY KEY, message varchar(2048) NOT NULL)")
    for i, message in enumerate(MESSAGES, 1):
        await db.execute("INSERT INTO fortune (id, message) VALUES ($1, $2)", i, message)
    await db.close()


def expected_rows() -> list[tuple[int, str]]:
    rows = list(enumerate(MESSAGES, 1)) + [(0, "Additional fortune added at request time.")]
    return sorted(rows, key=lambda r: r[1])


def check_page(server: Server) -> None:
    status, content_type, body = fetch(server.port, "/fortunes")
    text = body.decode()
    if status != 200 or not content_type.startswith("text/html"):
        raise RuntimeError(f"{server.name}: {status} {content_type!r}")
    cells = [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", text)]
    if cells != [str(x) for row in expected_rows() for x in row] or "<script>" in text:
        raise RuntimeError(f"{server.name} drew another page: {text[:200]!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", "--duration", type=int, default=10)
    parser.add_argument("-w", "--warmup", type=int, default=2)
    parser.add_argument("-c", "--connections", type=int, default=64)
    parser.add_argument("-t", "--threads", type=int, default=1)
    parser.add_argument("--max-other", type=float, default=0.25)
    parser.add_argument("--retries", type=int, default=2)
    parser.add_argument("--cases", default=",".join(CASES))
    pinning_arguments(parser, client="wrk", step="case")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    if args.list:
        for name, (_, what) in CASES.items():
            print(f"{name:<24} {what}")
        return 0
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        parser.error("set DATABASE_URL to a PostgreSQL database (the table `fortune` is recreated in it)")
    asyncio.run(seed(url))
    server_pin, client_pin = cpu_pins(args)
    log_dir = Path(tempfile.mkdtemp(prefix="fortunes-bench-"))
    results = {}
    try:
        for case in [c.strip() for c in args.cases.split(",") if c.strip()]:
            argv, what = CASES[case]
            print(f"{case}: {what}", flush=True)
            server = Server(case, argv, server_pin, log_dir)
            try:
                server.wait_ready(path="/fortunes")
                check_page(server)
                result = measure_clean(server, "fortunes", args, client_pin)
                results[case] = result
                print(f"  {result.rps:>10,.0f} req/s  p99 {result.latency_p99_ms:.2f} ms  errors {result.errors}  "
                      f"server {result.server_us:.1f} µs/req, other CPU {result.other_cpu:.0%}", flush=True)
            finally:
                server.stop()
    finally:
        stop_all()
        shutil.rmtree(log_dir, ignore_errors=True)
    if BASELINE in results:
        print()
        for case, result in results.items():
            print(f"{case:<24} {result.rps / results[BASELINE].rps:5.2f}x {BASELINE}")
    return 0 if len(results) == len(CASES) else 1


if __name__ == "__main__":
    sys.exit(main())
