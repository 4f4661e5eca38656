#!/usr/bin/env python3
"""Client instructions per statement of the database driver and its loop bridge (issue 19).

Runs a client under valgrind's callgrind twice (``--batches`` and twice as many, after the
same warm-up); the difference divided by the extra statements is what one more statement
costs in the client process, every thread included (the engine's tokio thread too; the
PostgreSQL server is another process and is not counted). Instruction counts do not depend
on how busy the machine is.

Modes, each ``db.query_one("SELECT id, randomnumber FROM world WHERE id = $1", i)``:
- ``gather``: ``asyncio.gather`` of 20 (TechEmpower queries×20);
- ``sequential``: awaited one at a time;
and the same through the ORM, each ``World.objects.get(id=i)`` (the TechEmpower app's):
- ``orm-gather``, ``orm-sequential``;
- ``orm-update``: ``orm-gather``, then ``World.objects.bulk_update`` of the 20 rows read
  (TechEmpower updates×20): what it costs more than ``orm-gather``, times 20, is one
  ``bulk_update`` of 20 rows;
- ``orm-bulk-update``: ``World.objects.bulk_update`` of 20 rows read once, nothing else, so
  its number is one ``bulk_update`` of 20 rows (not per statement; steadier than
  ``orm-update``'s difference, which carries the gets' spread times 20).

``--handles`` runs each mode once, outside callgrind, and counts what asyncio makes per
statement: handles scheduled (``call_soon``, ``call_later``...) and Tasks created.

    .venv/bin/python benchmarks/db_statement_cost.py --setup      # once: the world table
    .venv/bin/python benchmarks/db_statement_cost.py [--batches 100] [--modes gather sequential]

``--profile DIR`` keeps the callgrind files (for ``callgrind_annotate --inclusive=yes``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile

import db_bench

WIDTH = 20
MODES = ("gather", "sequential", "orm-gather", "orm-sequential", "orm-update", "orm-bulk-update")


def world_model(db):
    """The TechEmpower app's ``World`` model, on ``db``."""
    from hyperdjango import Model
    from hyperdjango.database import set_default_database

    set_default_database(db)

    class World(Model):
        class Meta:
            table = "world"

        randomnumber: int = 0

    return World


async def run(url: str, mode: str, batches: int, warmup: int, counts: dict[str, int] | None = None) -> None:
    from hyperdjango.database import Database

    db = Database(url)
    await db.connect()
    if mode.startswith("orm-"):
        world = world_model(db)
        get = world.objects.get

        def fetch(i: int):
            return get(id=i)
    else:
        query_one, sql = db.query_one, db_bench.SELECT_WORLD

        def fetch(i: int):
            return query_one(sql, i)

    read: list = []

    async def one_batch(start: int) -> None:
        ids = [(start + i) % db_bench.WORLD_ROWS + 1 for i in range(WIDTH)]
        if mode == "orm-bulk-update":
            if not read:
                read.extend(sorted(await asyncio.gather(*(fetch(i) for i in ids)), key=lambda w: w.id))
            for row in read:
                row.randomnumber = row.randomnumber % 10000 + 1
            await world.objects.bulk_update(read, ["randomnumber"])
            return
        if mode in ("sequential", "orm-sequential"):
            rows = [await fetch(i) for i in ids]
        else:
            rows = await asyncio.gather(*(fetch(i) for i in ids))
        assert all(row is not None for row in rows), "the world table lacks rows: run --setup"
        if mode == "orm-update":
            for row in rows:
                row.randomnumber = row.randomnumber % 10000 + 1
            await world.objects.bulk_update(sorted(rows, key=lambda w: w.id), ["randomnumber"])

    try:
        for n in range(warmup):
            await one_batch(n * WIDTH)
        if counts is not None:
            count_handles(asyncio.get_running_loop(), counts)
        for n in range(batches):
            await one_batch(n * WIDTH)
        if counts is not None:
            uncount_handles(asyncio.get_running_loop())
    finally:
        await db.close()


def count_handles(loop: asyncio.AbstractEventLoop, counts: dict[str, int]) -> None:
    """Counts, into ``counts``, every handle ``loop`` schedules and every Task it creates."""
    for name in ("call_soon", "call_later", "call_at"):
        method = getattr(loop, name)

        def counted(*args, _method=method, _name=name, **kwargs):
            counts[_name] = counts.get(_name, 0) + 1
            return _method(*args, **kwargs)

        setattr(loop, name, counted)

    def task_factory(loop, coro, **kwargs):
        counts["tasks"] = counts.get("tasks", 0) + 1
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(task_factory)


def uncount_handles(loop: asyncio.AbstractEventLoop) -> None:
    for name in ("call_soon", "call_later", "call_at"):
        vars(loop).pop(name, None)
    loop.set_task_factory(None)


def handles(url: str, mode: str, batches: int, warmup: int) -> str:
    """asyncio handles and Tasks per statement of ``mode`` (plain asyncio; ``call_soon`` from
    inside the loop: a Task's wake-ups and steps, the bridge's flush; the bridge's own
    ``add_reader`` callback is the selector's and not counted)."""
    counts: dict[str, int] = {}
    asyncio.run(run(url, mode, batches, warmup, counts))
    statements = batches * WIDTH
    return ", ".join(f"{name} {n / statements:.2f}" for name, n in sorted(counts.items())) or "none"


def instructions(args, mode: str, batches: int, profile: str | None) -> int:
    """Instructions callgrind counts for a client process running ``batches`` batches."""
    # A fixed hash seed, and bytecode already cached (a run before): startup costs the same each time.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    command = [__file__, "--server", args.server, "--database", args.database, "--child", mode,
               "--warmup", str(args.warmup), "--loop", args.loop]
    subprocess.run([sys.executable, *command, "--batches", "1"], env=env, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(profile or tmp, f"callgrind.{mode}.{batches}")
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                              *command, "--batches", str(batches)], capture_output=True, text=True, check=True, env=env)
        return int(re.search(r"Collected : (\d+)", run.stderr).group(1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    db_bench.server_arguments(p, "hd_statement_cost")
    p.add_argument("--setup", action="store_true", help="(re)create the database and its world table")
    p.add_argument("--batches", type=int, default=100, help="batches of 20 statements (the second run: twice as many)")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    p.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    p.add_argument("--profile", metavar="DIR", help="keep the callgrind output files in DIR")
    p.add_argument("--handles", action="store_true", help="count asyncio handles and Tasks per statement instead")
    p.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = p.parse_args()
    url = f"{args.server.rstrip('/')}/{args.database}"
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
    if args.setup:
        db_bench.setup_database(args.server, args.database, None)
    if args.child:
        if args.loop == "uvloop":
            import uvloop

            uvloop.run(run(url, args.child, args.batches, args.warmup))
        else:
            asyncio.run(run(url, args.child, args.batches, args.warmup))
        return
    if args.handles:
        print(f"asyncio handles and Tasks per statement ({args.batches} batches of {WIDTH}, asyncio)")
        for mode in args.modes:
            print(f"  {mode}: {handles(url, mode, args.batches, args.warmup)}", flush=True)
        return
    print(f"client instructions per statement (callgrind, {2 * args.batches} minus {args.batches} batches of {WIDTH}, "
          f"{args.loop})")
    for mode in args.modes:
        low = instructions(args, mode, args.batches, args.profile)
        high = instructions(args, mode, 2 * args.batches, args.profile)
        per = "bulk_update of 20 rows" if mode == "orm-bulk-update" else "statement"
        print(f"  {mode}: {(high - low) / (args.batches * (1 if mode == 'orm-bulk-update' else WIDTH)):,.0f} a {per}", flush=True)


if __name__ == "__main__":
    main()
