"""The database backend's table, in one place so migrations can learn it.

One row per job. Times are epoch seconds (``DOUBLE PRECISION``) written by
the workers' clocks, so both vendors share every statement; leases are tens
of seconds, far above the clock skew of hosts kept in sync by NTP.

The statements are valid on PostgreSQL and SQLite alike (SQLite: 3.35+ for
``RETURNING``; partial indexes since 3.8). Periodic slots need no table of
their own: a slot's job has the id ``periodic:<task>:<slot>``, and the primary
key lets one process insert it.
"""

from __future__ import annotations

TABLE = "hyperdjango_task_jobs"

#: Bumped when the table changes; stored nowhere yet (migrations will).
VERSION = 1

CREATE = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        id TEXT PRIMARY KEY,
        task TEXT NOT NULL,
        queue TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_retries INTEGER NOT NULL DEFAULT 0,
        lost INTEGER NOT NULL DEFAULT 0,
        run_at DOUBLE PRECISION NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        started_at DOUBLE PRECISION,
        finished_at DOUBLE PRECISION,
        lease_until DOUBLE PRECISION,
        worker TEXT,
        cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
        result TEXT,
        error_type TEXT,
        error_message TEXT,
        error_traceback TEXT
    )""",
    # What a claim scans: pending jobs, best first.
    f"CREATE INDEX IF NOT EXISTS {TABLE}_ready ON {TABLE} (priority DESC, run_at) WHERE status = 'pending'",
    # What the reaper scans: running jobs by lease.
    f"CREATE INDEX IF NOT EXISTS {TABLE}_leases ON {TABLE} (lease_until) WHERE status = 'running'",
    # What the purge and the listings scan.
    f"CREATE INDEX IF NOT EXISTS {TABLE}_finished ON {TABLE} (status, finished_at)",
]

#: The columns a :class:`~hyperdjango.tasks.jobs.Job` is read from.
JOB_COLUMNS = (
    "id, task, queue, priority, payload, status, attempts, max_retries, run_at, created_at, "
    "started_at, finished_at, result, error_type, error_message, error_traceback"
)

#: What ``INSERT`` writes for a new job, in this order.
INSERT_COLUMNS = ("id", "task", "queue", "priority", "payload", "status", "max_retries", "run_at", "created_at")
