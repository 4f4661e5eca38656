"""Users and sessions: what they cost, side by side in one run.

1. Per request: the same cheap view bare, behind signed-cookie sessions + authentication,
   and behind database sessions + authentication (a logged-in user: the session is read
   and the user loaded on every request). wrk against one server process at a time;
   the report gives req/s and the µs each variant adds per request over the bare view.
2. Password verification throughput: hyperdjango's argon2id (Rust, GIL released, its
   hashing pool) against argon2-cffi (C, GIL released) on the same parameters and the
   same number of threads.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/auth_bench.py            # 10 s per variant, 4 threads of hashing
    .venv/bin/python benchmarks/auth_bench.py -d 1 --hashes 20   # a smoke run

Ratios only mean something on a quiet machine (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from http_bench import free_port, parse_wrk

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("bare", "cookie", "db")
PARAMS = {"memory_kib": 19 * 1024, "iterations": 2, "parallelism": 1}


def start(variant: str, database: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "AUTH_BENCH_VARIANT": variant, "AUTH_BENCH_DATABASE": database, "PYTHONPATH": str(ROOT)}
    code = f"from benchmarks.apps.auth_app import app; app.run(port={port})"
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=1).read()
            return server, port
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"the {variant} server did not start")


def session_cookie(port: int) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/bench-login", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        cookie = response.headers.get("set-cookie", "")
    return cookie.split(";", 1)[0]


def measure(variant: str, database: str, args: argparse.Namespace) -> dict:
    server, port = start(variant, database)
    try:
        cookie = session_cookie(port) if variant != "bare" else ""
        check = urllib.request.Request(f"http://127.0.0.1:{port}/json", headers={"cookie": cookie})
        body = json.loads(urllib.request.urlopen(check, timeout=5).read())
        if variant != "bare" and body["user"] != "bench":
            raise RuntimeError(f"{variant}: the request is not logged in: {body}")
        cmd = ["wrk", "-t", "1", "-c", str(args.connections), "-d", f"{args.duration:g}s", "--latency",
               *(["-H", f"Cookie: {cookie}"] if cookie else []), f"http://127.0.0.1:{port}/json"]
        result = parse_wrk(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        return {"variant": variant, "rps": result.rps, "p99_ms": result.latency_p99_ms, "errors": result.errors}
    finally:
        server.terminate()
        server.wait(10)


def hyperdjango_verify(encoded: str, count: int, threads: int) -> float:
    from hyperdjango.auth import hashers

    hashers.set_hashers([hashers.Argon2PasswordHasher(**PARAMS)], max_concurrency=threads)

    async def run() -> float:
        start = time.perf_counter()
        results = await asyncio.gather(*(hashers.check_password("bench passphrase", encoded) for _ in range(count)))
        assert all(results)
        return count / (time.perf_counter() - start)

    return asyncio.run(run())


def argon2_cffi_verify(count: int, threads: int) -> float:
    from argon2 import PasswordHasher

    hasher = PasswordHasher(time_cost=PARAMS["iterations"], memory_cost=PARAMS["memory_kib"], parallelism=PARAMS["parallelism"])
    encoded = hasher.hash("bench passphrase")
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        start = time.perf_counter()
        assert all(pool.map(lambda _: hasher.verify(encoded, "bench passphrase"), range(count)))
        return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", "--duration", type=float, default=10.0, help="seconds of wrk per variant")
    parser.add_argument("-c", "--connections", type=int, default=64)
    parser.add_argument("--hashes", type=int, default=200, help="verifications per hasher")
    parser.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1), help="hashing threads")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{tmp}/auth_bench.sqlite3"
        subprocess.run([sys.executable, "-m", "hyperdjango", "migrate", "benchmarks.apps.auth_app", "--database", database],
                       cwd=ROOT, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        rows = [measure(variant, database, args) for variant in VARIANTS]
    bare = rows[0]["rps"]
    print(f"{'variant':<8} {'req/s':>10} {'p99 ms':>8} {'errors':>7} {'vs bare':>8} {'µs added/request':>17}")
    for row in rows:
        added = 1e6 / row["rps"] - 1e6 / bare
        print(f"{row['variant']:<8} {row['rps']:>10.0f} {row['p99_ms']:>8.2f} {row['errors']:>7} "
              f"{row['rps'] / bare:>8.2f} {added:>17.1f}")

    from hyperdjango.auth.hashers import Argon2PasswordHasher

    encoded = Argon2PasswordHasher(**PARAMS).encode("bench passphrase")
    ours = hyperdjango_verify(encoded, args.hashes, args.threads)
    theirs = argon2_cffi_verify(args.hashes, args.threads)
    print(f"\nargon2id verify (m={PARAMS['memory_kib']} KiB, t={PARAMS['iterations']}, p={PARAMS['parallelism']}, "
          f"{args.threads} threads, {args.hashes} each)")
    print(f"hyperdjango (Rust)  {ours:8.1f} verifications/s")
    print(f"argon2-cffi (C)     {theirs:8.1f} verifications/s   ratio {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
