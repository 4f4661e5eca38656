"""``make_queue``: a task queue on each backend, with a fresh job table.

Parametrised over the in-process backend and the database backend on SQLite
and PostgreSQL; the database backends poll every 20 ms and hold 1 s leases, so
the tests that wait for a job wait briefly.
"""

from __future__ import annotations

import pytest

from hyperdjango.database import Database
from hyperdjango.tasks import TaskQueue
from hyperdjango.tasks.database import DatabaseBackend
from hyperdjango.tasks.schema import TABLE

QUEUE_BACKENDS = ["inprocess", "sqlite", "postgres"]

#: Apps run by ``hyper worker`` in subprocesses; importing them needs their environment.
collect_ignore = ["apps"]


@pytest.fixture(params=QUEUE_BACKENDS)
def queue_backend(request) -> str:
    return request.param


@pytest.fixture
async def make_queue(request, queue_backend):
    """``await make_queue(workers=4, max_size=10000)``: a queue (not started) on the backend under test."""
    made: list[TaskQueue] = []
    databases: list[Database] = []
    url = None
    if queue_backend != "inprocess":
        url = request.getfixturevalue({"sqlite": "sqlite_url", "postgres": "pg_url"}[queue_backend])
        cleaner = Database(url)
        await DatabaseBackend(cleaner).ensure_schema()
        await cleaner.execute(f"DELETE FROM {TABLE}")
        await cleaner.close()

    async def make(workers: int = 4, max_size: int = 10000, **backend_options) -> TaskQueue:
        database = Database(url or "sqlite://:memory:")
        databases.append(database)
        if url is None:
            queue = TaskQueue(workers=workers, max_size=max_size, database=database)
        else:
            backend_options.setdefault("poll_interval", 0.02)
            backend_options.setdefault("lease", 1.0)
            backend = DatabaseBackend(max_buffered=max_size, **backend_options)
            queue = TaskQueue(backend=backend, workers=workers, max_size=max_size, database=database)
        made.append(queue)
        return queue

    yield make
    for queue in made:
        await queue.stop(grace=2.0)
    for database in databases:
        await database.close()
