"""Counters of the task queue, for ``app.task_queue.stats``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Counters:
    """What this process's workers did since the queue started.

    - ``processed``: jobs finished for good (succeeded or failed, not retried)
    - ``succeeded``, ``failed`` (retries exhausted), ``cancelled``
    - ``retried``: failed attempts that were scheduled to run again
    """

    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    retried: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "processed": self.processed,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "retried": self.retried,
        }
