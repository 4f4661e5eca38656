"""An app whose jobs live in the database named by $JOBS_DB_URL, for ``hyper worker`` tests.

``record(n)`` writes a row per run (so a test can count runs, duplicates
included); ``nap(seconds)`` sleeps; ``fail()`` always raises.
"""

import asyncio
import os

from hyperdjango import HyperApp
from hyperdjango.tasks.database import DatabaseBackend

app = HyperApp(
    database=os.environ["JOBS_DB_URL"],
    task_backend=DatabaseBackend(
        lease=float(os.environ.get("JOBS_LEASE", "1.0")), poll_interval=float(os.environ.get("JOBS_POLL", "0.05"))
    ),
    task_workers=0,  # this module also enqueues from the test process; workers run in `hyper worker`
)


@app.task(name="jobs.record")
async def record(n):
    await asyncio.sleep(0.02)  # 1,000 jobs keep 3 workers of 8 slots busy for about a second
    await app.database.execute("INSERT INTO job_runs (n, pid) VALUES ($1, $2)", n, os.getpid())
    return n


@app.task(name="jobs.nap")
async def nap(seconds):
    await asyncio.sleep(seconds)
    return "rested"


@app.task(name="jobs.fail")
def fail():
    raise LookupError("nothing here")
