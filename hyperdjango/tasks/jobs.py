"""A job: one enqueued call of a task, as every backend stores it."""

from __future__ import annotations

import enum
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import serialization


class JobStatus(str, enum.Enum):
    """Where a job is in its life. ``UNKNOWN``: no such job (never enqueued, its
    transaction rolled back, or purged after the retention period)."""

    PENDING = "pending"  # waiting: ready, delayed (countdown/eta) or waiting to retry
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # failed for good: in the dead-letter list
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value

    @property
    def finished(self) -> bool:
        """Whether the job has ended (and will not run again unless retried)."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(slots=True)
class ErrorInfo:
    """What an attempt raised, as text (it may be read in another process)."""

    type: str
    message: str
    traceback: str

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorInfo:
        """Type (``module.Class``, bare for builtins), message and formatted traceback of ``exc``."""
        kind = type(exc)
        name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        return cls(name, str(exc), "".join(traceback.format_exception(exc)))


@dataclass(slots=True)
class Job:
    """One call of a task. ``payload`` is the JSON of its arguments, ``run_at``
    the wall-clock time (epoch seconds) from which it may run, ``attempts`` how
    many runs have started."""

    task: str
    payload: str
    queue: str = "default"
    priority: int = 0
    run_at: float = 0.0
    max_retries: int = 0
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempts: int = 0
    status: JobStatus = JobStatus.PENDING
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    result: str | None = None  # JSON
    error: ErrorInfo | None = None

    def info(self) -> JobInfo:
        """A read-only snapshot of the job."""
        return JobInfo(
            id=self.id, task=self.task, queue=self.queue, priority=self.priority, status=self.status,
            payload=self.payload, attempts=self.attempts, max_retries=self.max_retries, run_at=self.run_at,
            created_at=self.created_at, started_at=self.started_at, finished_at=self.finished_at,
            error_type=self.error.type if self.error else None,
            error_message=self.error.message if self.error else None,
            error_traceback=self.error.traceback if self.error else None,
        )


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A read-only view of a job, for listings and the dead-letter list."""

    id: str
    task: str
    queue: str
    priority: int
    status: JobStatus
    payload: str
    attempts: int
    max_retries: int
    run_at: float
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    error_traceback: str | None = None

    @property
    def args(self) -> list[Any]:
        """The positional arguments the job was enqueued with."""
        return serialization.loads_call(self.payload)[0]

    @property
    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments the job was enqueued with."""
        return serialization.loads_call(self.payload)[1]


@dataclass(slots=True)
class Outcome:
    """How a run ended, decided by the worker pool and recorded by the backend.

    ``status`` is SUCCEEDED (``result``), FAILED (dead, ``error``), CANCELLED, or
    PENDING: a retry at ``retry_at`` (``error`` is the attempt's), or, with
    ``release=True``, the job handed back untouched because this worker stops.
    """

    status: JobStatus
    result: str | None = None
    error: ErrorInfo | None = None
    retry_at: float | None = None
    release: bool = False
