"""Cache benchmark: hyperdjango's cache backends against Django's cache API, side by side in
one run, and a cached page against the uncached ORM page.

Part 1, ``get``/``set`` per backend (a 100-byte string value, keys from a pool of 1,000):

- **latency**: µs per awaited operation, one at a time;
- **throughput**: operations/s with ``--concurrency`` (64) tasks awaiting at once.

Cases: hyperdjango's ``locmem``, ``redis``, ``database`` (PostgreSQL and SQLite) and ``tiered``
(memory in front of Redis: gets of hot keys are local), next to Django 5.2's async cache API
(``aget``/``aset``) on its ``LocMemCache``, ``RedisCache``, django-redis's ``RedisCache`` and
``DatabaseCache`` (PostgreSQL through psycopg 3). Django's async methods run the sync ones in
a thread (``sync_to_async``), which is what this compares against.

Part 2, pages: ``hyper run`` serves ``apps/cache_pages_app.py`` (one worker, pinned to one
core when ``taskset`` and two CPUs exist) and ``wrk`` loads ``/products`` (an ORM query of 50
rows) and the same view under ``@cache_page`` in memory and in Redis, in requests/s.

    .venv/bin/pip install -e '.[dev,bench]'        # Django, django-redis, psycopg
    .venv/bin/python benchmarks/cache_bench.py --redis redis://127.0.0.1:6379/15 \\
        --pg postgres://postgres@127.0.0.1:5432/cache_bench -n 20000 -d 10

``--pg`` names a database of its own (created if missing; the tables ``hyperdjango_cache``
and ``django_cache`` go in it). Without ``--redis``/``--pg`` those cases are left out. Report
ratios measured on a quiet machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from db_bench import cpu_model, table, versions  # noqa: E402

VALUE = "x" * 100
KEYS = [f"bench:{i}" for i in range(1000)]


@dataclass
class Case:
    name: str
    make: Callable[[], object]  # a cache object with get/set coroutines (ours) or aget/aset (Django's)
    django: bool = False
    results: dict[str, float] = field(default_factory=dict)


# -- part 1: get/set ----------------------------------------------------------------------


def ops(cache: object, django: bool) -> tuple[Callable[[str], Awaitable], Callable[[str], Awaitable]]:
    if django:
        return (lambda k: cache.aget(k)), (lambda k: cache.aset(k, VALUE, 300))
    return (lambda k: cache.get(k)), (lambda k: cache.set(k, VALUE, 300))


async def latency(op: Callable[[str], Awaitable], n: int) -> float:
    keys = random.Random(1).choices(KEYS, k=n)
    start = time.perf_counter()
    for key in keys:
        await op(key)
    return (time.perf_counter() - start) / n * 1e6


async def throughput(op: Callable[[str], Awaitable], n: int, concurrency: int) -> float:
    keys = random.Random(2).choices(KEYS, k=n)
    per_task = [keys[i::concurrency] for i in range(concurrency)]

    async def worker(mine: list[str]) -> None:
        for key in mine:
            await op(key)

    start = time.perf_counter()
    await asyncio.gather(*(worker(mine) for mine in per_task))
    return n / (time.perf_counter() - start)


async def run_case(case: Case, n: int, concurrency: int) -> None:
    cache = case.make()
    get, set_ = ops(cache, case.django)
    for key in KEYS:  # every key present: gets are hits
        await set_(key)
    await latency(get, min(n, 500))  # warm-up
    case.results["get µs"] = await latency(get, n)
    case.results["set µs"] = await latency(set_, n)
    case.results["get/s"] = await throughput(get, n, concurrency)
    case.results["set/s"] = await throughput(set_, n, concurrency)
    close = getattr(cache, "close", None) if not case.django else None
    if close is not None:
        await close()


def ensure_pg_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = f"{parts.scheme}://{parts.netloc}/postgres"
    exists = subprocess.run(["psql", admin, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"], capture_output=True, text=True)
    if exists.stdout.strip() != "1":
        subprocess.run(["psql", admin, "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)


def django_setup(args: argparse.Namespace) -> None:
    import django
    from django.conf import settings

    caches = {"locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 10_000}}}
    databases = {}
    if args.redis:
        caches["redis"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": args.redis, "KEY_PREFIX": "dj"}
        caches["django_redis"] = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": args.redis, "KEY_PREFIX": "djr"}
    if args.pg:
        parts = urlsplit(args.pg)
        databases["default"] = {
            "ENGINE": "django.db.backends.postgresql", "NAME": parts.path.lstrip("/"), "USER": parts.username or "",
            "PASSWORD": parts.password or "", "HOST": parts.hostname or "", "PORT": parts.port or 5432,
        }
        caches["database"] = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache",
                              "OPTIONS": {"MAX_ENTRIES": 10_000}}
    settings.configure(CACHES={"default": caches["locmem"], **caches}, DATABASES=databases, USE_TZ=True)
    django.setup()
    if args.pg:
        from django.core.management import call_command

        call_command("createcachetable", verbosity=0)


def cases(args: argparse.Namespace, sqlite_path: str) -> list[Case]:
    from django.core.cache import caches as django_caches

    from hyperdjango.cache.handler import create_cache

    def ours(config: dict) -> Callable[[], object]:
        return lambda: create_cache({"KEY_PREFIX": "hd", **config})

    found = [
        Case("hyperdjango locmem", ours({"BACKEND": "locmem", "OPTIONS": {"MAX_ENTRIES": 10_000}})),
        Case("Django locmem", lambda: django_caches["locmem"], django=True),
        Case("hyperdjango database (SQLite)", ours({"BACKEND": "database", "OPTIONS": {"DATABASE": f"sqlite:///{sqlite_path}", "MAX_ENTRIES": 10_000}})),
    ]
    if args.redis:
        found += [
            Case("hyperdjango redis", ours({"BACKEND": "redis", "LOCATION": args.redis})),
            Case("hyperdjango tiered (memory + redis)", ours({"BACKEND": "tiered", "OPTIONS": {"BEHIND": {"BACKEND": "redis", "LOCATION": args.redis}}})),
            Case("Django RedisCache", lambda: django_caches["redis"], django=True),
            Case("django-redis", lambda: django_caches["django_redis"], django=True),
        ]
    if args.pg:
        found += [
            Case("hyperdjango database (PostgreSQL)", ours({"BACKEND": "database", "OPTIONS": {"DATABASE": args.pg, "MAX_ENTRIES": 10_000}})),
            Case("Django DatabaseCache (PostgreSQL)", lambda: django_caches["database"], django=True),
        ]
    return found


# -- part 2: pages ----------------------------------------------------------------------------


async def seed_pages_database(url: str) -> None:
    from apps.orm_hyperdjango import Category, Product

    from hyperdjango.database import Database

    db = Database(url)
    await db.execute("DROP TABLE IF EXISTS bench_product")
    await db.execute("DROP TABLE IF EXISTS bench_category")
    await db.create_tables(Category, Product)
    await db.execute("INSERT INTO bench_category (id, name) VALUES (1, 'tea')")
    await db.execute_many(
        "INSERT INTO bench_product (name, price, stock, active, category_id) VALUES ($1, $2, $3, $4, 1)",
        [(f"product {i}", f"{i}.50", i, True) for i in range(50)],
    )
    await db.close()


def pages(args: argparse.Namespace, db_url: str) -> list[tuple[str, str]]:
    from http_bench import free_port, parse_wrk, run_wrk

    allowed = sorted(os.sched_getaffinity(0))
    pinned = shutil.which("taskset") is not None and len(allowed) >= 2
    server_pin = ["taskset", "-c", str(allowed[1])] if pinned else []
    client_pin = ["taskset", "-c", str(allowed[0])] if pinned else []
    port = free_port()
    env = {**os.environ, "CACHE_BENCH_DB": db_url, "CACHE_BENCH_REDIS": args.redis or "", "PYTHONPATH": str(HERE)}
    server = subprocess.Popen(
        [*server_pin, sys.executable, "-m", "hyperdjango", "run", "apps.cache_pages_app:app", "--port", str(port)],
        cwd=HERE, env=env, start_new_session=True,
    )
    rows = []
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while subprocess.run(["curl", "-sf", f"{base}/products"], capture_output=True).returncode != 0:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the page server did not answer")
            time.sleep(0.2)
        wrk_args = argparse.Namespace(threads=1, connections=args.connections)
        paths = {"/products": "uncached ORM page", "/products-cached": "@cache_page, in memory"}
        if args.redis:
            paths["/products-cached-redis"] = "@cache_page, in Redis"
        results = {}
        for path in paths:
            run_wrk(base + path, wrk_args, client_pin, 2)  # warm-up
            out, _cpu = run_wrk(base + path, wrk_args, client_pin, args.duration)
            results[path] = parse_wrk(out).rps
        for path, label in paths.items():
            rows.append((f"{label} ({path})", f"{results[path]:,.0f}", f"{results[path] / results['/products']:.2f}"))
        rows.append(("pinned" if pinned else "UNPINNED (server and wrk share CPUs)", "", ""))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


async def main(args: argparse.Namespace) -> None:
    import uvloop  # noqa: F401  (the same loop as a hyperdjango server)

    print(f"cache_bench: {cpu_model()}; {versions(('hyperdjango', 'django', 'django-redis', 'redis', 'hiredis', 'psycopg'))}")
    print(f"n={args.n} per measurement, concurrency={args.concurrency}; the machine must be quiet for ratios to mean anything\n")
    with tempfile.TemporaryDirectory() as tmp:
        found = [c for c in cases(args, f"{tmp}/cache.sqlite3") if not args.only or any(o in c.name for o in args.only.split(","))]
        for case in found:
            await run_case(case, args.n, args.concurrency)
            print(f"  {case.name}: done", flush=True)
        titles = ("case", "get µs", "set µs", "get/s", "set/s")
        print("\n" + table([(c.name, *(f"{c.results[t]:,.1f}" if "µs" in t else f"{c.results[t]:,.0f}" for t in titles[1:])) for c in found], titles))
        if args.duration > 0:
            db_url = args.pg or f"sqlite:///{tmp}/pages.sqlite3"
            await seed_pages_database(db_url)
            print("\n" + table(pages(args, db_url), ("page", "req/s", "ratio")))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis", help="a Redis URL (a database of its own, e.g. /15)")
    parser.add_argument("--pg", help="a PostgreSQL URL naming a database for the benchmark (created if missing)")
    parser.add_argument("-n", type=int, default=20000, help="operations per measurement")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("-d", "--duration", type=int, default=10, help="seconds of wrk per page (0: no page part)")
    parser.add_argument("-c", "--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--only", help="comma-separated substrings of case names")
    args = parser.parse_args()
    if args.pg:
        ensure_pg_database(args.pg)
    django_setup(args)
    import uvloop

    uvloop.run(main(args))
