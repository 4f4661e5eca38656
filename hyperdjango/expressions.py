"""Query expressions, as the spec imports them.

>>> from hyperdjango.expressions import F, Q, Sum, Avg, Count, Min, Max, Value, Case, When, Coalesce, Subquery, OuterRef, Exists
>>> F("stock") - 1
F('stock') - Value(1)

They live in :mod:`hyperdjango.orm.expressions`; this module is the short import path.
"""

from .orm.expressions import Avg, Case, Coalesce, Count, Exists, F, Max, Min, OuterRef, Q, Subquery, Sum, Value, When

__all__ = ["Avg", "Case", "Coalesce", "Count", "Exists", "F", "Max", "Min", "OuterRef", "Q", "Subquery", "Sum", "Value", "When"]
