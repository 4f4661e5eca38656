"""bulk_create on PostgreSQL: binary COPY against multi-row INSERTs and row-by-row INSERTs,
measured in one run (issue 11: COPY ≥ 10x).

Three ways to store the same ``--rows`` new products (keys generated, so each object
gets its key back), each into an empty table, interleaved within a round:

1. ``copy``: ``Product.objects.bulk_create(objs)`` as it is (COPY from 1000 rows on).
2. ``insert``: the same call with COPY switched off (``bulk_copy.COPY_MIN_ROWS`` raised):
   multi-row ``INSERT ... VALUES ... RETURNING id`` statements, as many rows each as
   PostgreSQL's 65535 parameters allow.
3. ``row_by_row``: ``Product.objects.create(...)`` once per object (one INSERT each).

Then the crossover: ``copy`` against ``insert`` for small counts, which sets
``COPY_MIN_ROWS``. Reported per way: the best round's wall time and client CPU time,
and both as a ratio to ``copy``. On a busy shared machine wall times are noisy; the
ratios of cases interleaved in the same run are what to read.

    .venv/bin/python benchmarks/bulk_create_bench.py --setup --drop
"""

from __future__ import annotations

import argparse
import os
import time
from decimal import Decimal

import uvloop

import db_bench
from db_bench import table

from hyperdjango.database import Database
from hyperdjango.orm import bulk_copy


async def setup(url: str) -> None:
    from apps.orm_hyperdjango import Category, Product

    db = Database(url)
    await db.connect()
    try:
        await db.create_tables(Category, Product)
        await db.execute("INSERT INTO bench_category (name) VALUES ('all')")
    finally:
        await db.close()


def products(n: int) -> list:
    from apps.orm_hyperdjango import Product

    return [Product(name=f"product {i}", price=Decimal(i % 100_000) / 100, stock=i % 97, active=i % 7 != 0, category_id=1)
            for i in range(n)]


async def copy(n: int) -> None:
    from apps.orm_hyperdjango import Product

    objs = await Product.objects.bulk_create(products(n))
    assert objs[-1].pk is not None


async def insert(n: int) -> None:
    from apps.orm_hyperdjango import Product

    saved, bulk_copy.COPY_MIN_ROWS = bulk_copy.COPY_MIN_ROWS, 1 << 62
    try:
        objs = await Product.objects.bulk_create(products(n))
    finally:
        bulk_copy.COPY_MIN_ROWS = saved
    assert objs[-1].pk is not None


async def row_by_row(n: int) -> None:
    from apps.orm_hyperdjango import Product

    create = Product.objects.create
    for obj in products(n):
        await create(name=obj.name, price=obj.price, stock=obj.stock, active=obj.active, category_id=1)


async def timed(db: Database, way, n: int) -> tuple[float, float]:
    await db.execute("TRUNCATE bench_product")
    wall, cpu = time.perf_counter(), time.process_time()
    await way(n)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stored = await db.query_val("SELECT count(*) FROM bench_product")
    assert stored == n, (way.__name__, stored, n)
    return wall, cpu


async def compare(db: Database, ways: list, n: int, rounds: int) -> None:
    best = {way.__name__: (float("inf"), float("inf")) for way in ways}
    for _ in range(rounds):
        for way in ways:
            wall, cpu = await timed(db, way, n)
            old = best[way.__name__]
            best[way.__name__] = (min(old[0], wall), min(old[1], cpu))
    base_wall, base_cpu = best["copy"]
    rows = [(name, f"{wall * 1e3:,.1f}", f"{wall / base_wall:.2f}x", f"{cpu * 1e3:,.1f}", f"{cpu / base_cpu:.2f}x")
            for name, (wall, cpu) in best.items()]
    print(f"## {n:,} rows, best of {rounds} rounds\n")
    print(table(rows, ("way", "wall ms", "wall vs copy", "client CPU ms", "CPU vs copy")))
    print(flush=True)


async def main(args) -> None:
    from hyperdjango.database import set_default_database

    url = f"{args.server.rstrip('/')}/{args.database}"
    db = Database(url)
    await db.connect()
    set_default_database(db)
    server_version = (await db.query_val("SELECT version()")).split(" on ")[0]
    print(f"server: {server_version}; client CPU: {db_bench.cpu_model()}; load average at start {os.getloadavg()[0]:.2f}\n")
    try:
        await compare(db, [copy, insert, row_by_row], args.rows, args.rounds)
        for n in args.crossover:
            await compare(db, [copy, insert], n, args.rounds)
    finally:
        await db.execute("TRUNCATE bench_product")
        await db.close()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    db_bench.server_arguments(p, "hd_bulk_bench")
    p.add_argument("--setup", action="store_true", help="(re)create the database and its tables first")
    p.add_argument("--drop", action="store_true", help="drop the database at the end")
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--crossover", type=int, nargs="*", default=[200, 500, 1000, 2000])
    return p.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    if args.setup:
        db_bench.drop_database(args.server, args.database)
        db_bench.psql(args.server, "postgres", "-c", f'CREATE DATABASE "{args.database}"')
        uvloop.run(setup(f"{args.server.rstrip('/')}/{args.database}"))
    try:
        uvloop.run(main(args))
    finally:
        if args.drop:
            db_bench.drop_database(args.server, args.database)
