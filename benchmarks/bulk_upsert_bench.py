"""``bulk_create(update_conflicts=True)`` of many rows on PostgreSQL: the multi-row
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` it runs, against binary COPY into a
temporary table followed by ``INSERT ... SELECT ... ON CONFLICT DO UPDATE ... RETURNING``
(the only way COPY can take part in an upsert). Half the rows conflict.

Each round, both ways run interleaved on the same table refilled the same way; wall time
and client CPU (this process, every thread) per way, best of ``--rounds``.

    .venv/bin/python benchmarks/bulk_upsert_bench.py [--url postgres://...] [--rows 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from hyperdjango import Field, Model
from hyperdjango.database import Database, atomic


class UpsertRow(Model):
    class Meta:
        table = "bench_upsert"

    name: str = Field(max_length=50, unique=True)
    uses: int = 0


UPSERT = 'ON CONFLICT("name") DO UPDATE SET "uses" = EXCLUDED."uses" RETURNING "id"'


async def by_insert(db: Database, rows: int) -> None:
    await UpsertRow.objects.using(db).bulk_create([UpsertRow(name=f"n{i}", uses=2) for i in range(rows)],
                                                  update_conflicts=True, unique_fields=["name"], update_fields=["uses"])


async def by_copy(db: Database, rows: int) -> None:
    objs = [UpsertRow(name=f"n{i}", uses=2) for i in range(rows)]
    async with atomic(db):
        await db.execute("CREATE TEMP TABLE bench_upsert_in (ord int, name varchar(50), uses int) ON COMMIT DROP")
        await db.copy_in("bench_upsert_in", ["ord", "name", "uses"], [(i, *o.clean(o._meta.fields[1:])) for i, o in enumerate(objs)])
        keys = await db.query(f'INSERT INTO bench_upsert ("name", "uses") SELECT name, uses FROM bench_upsert_in ORDER BY ord {UPSERT}')
    for obj, (key,) in zip(objs, keys):
        obj.__dict__["id"] = key


async def refill(db: Database, rows: int) -> None:
    await db.execute("TRUNCATE bench_upsert RESTART IDENTITY")
    await UpsertRow.objects.using(db).bulk_create([UpsertRow(name=f"n{i}", uses=1) for i in range(0, rows, 2)])


async def main(args) -> None:
    db = Database(args.url)
    await db.drop_tables(UpsertRow)
    await db.create_tables(UpsertRow)
    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.rounds):
        for name, way in (("insert on conflict", by_insert), ("copy + insert select", by_copy)):
            await refill(db, args.rows)
            wall, cpu = time.perf_counter(), time.process_time()
            await way(db, args.rows)
            took = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
            assert await db.query_one("SELECT count(*) FROM bench_upsert WHERE uses = 2") == (args.rows,)
            best[name] = min(best.get(name, took), took)
    await db.drop_tables(UpsertRow)
    await db.close()
    base = best["insert on conflict"]
    print(f"{args.rows:,} rows, half conflicting, best of {args.rounds} (load average {os.getloadavg()[0]:.1f})\n")
    print("| way                  | wall ms | vs insert | client CPU ms | vs insert |")
    print("|----------------------|--------:|----------:|--------------:|----------:|")
    for name, (wall, cpu) in best.items():
        print(f"| {name:<20} | {wall:7.1f} | {wall / base[0]:8.2f}x | {cpu:13.1f} | {cpu / base[1]:8.2f}x |")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(p.parse_args()))
