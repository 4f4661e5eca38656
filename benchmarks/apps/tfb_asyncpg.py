"""The database workloads written with asyncpg and Jinja2, as the fastest Python peers do
(TFB's Granian, FastAPI and Robyn entries): the apps of Granian RSGI, FastAPI and Robyn
share it, so they differ only in their server and framework. ``$DATABASE_URL``.

The pool opens on the first request (each server has its own way of running start-up
code, and the harness warms every workload up before measuring)."""

import asyncio
import os
from pathlib import Path

import asyncpg
import jinja2
import orjson

from tfb import EXTRA_FORTUNE, random_ids, random_number

POOL_SIZE = 8
READ_WORLD = "SELECT id, randomnumber FROM world WHERE id = $1"
WRITE_WORLD = "UPDATE world SET randomnumber = $1 WHERE id = $2"
FORTUNES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
).get_template("fortunes.html")

_pool: asyncpg.Pool | None = None
_opening = asyncio.Lock()


async def pool() -> asyncpg.Pool:
    global _pool
    if _pool is None:
        async with _opening:
            if _pool is None:
                _pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=POOL_SIZE, max_size=POOL_SIZE)
    return _pool


def _worlds(rows) -> list[dict]:
    return [{"id": row[0], "randomNumber": row[1]} for row in rows]


async def db() -> bytes:
    async with (await pool()).acquire() as conn:
        row = await conn.fetchrow(READ_WORLD, random_ids(1)[0])
    return orjson.dumps({"id": row[0], "randomNumber": row[1]})


async def _read(conn, count: int) -> list[dict]:
    # asyncpg's batched execution: the statements leave in one write with one Sync.
    return _worlds(await conn.fetchmany(READ_WORLD, [(i,) for i in random_ids(count)]))


async def queries(count: int) -> bytes:
    async with (await pool()).acquire() as conn:
        return orjson.dumps(await _read(conn, count))


async def updates(count: int) -> bytes:
    async with (await pool()).acquire() as conn:
        worlds = await _read(conn, count)
        for world in worlds:
            world["randomNumber"] = random_number()
        # Sorted by id: concurrent requests lock rows in one order (no deadlock).
        await conn.executemany(WRITE_WORLD, [(w["randomNumber"], w["id"]) for w in sorted(worlds, key=lambda w: w["id"])])
    return orjson.dumps(worlds)


async def fortunes() -> str:
    async with (await pool()).acquire() as conn:
        rows = await conn.fetch("SELECT id, message FROM fortune")
    fortunes = [(row[0], row[1]) for row in rows]
    fortunes.append((0, EXTRA_FORTUNE))
    fortunes.sort(key=lambda f: f[1])
    return FORTUNES.render(fortunes=[{"id": i, "message": m} for i, m in fortunes])
