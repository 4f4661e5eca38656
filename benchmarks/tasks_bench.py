"""Background tasks: jobs/s enqueued and executed, in-process and on PostgreSQL, beside Celery.

What is measured, for trivial jobs (the queue's own cost, not the work):

- enqueue: ``.delay()`` calls per second from one async producer, until every job is stored;
- execute: jobs per second drained by one worker with 8 slots, from a full queue (timed from
  its first finished job, so process start-up is left out):
  - in-process: the app's own workers (the only place they can run);
  - database (PostgreSQL, and SQLite for reference): one ``hyper worker --concurrency 8`` process;
  - Celery + Redis (optional): one ``celery worker -c 8`` (prefork) process, the task
    incrementing a Redis counter, read until it reaches the job count.

Run:
    .venv/bin/python benchmarks/tasks_bench.py [--jobs 20000] [--db-jobs 5000]
        [--celery-python /path/to/venv-with-celery/bin/python]

PostgreSQL comes from tests/support/postgres.py (127.0.0.1:5432 or a throwaway cluster); a
fresh database is created and dropped. Celery runs only when ``--celery-python`` names an
interpreter with ``celery[redis]`` and a Redis server answers on 127.0.0.1:6379 (it uses
Redis database 15). Ratios carry over between machines; absolute numbers do not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

WORKER_APP = '''
import os
from hyperdjango import HyperApp
from hyperdjango.tasks.database import DatabaseBackend

app = HyperApp(database=os.environ["BENCH_DB_URL"], task_backend=DatabaseBackend(poll_interval=0.05), task_workers=0)

@app.task(name="bench.noop")
async def noop(i):
    return None
'''

CELERY_APP = '''
import redis
from celery import Celery

app = Celery("celery_bench", broker="redis://127.0.0.1:6379/15")
app.conf.worker_prefetch_multiplier = 4
counter = redis.Redis(db=15)

@app.task(ignore_result=True)
def noop(i):
    counter.incr("hd_bench_done")
'''

CELERY_ENQUEUE = '''
import sys, time
from celery_bench import app, counter, noop
n = int(sys.argv[1])
app.control.purge()
counter.delete("hd_bench_done")
start = time.perf_counter()
for i in range(n):
    noop.delay(i)
print(n / (time.perf_counter() - start))
'''

CELERY_COUNT = '''
from celery_bench import counter
print(int(counter.get("hd_bench_done") or 0))
'''


async def drain_rate(done, n: int) -> float:
    """Jobs/s from the first finished job to the last: the worker's start-up is not counted."""
    while (first := await done()) == 0:
        await asyncio.sleep(0.01)
    start = time.perf_counter()
    while await done() < n:
        await asyncio.sleep(0.02)
    return (n - first) / (time.perf_counter() - start)


def report(name: str, enqueue: float, execute: float) -> tuple[str, float, float]:
    print(f"{name:<28} enqueue {enqueue:>10,.0f} jobs/s   execute {execute:>10,.0f} jobs/s", flush=True)
    return name, enqueue, execute


async def bench_inprocess(n: int) -> tuple[str, float, float]:
    from hyperdjango.tasks import TaskQueue

    queue = TaskQueue(workers=8, max_size=n)

    @queue.task
    async def noop(i):
        return None

    start = time.perf_counter()
    for i in range(n):
        noop.delay(i)
    enqueue = n / (time.perf_counter() - start)
    start = time.perf_counter()
    await queue.start()
    while queue.counters.processed < n:
        await asyncio.sleep(0.001)
    execute = n / (time.perf_counter() - start)
    await queue.stop()
    return report("in-process", enqueue, execute)


async def bench_database(name: str, url: str, n: int, workdir: Path) -> tuple[str, float, float]:
    from hyperdjango.database import Database
    from hyperdjango.tasks import TaskQueue
    from hyperdjango.tasks.database import DatabaseBackend
    from hyperdjango.tasks.schema import TABLE

    db = Database(url)
    queue = TaskQueue(backend=DatabaseBackend(max_buffered=n), workers=0, database=db)
    await queue.open()
    await db.execute(f"DELETE FROM {TABLE}")
    noop = queue.task(name="bench.noop")(lambda i: None)

    start = time.perf_counter()
    handles = []
    for i in range(n):
        handles.append(noop.delay(i))
        if i % 500 == 499:
            await asyncio.sleep(0)  # a producer serving requests yields now and then
    for handle in handles:
        await handle.enqueued()
    enqueue = n / (time.perf_counter() - start)

    (workdir / "bench_worker_app.py").write_text(WORKER_APP)
    worker = subprocess.Popen(
        [sys.executable, "-m", "hyperdjango", "worker", "bench_worker_app:app", "--concurrency", "8", "--no-periodic"],
        cwd=workdir, env={**os.environ, "BENCH_DB_URL": url}, stderr=subprocess.DEVNULL,
    )
    try:
        execute = await drain_rate(lambda: db.query_val(f"SELECT count(*) FROM {TABLE} WHERE status = 'succeeded'"), n)
    finally:
        worker.terminate()
        worker.wait()
    await queue.stop()
    await db.close()
    return report(name, enqueue, execute)


def bench_celery(python: str, n: int, workdir: Path) -> tuple[str, float, float] | None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        print("celery: no Redis server on 127.0.0.1:6379; skipped")
        return None
    (workdir / "celery_bench.py").write_text(CELERY_APP)

    def run(code: str, *args: str) -> str:
        return subprocess.run([python, "-c", code, *args], cwd=workdir, capture_output=True, text=True, check=True).stdout

    enqueue = float(run(CELERY_ENQUEUE, str(n)))
    celery = str(Path(python).parent / "celery")
    worker = subprocess.Popen([celery, "-A", "celery_bench", "worker", "-c", "8", "-P", "prefork", "--loglevel=warning"],
                              cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    async def count() -> int:
        return int(run(CELERY_COUNT))

    try:
        execute = asyncio.run(drain_rate(count, n))
    finally:
        worker.terminate()
        worker.wait()
    return report("celery + redis (prefork)", enqueue, execute)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=20000, help="jobs for the in-process queue")
    parser.add_argument("--db-jobs", type=int, default=5000, help="jobs for the database and Celery queues")
    parser.add_argument("--celery-python", help="an interpreter with celery[redis] installed")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    from support.postgres import find_or_start_server

    print(f"load before: {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}", flush=True)
    results = [asyncio.run(bench_inprocess(args.jobs))]
    server = find_or_start_server()
    name = server.create_database("hd_bench")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        try:
            results.append(asyncio.run(bench_database("database: postgresql", server.url(name), args.db_jobs, workdir)))
        finally:
            server.drop_database(name)
        if not args.no_sqlite:
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            results.append(asyncio.run(bench_database("database: sqlite", url, args.db_jobs, workdir)))
        if args.celery_python:
            celery = bench_celery(args.celery_python, args.db_jobs, workdir)
            if celery:
                results.append(celery)
    server.stop()
    base = {r[0]: r for r in results}
    if "celery + redis (prefork)" in base:
        _, ce, cx = base["celery + redis (prefork)"]
        print("\nratios to Celery + Redis (enqueue, execute):")
        for name, enqueue, execute in results:
            print(f"  {name:<28} {enqueue / ce:>6.2f}x  {execute / cx:>6.2f}x")
    print(textwrap.dedent(f"load after: {os.getloadavg()[0]:.2f}"))


if __name__ == "__main__":
    main()
