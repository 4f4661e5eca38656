"""When a failed job runs again: exponential backoff with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_retries`` further attempts after the first; the wait before retry
    ``n`` (1-based) is ``backoff * 2 ** (n - 1)`` seconds, capped at ``backoff_max``.

    With ``jitter`` the wait is drawn uniformly from its upper half, so jobs
    that failed together (a database restart) do not all come back at the
    same instant, yet never sooner than half the backoff.

    >>> policy = RetryPolicy(max_retries=3, backoff=2.0, jitter=False)
    >>> [policy.delay(n) for n in (1, 2, 3)]
    [2.0, 4.0, 8.0]
    >>> policy.should_retry(attempts=4)
    False
    """

    max_retries: int = 0
    backoff: float = 2.0
    jitter: bool = True
    backoff_max: float = 600.0

    def should_retry(self, attempts: int) -> bool:
        """Whether a job that failed on its ``attempts``-th run gets another."""
        return attempts <= self.max_retries

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first)."""
        wait = min(self.backoff_max, self.backoff * 2 ** (retry - 1))
        if self.jitter:
            wait = random.uniform(wait / 2, wait)
        return wait
