"""Instructions one ORM ``get(pk=...)`` costs on SQLite, counted by callgrind.

The client process (every thread: the SQLite driver's threads too) runs ``--ops`` and then
twice as many gets after the same warm-up; the difference divided by ``--ops`` is what one
more get costs, startup and warm-up cancelled out. A model of eight columns of the usual
types (integer key, text, decimal, integer, boolean, nullable text, datetime, foreign key).

    .venv/bin/python benchmarks/sqlite_get_cost.py [--ops 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import re
import subprocess
import sys
import tempfile
from decimal import Decimal

ROWS = 100


def models():
    from hyperdjango import Field, Model

    class Shelf(Model):
        name: str = Field(max_length=50)

    class Item(Model):
        name: str = Field(max_length=100)
        price: Decimal = Field(max_digits=8, decimal_places=2)
        stock: int = 0
        active: bool = True
        note: str | None = None
        added: datetime.datetime = Field()
        shelf_id: int = Field(foreign_key=Shelf, on_delete="CASCADE")

    return Shelf, Item


async def setup(path: str) -> None:
    from hyperdjango.database import Database

    Shelf, Item = models()
    db = Database(f"sqlite:///{path}")
    await db.create_tables(Shelf, Item)
    shelf = await Shelf.objects.using(db).create(name="s")
    when = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    await Item.objects.using(db).bulk_create(
        Item(name=f"item {i}", price=Decimal("1.50") + i, stock=i, note=None if i % 2 else "n", added=when, shelf_id=shelf.pk)
        for i in range(ROWS))
    await db.close()


async def gets(path: str, ops: int, warmup: int) -> None:
    from hyperdjango.database import Database

    _, Item = models()
    db = Database(f"sqlite:///{path}")
    items = Item.objects.using(db)
    for i in range(warmup):
        await items.get(id=1 + i % ROWS)
    for i in range(ops):
        await items.get(id=1 + i % ROWS)
    await db.close()


def instructions(path: str, ops: int, warmup: int) -> int:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    command = [sys.executable, __file__, "--run", path, "--ops", str(ops), "--warmup", str(warmup)]
    subprocess.run(command[:-4] + ["--ops", "1", "--warmup", "1"], env=env, check=True)  # bytecode cached
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *command],
                             capture_output=True, text=True, check=True, env=env)
        return int(re.search(r"Collected : (\d+)", run.stderr).group(1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ops", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--run", metavar="PATH", help=argparse.SUPPRESS)  # one counted process
    args = p.parse_args()
    if args.run:
        asyncio.run(gets(args.run, args.ops, args.warmup))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "items.sqlite3")
        asyncio.run(setup(path))
        per_get = (instructions(path, 2 * args.ops, args.warmup) - instructions(path, args.ops, args.warmup)) / args.ops
    print(f"ORM get(id=...) on SQLite: {per_get:,.0f} instructions per get (callgrind, {2 * args.ops} minus {args.ops} gets)")


if __name__ == "__main__":
    main()
