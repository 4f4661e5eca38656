"""The Hypothesis settings of tests/properties: a bounded, derandomised run in CI.

``HYPERDJANGO_PROPERTY_EXAMPLES=2000`` asks for more examples, and random ones.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_VARIABLE = "HYPERDJANGO_PROPERTY_EXAMPLES"


def bounded(examples: int) -> settings:
    """``examples`` fixed examples (or the variable's count, random), no deadline, no example database."""
    return settings(
        max_examples=int(os.environ.get(_VARIABLE, examples)),
        derandomize=_VARIABLE not in os.environ,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
