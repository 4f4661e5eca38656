"""hyperdjango.tasks migration 0001_initial: the task queue's table (task_backend="database").

CREATE ... IF NOT EXISTS, so a database whose table was made on first use
before it was migrated adopts this migration as is.
"""

from hyperdjango import migrations


class Migration(migrations.Migration):
    dependencies = []

    operations = [
        migrations.RunSQL(
            sql=[
                """CREATE TABLE IF NOT EXISTS hyperdjango_task_jobs (
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
                "CREATE INDEX IF NOT EXISTS hyperdjango_task_jobs_ready ON hyperdjango_task_jobs (priority DESC, run_at) WHERE status = 'pending'",
                # What the reaper scans: running jobs by lease.
                "CREATE INDEX IF NOT EXISTS hyperdjango_task_jobs_leases ON hyperdjango_task_jobs (lease_until) WHERE status = 'running'",
                # What the purge and the listings scan.
                "CREATE INDEX IF NOT EXISTS hyperdjango_task_jobs_finished ON hyperdjango_task_jobs (status, finished_at)",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS hyperdjango_task_jobs_finished",
                "DROP INDEX IF EXISTS hyperdjango_task_jobs_leases",
                "DROP INDEX IF EXISTS hyperdjango_task_jobs_ready",
                "DROP TABLE IF EXISTS hyperdjango_task_jobs",
            ],
        ),
    ]
