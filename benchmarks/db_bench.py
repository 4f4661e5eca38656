"""Database client overhead: hyperdjango against asyncpg and psycopg 3, same server, one run.

Measures, on uvloop, against one PostgreSQL server:

1. Pipelining (hyperdjango only), the spec's example: 20 x ``SELECT $1::int``
   awaited one by one, sent with ``db.pipeline([...])``, and as
   ``asyncio.gather`` of 20 ``db.query(...)``. Mean time per batch of 20.
2. Single-row select latency: ``SELECT id, randomnumber FROM world WHERE id = $1``
   on the 10,000-row TechEmpower ``world`` table, awaited one by one with random
   ids; µs per query.
3. The same select from 16 concurrent tasks: throughput (queries/s).

Each case reports wall time and the client process's CPU time (every thread,
hyperdjango's tokio thread included): on a small VM, wall time is dominated by
how fast threads get woken up, CPU time by what the library itself costs.
``pgbench`` (C, libpq, prepared), when installed, runs the same select as a
reference for the machine.

Every case reads both columns of the row it gets (as a TechEmpower handler
does). Each case is opened fresh in each round (pool, connections), warmed up,
then timed over a fixed number of iterations; there are ``--rounds`` rounds
(3 by default), the cases interleaved within a round, and the best round counts.

Setup (once): ``--setup`` creates the database with ``psql`` and loads the
``world`` table (from ``--schema``, the TechEmpower schema file, or the same
DDL built in); ``--drop`` drops it at the end.

Run (the client pinned to one core; PostgreSQL runs on every core):

    taskset -c 0 .venv/bin/python benchmarks/db_bench.py --setup --drop

Needs the ``bench`` extra: ``pip install -e '.[bench]'`` (asyncpg, psycopg[binary], psycopg-pool).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import metadata
from urllib.parse import urlsplit

import uvloop

from hyperdjango.database import Database

SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = $1"
SELECT_WORLD_PSYCOPG = "SELECT id, randomnumber FROM world WHERE id = %s"
SELECT_INT = "SELECT $1::int"
BATCH = 20
WORLD_ROWS = 10_000

# The world table of the TechEmpower schema (/work/shared/data/tfb-schema.sql), used
# when no --schema file is given.
WORLD_DDL = """
CREATE TABLE world (
  id           integer NOT NULL PRIMARY KEY,
  randomnumber integer NOT NULL DEFAULT 0
);
INSERT INTO world (id, randomnumber)
SELECT x, least(floor(random() * 10000 + 1), 10000)::integer
FROM generate_series(1, 10000) AS x;
ANALYZE world;
"""
DEFAULT_SCHEMA = "/work/shared/data/tfb-schema.sql"


# -- setup -----------------------------------------------------------------------


def psql(server_url: str, database: str, *args: str) -> str:
    parts = urlsplit(server_url)
    cmd = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", parts.hostname or "127.0.0.1",
           "-p", str(parts.port or 5432), "-U", parts.username or "postgres", "-d", database, *args]
    env = {**os.environ, **({"PGPASSWORD": parts.password} if parts.password else {})}
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def setup_database(server_url: str, name: str, schema: str | None) -> None:
    psql(server_url, "postgres", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(server_url, "postgres", "-c", f'CREATE DATABASE "{name}"')
    if schema:
        psql(server_url, name, "-f", schema)
    else:
        psql(server_url, name, "-c", WORLD_DDL)


def cpu_busy(interval: float = 2.0) -> float:
    """Fraction of all CPUs busy over ``interval`` seconds (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values), idle

    total0, idle0 = sample()
    time.sleep(interval)
    total1, idle1 = sample()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def wait_idle(limit: float, threshold: float = 0.15, quiet_for: float = 10.0) -> None:
    """Waits (at most ``limit`` seconds) until the machine has been quiet for ``quiet_for``
    seconds in a row: another benchmark running at the same time would distort every figure."""
    deadline = time.monotonic() + limit
    quiet_since = None
    while True:
        busy = cpu_busy()
        now = time.monotonic()
        if busy < threshold:
            quiet_since = quiet_since or now - 2.0
            if now - quiet_since >= quiet_for:
                return
            continue
        quiet_since = None
        if now > deadline:
            print(f"machine still busy ({busy:.0%} CPU) after {limit:.0f} s: measuring anyway", file=sys.stderr)
            return
        print(f"waiting for a quiet machine ({busy:.0%} CPU busy)", file=sys.stderr, flush=True)
        time.sleep(5)


def drop_database(server_url: str, name: str) -> None:
    psql(server_url, "postgres", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- cases -----------------------------------------------------------------------
#
# A case is opened, warmed up, timed, closed. ``run(ids)`` performs len(ids)
# operations and must read what it fetched.


@dataclass
class Case:
    group: str  # "pipeline", "single", "concurrent"
    name: str
    open: Callable[[], Awaitable[object]]  # returns a state passed to run/close
    run: Callable[[object, list[int]], Awaitable[None]]
    close: Callable[[object], Awaitable[None]]
    check: Callable[[object], Awaitable[None]] | None = None
    results: list[tuple[float, float]] = field(default_factory=list)  # (wall, client CPU) seconds per round
    #: measures itself (an external client): returns (wall, CPU) seconds for the ids
    external: Callable[[list[int]], tuple[float, float]] | None = None


# hyperdjango -------------------------------------------------------------------


def hd_open(url: str) -> Callable[[], Awaitable[Database]]:
    async def open_() -> Database:
        db = Database(url)
        await db.connect()
        return db

    return open_


async def hd_close(db: Database) -> None:
    await db.close()


async def hd_check(db: Database) -> None:
    row = await db.query_one(SELECT_WORLD, 42)
    assert row is not None and row[0] == 42 and row["id"] == 42, row
    assert (await db.query(SELECT_INT, 7))[0][0] == 7
    results = await db.pipeline([(SELECT_INT, (i,)) for i in range(BATCH)])
    assert [r[0][0] for r in results] == list(range(BATCH)), results


async def hd_batch_sequential(db: Database, batches: list[int]) -> None:
    query = db.query
    for _ in batches:
        for i in range(BATCH):
            rows = await query(SELECT_INT, i)
            rows[0][0]


async def hd_batch_pipeline(db: Database, batches: list[int]) -> None:
    pipeline = db.pipeline
    for _ in batches:
        results = await pipeline([(SELECT_INT, (i,)) for i in range(BATCH)])
        results[-1][0][0]


async def hd_batch_gather(db: Database, batches: list[int]) -> None:
    query = db.query
    gather = asyncio.gather
    for _ in batches:
        results = await gather(*[query(SELECT_INT, i) for i in range(BATCH)])
        results[-1][0][0]


async def hd_single(db: Database, ids: list[int]) -> None:
    query_one = db.query_one
    for i in ids:
        row = await query_one(SELECT_WORLD, i)
        row[0], row[1]


# asyncpg -------------------------------------------------------------------------


def apg_open(dsn: str, **pool_kwargs) -> Callable[[], Awaitable[object]]:
    async def open_():
        import asyncpg

        return await asyncpg.create_pool(dsn, **pool_kwargs)

    return open_


async def apg_close(pool) -> None:
    await pool.close()


async def apg_check(pool) -> None:
    row = await pool.fetchrow(SELECT_WORLD, 42)
    assert row[0] == 42, row


async def apg_single_acquired(pool, ids: list[int]) -> None:
    """One connection acquired for the whole run: no acquire/release per query."""
    async with pool.acquire() as con:
        fetchrow = con.fetchrow
        for i in ids:
            row = await fetchrow(SELECT_WORLD, i)
            row[0], row[1]


async def apg_single_pool(pool, ids: list[int]) -> None:
    """``pool.fetchrow``: acquire + query + release (and the release's reset) per query."""
    fetchrow = pool.fetchrow
    for i in ids:
        row = await fetchrow(SELECT_WORLD, i)
        row[0], row[1]


def no_reset_connection_class():
    """An asyncpg connection whose pool release sends no reset query (TechEmpower's setting)."""
    import asyncpg

    class NoResetConnection(asyncpg.Connection):
        __slots__ = ()

        def get_reset_query(self):  # asyncpg >= 0.29
            return ""

        def _get_reset_query(self):  # older asyncpg
            return ""

    return NoResetConnection


# psycopg 3 -----------------------------------------------------------------------


def pg_conn_open(dsn: str) -> Callable[[], Awaitable[object]]:
    async def open_():
        import psycopg

        return await psycopg.AsyncConnection.connect(dsn, autocommit=True)

    return open_


async def pg_conn_close(conn) -> None:
    await conn.close()


async def pg_conn_check(conn) -> None:
    cur = await conn.execute(SELECT_WORLD_PSYCOPG, (42,))
    assert (await cur.fetchone())[0] == 42


async def pg_single_conn(conn, ids: list[int]) -> None:
    execute = conn.execute
    for i in ids:
        cur = await execute(SELECT_WORLD_PSYCOPG, (i,))
        row = await cur.fetchone()
        row[0], row[1]


def pg_pool_open(dsn: str, size: int) -> Callable[[], Awaitable[object]]:
    async def open_():
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(dsn, min_size=size, max_size=size, kwargs={"autocommit": True}, open=False)
        await pool.open(wait=True)
        return pool

    return open_


async def pg_pool_close(pool) -> None:
    await pool.close()


async def pg_pool_check(pool) -> None:
    async with pool.connection() as conn:
        cur = await conn.execute(SELECT_WORLD_PSYCOPG, (42,))
        assert (await cur.fetchone())[0] == 42


async def pg_single_pool(pool, ids: list[int]) -> None:
    """``pool.connection()`` per query: getconn + query + putconn."""
    connection = pool.connection
    for i in ids:
        async with connection() as conn:
            cur = await conn.execute(SELECT_WORLD_PSYCOPG, (i,))
            row = await cur.fetchone()
        row[0], row[1]


async def pg_single_pool_acquired(pool, ids: list[int]) -> None:
    async with pool.connection() as conn:
        await pg_single_conn(conn, ids)


# pgbench: the C floor ------------------------------------------------------------

PGBENCH_SCRIPT = "\\set id random(1, 10000)\nSELECT id, randomnumber FROM world WHERE id = :id;\n"


def pgbench(server_url: str, database: str, clients: int) -> Callable[[list[int]], tuple[float, float]]:
    """pgbench (libpq, prepared statements, one thread) running the same select: the floor
    of this machine and server. Its CPU is the child's rusage; its wall time is what it
    reports without connection setup. It draws its own random ids."""

    def run(ids: list[int]) -> tuple[float, float]:
        import re
        import resource
        import tempfile

        parts = urlsplit(server_url)
        with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
            script.write(PGBENCH_SCRIPT)
            script.flush()
            per_client = max(1, len(ids) // clients)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run(
                ["pgbench", "-n", "-M", "prepared", "-f", script.name, "-c", str(clients), "-j", "1",
                 "-t", str(per_client), "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
                 "-U", parts.username or "postgres", database],
                check=True, capture_output=True, text=True,
                env={**os.environ, **({"PGPASSWORD": parts.password} if parts.password else {})},
            ).stdout
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        tps = float(re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out).group(1))
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        total = per_client * clients
        return len(ids) / tps, cpu * len(ids) / total

    return run


async def _nothing(*_args) -> None:
    return None


# concurrency ---------------------------------------------------------------------


def concurrently(run: Callable[[object, list[int]], Awaitable[None]], tasks: int):
    """Splits the ids among ``tasks`` tasks, each running ``run`` on its share."""

    async def run_all(state, ids: list[int]) -> None:
        shares = [ids[k::tasks] for k in range(tasks)]
        await asyncio.gather(*[run(state, share) for share in shares])

    return run_all


# -- measuring ---------------------------------------------------------------------


async def measure(case: Case, ids: list[int], warmup: list[int]) -> tuple[float, float]:
    """(wall, client CPU) seconds for running ``ids`` after a warm-up. CPU is the whole
    client process (every thread: hyperdjango's tokio thread included)."""
    if case.external is not None:
        case.external(warmup)
        return case.external(ids)
    state = await case.open()
    try:
        if case.check is not None:
            await case.check(state)
        await case.run(state, warmup)
        gc.collect()
        gc.disable()
        try:
            cpu0, start = time.process_time(), time.perf_counter()
            await case.run(state, ids)
            return time.perf_counter() - start, time.process_time() - cpu0
        finally:
            gc.enable()
    finally:
        await case.close(state)


def versions(dists=("hyperdjango", "asyncpg", "psycopg", "psycopg-binary", "psycopg-pool", "uvloop")) -> str:
    out = []
    for dist in dists:
        try:
            out.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            out.append(f"{dist} (not installed)")
    return ", ".join(out)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def header(args, server_version: str) -> str:
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "n/a"
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("n/a",)
    lines = [
        f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"machine: {platform.node()}, {platform.system()} {platform.release()}, nproc {os.cpu_count()}, CPU: {cpu_model()}",
        f"python: {platform.python_implementation()} {platform.python_version()}, loop: uvloop",
        f"client CPU affinity: {affinity} (PostgreSQL is not pinned: it runs on every core)",
        f"load average at start: {', '.join(f'{x:.2f}' for x in load)}",
        f"server: {server_version} at {urlsplit(args.server).hostname}:{urlsplit(args.server).port or 5432}, database {args.database}",
        f"libraries: {versions()}",
        f"method: each case opened fresh per round, {args.warmup} warm-up ops, then timed; "
        f"{args.rounds} rounds, cases interleaved; the best round's wall time and the lowest client CPU time are reported",
    ]
    return "\n".join(lines)


def table(rows: list[tuple[str, ...]], titles: tuple[str, ...]) -> str:
    widths = [max(len(r[i]) for r in [titles, *rows]) for i in range(len(titles))]
    fmt = lambda r: "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |"
    sep = "|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt(titles), sep, *map(fmt, rows)])


async def main(args) -> None:
    base = args.server.rstrip("/")
    hd_url = f"{base}/{args.database}"
    dsn = hd_url.replace("postgres://", "postgresql://", 1)

    probe = Database(hd_url)
    server_version = await probe.query_val("SELECT version()")
    count = await probe.query_val("SELECT count(*) FROM world")
    await probe.close()
    if count != WORLD_ROWS:
        raise SystemExit(f"world has {count} rows, expected {WORLD_ROWS}: run with --setup")
    print(header(args, server_version.split(" on ")[0]))
    print(flush=True)

    rng = random.Random(12345)
    single_ids = [rng.randint(1, WORLD_ROWS) for _ in range(args.single)]
    conc_ids = [rng.randint(1, WORLD_ROWS) for _ in range(args.concurrent_total)]
    warm_ids = [rng.randint(1, WORLD_ROWS) for _ in range(args.warmup)]
    batches = list(range(args.batches))
    warm_batches = list(range(max(1, args.warmup // BATCH)))
    tasks = args.tasks

    no_reset = None
    cases: list[Case] = [
        Case("pipeline", "sequential awaits", hd_open(hd_url), hd_batch_sequential, hd_close, hd_check),
        Case("pipeline", "db.pipeline([...])", hd_open(hd_url), hd_batch_pipeline, hd_close),
        Case("pipeline", "asyncio.gather", hd_open(hd_url), hd_batch_gather, hd_close),
    ]
    try:
        import asyncpg  # noqa: F401

        no_reset = no_reset_connection_class()
        have_asyncpg = True
    except ImportError:
        have_asyncpg = False
        print("asyncpg is not installed: its cases are skipped", file=sys.stderr)
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401

        have_psycopg = True
    except ImportError:
        have_psycopg = False
        print("psycopg / psycopg_pool are not installed: their cases are skipped", file=sys.stderr)

    cases.append(Case("single", "hyperdjango db.query_one", hd_open(hd_url), hd_single, hd_close, hd_check))
    if have_asyncpg:
        cases += [
            Case("single", "asyncpg pool, connection acquired once", apg_open(dsn), apg_single_acquired, apg_close, apg_check),
            Case("single", "asyncpg pool.fetchrow (default reset on release)", apg_open(dsn), apg_single_pool, apg_close, apg_check),
            Case("single", "asyncpg pool.fetchrow, no reset query", apg_open(dsn, connection_class=no_reset), apg_single_pool, apg_close, apg_check),
        ]
    if have_psycopg:
        cases += [
            Case("single", "psycopg AsyncConnection", pg_conn_open(dsn), pg_single_conn, pg_conn_close, pg_conn_check),
            Case("single", "psycopg pool.connection() per query", pg_pool_open(dsn, 4), pg_single_pool, pg_pool_close, pg_pool_check),
        ]

    if args.pgbench and shutil.which("pgbench"):
        cases.append(Case("single", "pgbench -c 1 (C, libpq; reference)", _nothing, _nothing, _nothing,
                          external=pgbench(args.server, args.database, 1)))

    hd_name = "hyperdjango db.query_one (defaults)"
    cases.append(Case("concurrent", hd_name, hd_open(hd_url), concurrently(hd_single, tasks), hd_close, hd_check))
    if args.variants:
        sep = "&" if "?" in hd_url else "?"
        cases.append(Case("concurrent", f"hyperdjango, max_in_flight=1, max_size={tasks}",
                          hd_open(f"{hd_url}{sep}max_in_flight=1&max_size={tasks}&min_size={tasks}"),
                          concurrently(hd_single, tasks), hd_close, hd_check))
    if have_asyncpg:
        cases += [
            Case("concurrent", "asyncpg pool.fetchrow (default pool of 10, reset)", apg_open(dsn), concurrently(apg_single_pool, tasks), apg_close, apg_check),
            Case("concurrent", "asyncpg pool.fetchrow (pool of 10), no reset query", apg_open(dsn, connection_class=no_reset),
                 concurrently(apg_single_pool, tasks), apg_close, apg_check),
            Case("concurrent", f"asyncpg, one connection per task (pool of {tasks})", apg_open(dsn, min_size=tasks, max_size=tasks),
                 concurrently(apg_single_acquired, tasks), apg_close, apg_check),
        ]
    if have_psycopg:
        cases += [
            Case("concurrent", "psycopg pool.connection() per query (pool of 10)", pg_pool_open(dsn, 10), concurrently(pg_single_pool, tasks),
                 pg_pool_close, pg_pool_check),
            Case("concurrent", f"psycopg, one connection per task (pool of {tasks})", pg_pool_open(dsn, tasks),
                 concurrently(pg_single_pool_acquired, tasks), pg_pool_close, pg_pool_check),
        ]
    if args.pgbench and shutil.which("pgbench"):
        cases.append(Case("concurrent", f"pgbench -c {tasks} -j 1 (C, libpq; reference)", _nothing, _nothing, _nothing,
                          external=pgbench(args.server, args.database, tasks)))
    if args.only:
        cases = [c for c in cases if any(s in f"{c.group}:{c.name}" for s in args.only)]

    for r in range(args.rounds):
        for case in cases:
            if case.group == "pipeline":
                elapsed = await measure(case, batches, warm_batches)
            elif case.group == "single":
                elapsed = await measure(case, single_ids, warm_ids)
            else:
                elapsed = await measure(case, conc_ids, warm_ids)
            case.results.append(elapsed)
            print(f"  round {r + 1}: {case.group:<10} {case.name:<55} {elapsed[0] * 1e3:9.1f} ms wall "
                  f"{elapsed[1] * 1e3:9.1f} ms CPU", file=sys.stderr, flush=True)

    report(args, cases)


def report(args, cases: list[Case]) -> None:
    wall = {c.name: min(w for w, _ in c.results) for c in cases}
    cpu = {c.name: min(t for _, t in c.results) for c in cases}
    noise = {c.name: f"{max(w for w, _ in c.results) / wall[c.name] - 1:.0%}" for c in cases}

    pipe = [c for c in cases if c.group == "pipeline"]
    if pipe:
        n = args.batches
        print(f"## 1. {BATCH} x `{SELECT_INT}`, hyperdjango, {n} batches (mean per batch of {BATCH})\n")
        seq = wall.get("sequential awaits")
        rows = [
            (c.name, f"{wall[c.name] / n * 1e6:,.0f}", f"{wall[c.name] / n / BATCH * 1e6:,.1f}",
             f"{seq / wall[c.name]:.2f}x" if seq else "-", f"{cpu[c.name] / n * 1e6:,.0f}", noise[c.name])
            for c in pipe
        ]
        print(table(rows, ("method", "µs per batch", "µs per query", "sequential / this", "client CPU µs per batch",
                           "worst round vs best")))
        print()

    single = [c for c in cases if c.group == "single"]
    if single:
        n = args.single
        print(f"## 2. Single-row select, sequential awaits, {n} random ids\n")
        ref = "hyperdjango db.query_one"
        rows = [
            (c.name, f"{wall[c.name] / n * 1e6:,.1f}", f"{n / wall[c.name]:,.0f}",
             f"{wall[c.name] / wall[ref]:.2f}" if ref in wall else "-",
             f"{cpu[c.name] / n * 1e6:,.1f}", f"{cpu[c.name] / cpu[ref]:.2f}" if ref in cpu else "-", noise[c.name])
            for c in single
        ]
        print(table(rows, ("client", "µs per query", "queries/s", "time vs hyperdjango", "client CPU µs per query",
                           "CPU vs hyperdjango", "worst round vs best")))
        print()

    conc = [c for c in cases if c.group == "concurrent"]
    if conc:
        n = args.concurrent_total
        print(f"## 3. Single-row select, {args.tasks} concurrent tasks, {n} queries in all\n")
        ref = next((c.name for c in conc if c.name.startswith("hyperdjango")), None)
        rows = [
            (c.name, f"{n / wall[c.name]:,.0f}", f"{wall[ref] / wall[c.name]:.2f}" if ref else "-",
             f"{cpu[c.name] / n * 1e6:,.1f}", f"{cpu[c.name] / cpu[ref]:.2f}" if ref else "-", noise[c.name])
            for c in conc
        ]
        print(table(rows, ("client", "queries/s", "throughput vs hyperdjango", "client CPU µs per query",
                           "CPU vs hyperdjango", "worst round vs best")))
        print()


def server_arguments(p: argparse.ArgumentParser, database: str) -> None:
    """--server and --database, shared with the other PostgreSQL benchmarks."""
    p.add_argument("--server", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"),
                   help="server URL without the database (default: postgres://postgres@127.0.0.1:5432, or $BENCH_PG)")
    p.add_argument("--database", default=database)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    server_arguments(p, "hd_bench")
    p.add_argument("--setup", action="store_true", help="(re)create the database and load the world table first")
    p.add_argument("--schema", default=DEFAULT_SCHEMA if os.path.exists(DEFAULT_SCHEMA) else None,
                   help="SQL file with the TechEmpower schema (default: the built-in world DDL when the shared file is absent)")
    p.add_argument("--drop", action="store_true", help="drop the database at the end")
    p.add_argument("--single", type=int, default=2000, help="sequential selects per round")
    p.add_argument("--batches", type=int, default=500, help="batches of 20 per round")
    p.add_argument("--tasks", type=int, default=16)
    p.add_argument("--concurrent-total", type=int, default=8000, help="selects per round, split among the tasks")
    p.add_argument("--warmup", type=int, default=400, help="warm-up operations before each timing")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-pgbench", dest="pgbench", action="store_false", help="skip the pgbench reference rows")
    p.add_argument("--no-variants", dest="variants", action="store_false", help="skip hyperdjango's non-default pool settings")
    p.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                   help="first wait up to SECONDS for the machine to be quiet (< 15%% CPU busy for 10 s)")
    p.add_argument("--only", nargs="*", help="run only cases whose 'group:name' contains one of these")
    return p.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    if shutil.which("psql") is None and (args.setup or args.drop):
        raise SystemExit("--setup and --drop need psql")
    if args.setup:
        setup_database(args.server, args.database, args.schema)
    if args.wait_idle:
        wait_idle(args.wait_idle)
    try:
        if hasattr(uvloop, "run"):  # uvloop >= 0.18
            uvloop.run(main(args))
        else:
            uvloop.install()
            asyncio.run(main(args))
    finally:
        if args.drop:
            drop_database(args.server, args.database)
