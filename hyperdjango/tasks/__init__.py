"""Background tasks: ``@app.task``, ``.delay()``, periodic tasks, and two backends.

- ``HyperApp(task_backend="inprocess")`` (the default): jobs in memory, run by
  the server process; lost when it exits.
- ``HyperApp(task_backend="database")``: jobs are rows in ``app.database``
  (PostgreSQL or SQLite), enqueued transactionally, claimed with leases and run
  at least once by the app and by ``hyper worker`` processes.

See docs/tasks.md.
"""

from .backend import TaskBackend
from .errors import LeaseExpired, QueueFull, SerializationError, TaskCancelled, TaskFailed, TaskQueueError, UnknownTask
from .handle import TaskHandle
from .inprocess import InProcessBackend
from .jobs import JobInfo, JobStatus
from .periodic import Schedule
from .queue import TaskQueue
from .registry import Task
from .retry import RetryPolicy

__all__ = [
    "InProcessBackend",
    "JobInfo",
    "JobStatus",
    "LeaseExpired",
    "QueueFull",
    "RetryPolicy",
    "Schedule",
    "SerializationError",
    "Task",
    "TaskBackend",
    "TaskCancelled",
    "TaskFailed",
    "TaskHandle",
    "TaskQueue",
    "TaskQueueError",
    "UnknownTask",
]


def __getattr__(name: str):
    # The database backend imports the database layer: loaded when asked for.
    if name == "DatabaseBackend":
        from .database import DatabaseBackend

        return DatabaseBackend
    raise AttributeError(name)
