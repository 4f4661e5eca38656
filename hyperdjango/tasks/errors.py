"""Exceptions of the task queue."""

from __future__ import annotations


class TaskQueueError(Exception):
    """Base class of the task queue's own errors."""


class QueueFull(TaskQueueError):
    """``.delay()`` found the in-process queue at ``task_queue_size`` pending jobs.

    Nothing was enqueued. Retry later, answer 503, or raise ``task_queue_size``.
    """


class SerializationError(TaskQueueError, TypeError):
    """A task argument or result is not JSON (datetime, date, time, Decimal and UUID are allowed).

    Raised by ``.delay()`` itself, so the mistake shows where it was made and
    never later in a worker. Pass ids, not objects: ``send_email.delay(user_id=user.id)``.
    """


class TaskFailed(TaskQueueError):
    """``await handle.result()`` of a job that failed for good (retries exhausted).

    ``error_type``, ``message`` and ``traceback`` are those of the last attempt,
    as text: the exception itself lived in a worker, perhaps in another process.
    """

    def __init__(self, job_id: str, error_type: str | None, message: str | None, traceback: str | None) -> None:
        super().__init__(f"task {job_id} failed: {error_type}: {message}")
        self.job_id = job_id
        self.error_type = error_type
        self.message = message
        self.traceback = traceback


class TaskCancelled(TaskQueueError):
    """``await handle.result()`` of a job that was cancelled."""


class UnknownTask(TaskQueueError, LookupError):
    """A worker got a job for a task name its app does not define (an older or newer deployment?)."""


class LeaseExpired(TaskQueueError):
    """The error recorded for a database job failed for good because its lease
    expired ``max_lost`` times: every worker that took it died or stalled (a
    task that exhausts memory, or segfaults an extension)."""
