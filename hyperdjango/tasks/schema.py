"""The database backend's table: its name and the columns the backend reads and writes.

The DDL lives in the built-in app's migrations (``hyperdjango/tasks/migrations/``):
``hyper migrate`` applies them, and the backend applies them itself on first
use for projects that do not migrate, so the table is spelled once.

One row per job. Times are epoch seconds (``DOUBLE PRECISION``) written by
the workers' clocks, so both vendors share every statement; leases are tens
of seconds, far above the clock skew of hosts kept in sync by NTP.

The DDL is valid on PostgreSQL and SQLite alike (SQLite: 3.35+ for
``RETURNING``; partial indexes since 3.8). Periodic slots need no table of
their own: a slot's job has the id ``periodic:<task>:<slot>``, and the primary
key lets one process insert it.
"""

from __future__ import annotations

TABLE = "hyperdjango_task_jobs"

#: The columns a :class:`~hyperdjango.tasks.jobs.Job` is read from.
JOB_COLUMNS = (
    "id, task, queue, priority, payload, status, attempts, max_retries, run_at, created_at, "
    "started_at, finished_at, result, error_type, error_message, error_traceback"
)

#: What ``INSERT`` writes for a new job, in this order.
INSERT_COLUMNS = ("id", "task", "queue", "priority", "payload", "status", "max_retries", "run_at", "created_at")
