"""Monotonic nanosecond timing, as the spec's TimingMiddleware uses it.

>>> from hyperdjango.profiling import nanos, elapsed_nanos
>>> start = nanos()
>>> elapsed_nanos(start) >= 0
True
"""

from time import perf_counter_ns as nanos


def elapsed_nanos(start: int) -> int:
    """Nanoseconds since ``start``, a value from :func:`nanos`."""
    return nanos() - start


__all__ = ["elapsed_nanos", "nanos"]
