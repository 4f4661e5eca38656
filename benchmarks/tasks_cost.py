"""What one trivial job costs the database task queue's worker, in numbers that do not
depend on the machine's load: statements, round trips, commits, system calls and CPU
time per executed job.

One ``hyper worker --concurrency 8`` process drains ``--jobs`` no-op jobs from a fresh
PostgreSQL database. Its app wraps ``app.database``'s statement methods to count
statements (each entry of a pipeline counts) and calls (one round trip each; a pipeline
is one), and writes the counts when it stops; the commits come from the server's
``pg_stat_database`` (this bench's own polling left out); the CPU time (user + system)
is the worker's own, from ``/proc``, from its first finished job to its last (so its
start-up is left out), and so is the server's: its backends serving the bench database
(when the server runs on this host). CPU per job bounds the rate on a quiet machine
(one core each: about 1 / the larger of the two), whatever the load is now.

Run:
    .venv/bin/python benchmarks/tasks_cost.py [--jobs 4000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

WORKER_APP = '''
import atexit, json, os
from hyperdjango import HyperApp
from hyperdjango.tasks.database import DatabaseBackend

app = HyperApp(database=os.environ["BENCH_DB_URL"], task_backend=DatabaseBackend(poll_interval=0.05), task_workers=0)
counts = {"calls": 0, "statements": 0}

def counted(method, statements_of):
    async def wrapper(*args, **kwargs):
        counts["calls"] += 1
        counts["statements"] += statements_of(args)
        return await method(*args, **kwargs)
    return wrapper

db = app.database
for name in ("query", "query_one", "query_val", "execute"):
    setattr(db, name, counted(getattr(db, name), lambda args: 1))
db.pipeline = counted(db.pipeline, lambda args: len(args[0]))
atexit.register(lambda: open(os.environ["BENCH_COUNTS"], "w").write(json.dumps(counts)))

@app.task(name="bench.noop")
async def noop(i):
    return None
'''


def server_cpu(pids: list[int]) -> float:
    """CPU seconds of the PostgreSQL backends ``pids`` (0 for those gone or on another host)."""
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(url: str, n: int, workdir: Path) -> dict:
    from hyperdjango.database import Database
    from hyperdjango.tasks import TaskQueue
    from hyperdjango.tasks.database import DatabaseBackend
    from hyperdjango.tasks.schema import TABLE

    db = Database(url)
    queue = TaskQueue(backend=DatabaseBackend(max_buffered=n), workers=0, database=db)
    await queue.open()
    noop = queue.task(name="bench.noop")(lambda i: None)
    handles = [noop.delay(i) for i in range(n)]
    for handle in handles:
        await handle.enqueued()
    name = url.rsplit("/", 1)[1]
    commits = "SELECT xact_commit FROM pg_stat_database WHERE datname = $1"
    (workdir / "cost_worker_app.py").write_text(WORKER_APP)
    counts_file = workdir / "counts.json"
    command = [sys.executable, "-m", "hyperdjango", "worker", "cost_worker_app:app", "--concurrency", "8", "--no-periodic"]
    await asyncio.sleep(1.0)  # pg_stat_database is updated by the backends at most every 500 ms
    before = await db.query_val(commits, name)
    polls = 0
    worker = subprocess.Popen(command, cwd=workdir, stderr=subprocess.DEVNULL,
                              env={**os.environ, "BENCH_DB_URL": url, "BENCH_COUNTS": str(counts_file)})
    try:
        # Timed from the first finished job, so the worker's start-up is left out.
        done = f"SELECT count(*) FROM {TABLE} WHERE status = 'succeeded'"
        while (first := await db.query_val(done)) == 0:
            polls += 1
            await asyncio.sleep(0.005)
        start, cpu_start = time.perf_counter(), cpu_seconds(worker.pid)
        backends = [row[0] for row in await db.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)]
        server_start = server_cpu(backends)
        while await db.query_val(done) < n:
            polls += 1
            await asyncio.sleep(0.05)
        elapsed, cpu = time.perf_counter() - start, cpu_seconds(worker.pid) - cpu_start
        server = server_cpu(backends) - server_start
    finally:
        worker.terminate()
        worker.wait()
    await asyncio.sleep(1.0)
    after = await db.query_val(commits, name)
    await queue.stop()
    await db.close()
    counts = json.loads(counts_file.read_text())
    result = {
        "jobs": n,
        "jobs_per_s": round((n - first) / elapsed),
        "worker_cpu_us_per_job": round(cpu / (n - first) * 1e6),
        "server_cpu_us_per_job": round(server / (n - first) * 1e6),
        "statements_per_job": round(counts["statements"] / n, 3),
        "calls_per_job": round(counts["calls"] / n, 3),
        # the polls of the counter are left out (2: the two that ended its loops)
        "commits_per_job": round((after - before - polls - 2) / n, 3),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=4000)
    args = parser.parse_args()
    from support.postgres import find_or_start_server

    print(f"load before: {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}", flush=True)
    server = find_or_start_server()
    name = server.create_database("hd_bench")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(asyncio.run(measure(server.url(name), args.jobs, Path(tmp)))), flush=True)
    finally:
        server.drop_database(name)
        server.stop()
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
