"""ORM overhead: hyperdjango's ORM against its own raw ``db.query``, Django 5.2's async ORM
and Tortoise ORM, on the same PostgreSQL tables, one run.

Four operations, each awaited one at a time on uvloop (the client pinned to one core):

1. ``by_pk``: fetch one product by primary key (random ids).
2. ``list50``: the 50 products of a random category (``filter(category_id=c)``).
3. ``filter_slice``: ``filter(active=True, price__gte=x).order_by("price", "id")[:10]``
   with a random ``x``.
4. ``first``: ``filter(category_id=c).first()`` (the category's product of lowest key).

For each operation the clients are: hyperdjango ``db.query``/``query_one`` with the SQL
the ORM generates (the floor an ORM on this driver can reach), hyperdjango's ORM, Django's
async ORM (``aget``, ``async for``; psycopg 3, which Django runs in a thread through
``sync_to_async``) and Tortoise ORM (asyncpg). Every client reads every field of every
row it gets. The issue's aim: the hyperdjango ORM within 1.5x of the raw query's time.

Reported: wall time and client CPU (every thread of the client process) per operation,
and both as a ratio to the raw query. Cases are interleaved within a round, ``--rounds``
rounds (3), the best round counts (db_bench.py's method, whose helpers this reuses).

Setup (once): ``--setup`` creates the database, its tables (with hyperdjango's
``create_tables``) and 200 categories x 50 products; ``--drop`` drops it at the end.

    taskset -c 0 .venv/bin/python benchmarks/orm_bench.py --setup --drop

Time on a busy machine is noise; instructions are not. ``--instructions`` runs the raw and
the ORM client of each operation under valgrind's callgrind twice (``--ops`` and twice as
many operations, the same warm-up) and reports the difference per operation: the client
instructions (every thread: the engine's tokio threads too) one more operation costs.

    .venv/bin/python benchmarks/orm_bench.py --instructions [--ops 400]

``--operations gather20`` counts a fifth case the same way: 20 fetches by key under one
``asyncio.gather`` (TechEmpower's "queries" shape), ``query_one`` against ``objects.get``;
divide by 20 for one fetch. ``--operations count exists`` counts ``filter(category_id=c)
.count()`` / ``.exists()`` against ``query_val`` / ``query_one`` of the ORM's SQL.

Needs the ``bench`` extra (Django 5.2, Tortoise ORM, asyncpg, psycopg).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from urllib.parse import urlsplit

import uvloop

import db_bench
from db_bench import Case, measure, table

from hyperdjango.database import Database, set_default_database

CATEGORIES = 200
PER_CATEGORY = 50
COLUMNS = "id, name, price, stock, active, category_id"
RAW_SQL = {
    "by_pk": f"SELECT {COLUMNS} FROM bench_product WHERE id = $1",
    "list50": f"SELECT {COLUMNS} FROM bench_product WHERE category_id = $1",
    "filter_slice": f"SELECT {COLUMNS} FROM bench_product WHERE active AND price >= $1 ORDER BY price, id LIMIT 10",
    "first": f"SELECT {COLUMNS} FROM bench_product WHERE category_id = $1 ORDER BY id LIMIT 1",
    # count() and exists() of filter(category_id=c): the ORM's SQL as it writes it.
    "count": 'SELECT COUNT(*) FROM "bench_product" AS "t0" WHERE "t0"."category_id" = $1',
    "exists": 'SELECT 1 AS "a" FROM "bench_product" AS "t0" WHERE "t0"."category_id" = $1 LIMIT 1',
}
OPERATIONS = ("by_pk", "list50", "filter_slice", "first")
#: Counted with --instructions only: 20 fetches by key under one asyncio.gather (the
#: TechEmpower "queries" test's shape), raw ``query_one`` against ``objects.get``.
GATHERED = 20
#: Counted with --instructions only, as gather20: ``filter(category_id=c).count()`` and
#: ``.exists()`` against ``query_val`` / ``query_one`` of the same SQL.
COUNTED_OPERATIONS = (*OPERATIONS, "gather20", "count", "exists")

LOAD_SQL = f"""
INSERT INTO bench_category (id, name) SELECT c, 'category ' || c FROM generate_series(1, {CATEGORIES}) AS c;
INSERT INTO bench_product (id, name, price, stock, active, category_id)
SELECT p, 'product ' || p, round((random() * 1000)::numeric, 2), (random() * 100)::int, p % 7 <> 0,
       (p - 1) / {PER_CATEGORY} + 1
FROM generate_series(1, {CATEGORIES * PER_CATEGORY}) AS p;
CREATE INDEX bench_product_price ON bench_product (price, id);
SELECT setval(pg_get_serial_sequence('bench_category', 'id'), {CATEGORIES});
SELECT setval(pg_get_serial_sequence('bench_product', 'id'), {CATEGORIES * PER_CATEGORY});
ANALYZE;
"""


async def setup(url: str) -> None:
    from apps.orm_hyperdjango import Category, Product

    db = Database(url)
    await db.connect()
    try:
        await db.create_tables(Category, Product)
    finally:
        await db.close()
    parts = urlsplit(url)
    db_bench.psql(f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/"), "-c", LOAD_SQL)


# -- the operations, per client ------------------------------------------------------
# ``run(state, args)`` performs one operation per argument and reads every field.


def read_row(row) -> None:
    row[0], row[1], row[2], row[3], row[4], row[5]


def read_obj(obj) -> None:
    obj.id, obj.name, obj.price, obj.stock, obj.active, obj.category_id


def raw_cases(url: str) -> dict[str, Case]:
    async def open_() -> Database:
        db = Database(url)
        await db.connect()
        return db

    async def close(db: Database) -> None:
        await db.close()

    async def by_pk(db: Database, ids: list) -> None:
        query_one, sql = db.query_one, RAW_SQL["by_pk"]
        for i in ids:
            read_row(await query_one(sql, i))

    def many(op: str):
        async def run(db: Database, args: list) -> None:
            query, sql = db.query, RAW_SQL[op]
            for a in args:
                for row in await query(sql, a):
                    read_row(row)

        return run

    async def first(db: Database, categories: list) -> None:
        query_one, sql = db.query_one, RAW_SQL["first"]
        for c in categories:
            read_row(await query_one(sql, c))

    async def gather20(db: Database, batches: list) -> None:
        query_one, sql = db.query_one, RAW_SQL["by_pk"]
        for ids in batches:
            for row in await asyncio.gather(*[query_one(sql, i) for i in ids]):
                read_row(row)

    async def count(db: Database, categories: list) -> None:
        query_val, sql = db.query_val, RAW_SQL["count"]
        for c in categories:
            assert await query_val(sql, c) == PER_CATEGORY

    async def exists(db: Database, categories: list) -> None:
        query_one, sql = db.query_one, RAW_SQL["exists"]
        for c in categories:
            assert await query_one(sql, c) is not None

    runs = {"by_pk": by_pk, "list50": many("list50"), "filter_slice": many("filter_slice"), "first": first, "gather20": gather20,
            "count": count, "exists": exists}
    return {op: Case(op, "hyperdjango db.query (raw SQL)", open_, runs[op], close) for op in COUNTED_OPERATIONS}


def orm_cases(url: str) -> dict[str, Case]:
    from apps.orm_hyperdjango import Product

    async def open_() -> Database:
        db = Database(url)
        await db.connect()
        set_default_database(db)
        return db

    async def close(db: Database) -> None:
        await db.close()

    async def check(_db) -> None:
        p = await Product.objects.get(id=42)
        raw = await _db.query_one(RAW_SQL["by_pk"], 42)
        assert (p.id, p.name, p.price, p.category_id) == (raw[0], raw[1], raw[2], raw[5]), (p, raw)

    async def by_pk(_db, ids: list) -> None:
        get = Product.objects.get
        for i in ids:
            read_obj(await get(id=i))

    async def list50(_db, categories: list) -> None:
        objects = Product.objects
        for c in categories:
            for p in await objects.filter(category_id=c).all():
                read_obj(p)

    async def filter_slice(_db, prices: list) -> None:
        objects = Product.objects
        for x in prices:
            for p in await objects.filter(active=True, price__gte=x).order_by("price", "id")[:10].all():
                read_obj(p)

    async def first(_db, categories: list) -> None:
        objects = Product.objects
        for c in categories:
            read_obj(await objects.filter(category_id=c).first())

    async def gather20(_db, batches: list) -> None:
        get = Product.objects.get
        for ids in batches:
            for p in await asyncio.gather(*[get(id=i) for i in ids]):
                read_obj(p)

    async def count(_db, categories: list) -> None:
        objects = Product.objects
        for c in categories:
            assert await objects.filter(category_id=c).count() == PER_CATEGORY

    async def exists(_db, categories: list) -> None:
        objects = Product.objects
        for c in categories:
            assert await objects.filter(category_id=c).exists()

    runs = {"by_pk": by_pk, "list50": list50, "filter_slice": filter_slice, "first": first, "gather20": gather20,
            "count": count, "exists": exists}
    return {op: Case(op, "hyperdjango ORM", open_, runs[op], close, check) for op in COUNTED_OPERATIONS}


def django_cases(url: str) -> dict[str, Case]:
    import django
    from django.conf import settings

    parts = urlsplit(url)
    settings.configure(
        DATABASES={"default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parts.path.lstrip("/"), "HOST": parts.hostname or "127.0.0.1", "PORT": parts.port or 5432,
            "USER": parts.username or "postgres", "PASSWORD": parts.password or "",
            "CONN_MAX_AGE": None,
        }},
        INSTALLED_APPS=[], USE_TZ=True, DEBUG=False,
    )
    django.setup()
    from asgiref.sync import sync_to_async
    from django.db import connections

    from apps.orm_django import Product

    async def open_() -> None:
        return None

    async def close(_state) -> None:
        await sync_to_async(connections.close_all)()

    def read(p) -> None:
        p.id, p.name, p.price, p.stock, p.active, p.category_id

    async def by_pk(_state, ids: list) -> None:
        aget = Product.objects.aget
        for i in ids:
            read(await aget(id=i))

    async def list50(_state, categories: list) -> None:
        for c in categories:
            async for p in Product.objects.filter(category_id=c):
                read(p)

    async def filter_slice(_state, prices: list) -> None:
        for x in prices:
            async for p in Product.objects.filter(active=True, price__gte=x).order_by("price", "id")[:10]:
                read(p)

    async def first(_state, categories: list) -> None:
        for c in categories:
            read(await Product.objects.filter(category_id=c).afirst())

    runs = {"by_pk": by_pk, "list50": list50, "filter_slice": filter_slice, "first": first}
    return {op: Case(op, "Django 5.2 async ORM (psycopg 3)", open_, runs[op], close) for op in OPERATIONS}


def tortoise_cases(url: str) -> dict[str, Case]:
    from tortoise import Tortoise

    from apps.orm_tortoise import Product

    async def open_() -> None:
        await Tortoise.init(db_url=url.replace("postgresql://", "postgres://", 1), modules={"models": ["apps.orm_tortoise"]})

    async def close(_state) -> None:
        await Tortoise.close_connections()

    async def by_pk(_state, ids: list) -> None:
        get = Product.get
        for i in ids:
            read_obj(await get(id=i))

    async def list50(_state, categories: list) -> None:
        for c in categories:
            for p in await Product.filter(category_id=c):
                read_obj(p)

    async def filter_slice(_state, prices: list) -> None:
        for x in prices:
            for p in await Product.filter(active=True, price__gte=x).order_by("price", "id").limit(10):
                read_obj(p)

    async def first(_state, categories: list) -> None:
        for c in categories:
            read_obj(await Product.filter(category_id=c).order_by("id").first())

    runs = {"by_pk": by_pk, "list50": list50, "filter_slice": filter_slice, "first": first}
    return {op: Case(op, "Tortoise ORM (asyncpg)", open_, runs[op], close) for op in OPERATIONS}


# -- running and reporting ---------------------------------------------------------


def operation_count(op: str, ops: int) -> int:
    """How many operations of ``op`` a run of ``ops`` does: list50 half, gather20 a tenth."""
    return ops // 2 if op == "list50" else ops // 10 if op == "gather20" else ops


def workloads(args) -> tuple[dict[str, list], dict[str, list]]:
    from decimal import Decimal

    rng = random.Random(12345)

    def draw(op: str, n: int) -> list:
        if op == "by_pk":
            return [rng.randint(1, CATEGORIES * PER_CATEGORY) for _ in range(n)]
        if op == "gather20":
            return [[rng.randint(1, CATEGORIES * PER_CATEGORY) for _ in range(GATHERED)] for _ in range(n)]
        if op in ("list50", "first", "count", "exists"):
            return [rng.randint(1, CATEGORIES) for _ in range(n)]
        return [Decimal(rng.randint(0, 99_000)) / 100 for _ in range(n)]

    return ({op: draw(op, operation_count(op, args.ops)) for op in COUNTED_OPERATIONS},
            {op: draw(op, operation_count(op, args.warmup)) for op in COUNTED_OPERATIONS})


async def main(args) -> None:
    url = f"{args.server.rstrip('/')}/{args.database}"
    probe = Database(url)
    server_version = (await probe.query_val("SELECT version()")).split(" on ")[0]
    count = await probe.query_val("SELECT count(*) FROM bench_product")
    await probe.close()
    if count != CATEGORIES * PER_CATEGORY:
        raise SystemExit(f"bench_product has {count} rows: run with --setup")

    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "n/a"
    print(f"machine: nproc {os.cpu_count()}, CPU: {db_bench.cpu_model()}, client affinity {affinity}, "
          f"load average at start {os.getloadavg()[0]:.2f}")
    libraries = db_bench.versions(("hyperdjango", "Django", "tortoise-orm", "asyncpg", "psycopg", "uvloop"))
    print(f"server: {server_version}; libraries: {libraries}")
    print(f"method: {args.ops} ops (list50: {args.ops // 2}) per case and round after {args.warmup} warm-up ops; "
          f"{args.rounds} rounds, cases interleaved; best round's wall time, lowest CPU time\n", flush=True)

    by_client = [raw_cases(url), orm_cases(url)]
    for name, make in (("Django", django_cases), ("Tortoise", tortoise_cases)):
        try:
            by_client.append(make(url))
        except ImportError as exc:
            print(f"{name} is not installed ({exc}): its cases are skipped", file=sys.stderr)
    work, warm = workloads(args)
    for r in range(args.rounds):
        for op in OPERATIONS:
            for cases in by_client:
                case = cases[op]
                case.results.append(await measure(case, work[op], warm[op]))
                wall, cpu = case.results[-1]
                print(f"  round {r + 1}: {op:<12} {case.name:<36} {wall * 1e3:8.1f} ms wall {cpu * 1e3:8.1f} ms CPU",
                      file=sys.stderr, flush=True)

    for op in OPERATIONS:
        n = len(work[op])
        cases = [c[op] for c in by_client]
        wall = {c.name: min(w for w, _ in c.results) for c in cases}
        cpu = {c.name: min(t for _, t in c.results) for c in cases}
        raw = cases[0].name
        print(f"## {op}: {n} operations, one at a time\n")
        rows = [(c.name, f"{wall[c.name] / n * 1e6:,.1f}", f"{wall[c.name] / wall[raw]:.2f}x",
                 f"{cpu[c.name] / n * 1e6:,.1f}", f"{cpu[c.name] / cpu[raw]:.2f}x") for c in cases]
        print(table(rows, ("client", "µs per op", "time vs raw", "client CPU µs per op", "CPU vs raw")))
        print()


# -- instructions per operation (callgrind) ------------------------------------------

COUNTED_CLIENTS = {"raw": raw_cases, "orm": orm_cases}


async def run_counted(args) -> None:
    """One client's operations, as the process callgrind counts: open, warm up, run, close."""
    op, client = args.run
    case = COUNTED_CLIENTS[client](f"{args.server.rstrip('/')}/{args.database}")[op]
    work, warm = workloads(args)
    state = await case.open()
    try:
        await case.run(state, warm[op])
        await case.run(state, work[op])
    finally:
        await case.close(state)


def instructions(args, op: str, client: str, ops: int) -> int:
    """Instructions valgrind counts for a client process doing ``ops`` operations of ``op``."""
    # A fixed hash seed, and bytecode already cached (the warm-up run): startup costs the same each time.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    command = [__file__, "--server", args.server, "--database", args.database, "--run", op, client,
               "--ops", str(ops), "--warmup", str(args.warmup)]
    subprocess.run([sys.executable, *command[:-4], "--ops", "1", "--warmup", "1"], env=env, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, *command],
                             capture_output=True, text=True, check=True, env=env)
        return int(re.search(r"Collected : (\d+)", run.stderr).group(1))


def count_instructions(args) -> None:
    """Instructions per operation, raw and ORM, and their ratio (issue 11's ≤ 1.15x)."""
    print(f"instructions per operation (callgrind, {2 * args.ops} minus {args.ops} operations; list50: half as many; "
          f"gather20: a tenth as many gathers of {GATHERED} fetches)\n")
    rows = []
    for op in args.operations:
        n = operation_count(op, args.ops)
        per_op = {client: (instructions(args, op, client, 2 * args.ops) - instructions(args, op, client, args.ops)) / n
                  for client in COUNTED_CLIENTS}
        rows.append((op, f"{per_op['raw']:,.0f}", f"{per_op['orm']:,.0f}", f"{per_op['orm'] / per_op['raw']:.2f}x"))
        print(f"  {op}: {rows[-1][1:]}", file=sys.stderr, flush=True)
    print(table(rows, ("operation", "raw db.query", "ORM", "ORM vs raw")))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    db_bench.server_arguments(p, "hd_orm_bench")
    p.add_argument("--setup", action="store_true", help="(re)create the database, its tables and rows first")
    p.add_argument("--drop", action="store_true", help="drop the database at the end")
    p.add_argument("--ops", type=int, default=2000, help="operations per case and round (list50 does half)")
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                   help="first wait up to SECONDS for the machine to be quiet")
    p.add_argument("--instructions", action="store_true", help="count instructions per operation with callgrind")
    p.add_argument("--operations", nargs="+", choices=COUNTED_OPERATIONS, default=OPERATIONS,
                   help="with --instructions: these only (gather20 is counted only when named)")
    p.add_argument("--run", nargs=2, metavar=("OPERATION", "CLIENT"), help=argparse.SUPPRESS)  # one counted process
    return p.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    if shutil.which("psql") is None and (args.setup or args.drop):
        raise SystemExit("--setup and --drop need psql")
    url = f"{args.server.rstrip('/')}/{args.database}"
    if args.setup:
        db_bench.drop_database(args.server, args.database)
        db_bench.psql(args.server, "postgres", "-c", f'CREATE DATABASE "{args.database}"')
        uvloop.run(setup(url))
    if args.run:
        uvloop.run(run_counted(args))
        raise SystemExit
    if args.wait_idle:
        db_bench.wait_idle(args.wait_idle)
    if args.instructions:
        try:
            count_instructions(args)
        finally:
            if args.drop:
                db_bench.drop_database(args.server, args.database)
        raise SystemExit
    try:
        uvloop.run(main(args))
    finally:
        if args.drop:
            db_bench.drop_database(args.server, args.database)
