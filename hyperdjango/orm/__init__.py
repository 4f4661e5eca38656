"""The async ORM: models declared with annotations, lazy QuerySets awaited at the end.

>>> from hyperdjango.orm import Model, Field, Q, F, ValidationError

Layers (as in Django, smaller): ``models.py``/``fields.py``/``options.py`` describe
tables; ``query.py`` is the user's QuerySet; ``sql/query.py`` the tree it builds;
``sql/compiler.py`` turns the tree into SQL (cached per shape); ``lookups.py``
and ``expressions.py`` are the vocabulary; ``backends/`` spell SQL and DDL for
PostgreSQL and SQLite. See ``docs/orm.md``.
"""

from .exceptions import (
    DeferredFieldNotLoaded,
    DoesNotExist,
    FieldDoesNotExist,
    FieldError,
    MultipleObjectsReturned,
    NotSupportedError,
    ProtectedError,
    RelatedNotLoaded,
    ValidationError,
)
from typing import TYPE_CHECKING, Any

from .expressions import Avg, Case, Coalesce, Count, Exists, F, Max, Min, OuterRef, Q, Subquery, Sum, Value, When
from .manager import Manager, copy_queryset_docs
from .models import Model
from .prefetch import Prefetch
from .query import QuerySet, RawQuerySet
from .related import ManyToMany

copy_queryset_docs(QuerySet)

if TYPE_CHECKING:
    # ``name: str = Field(max_length=200)``: the annotation is what instances hold, and the
    # ``Field`` object is consumed when the class is made. A type checker is told the call
    # gives a value of any type (as pydantic's ``Field``), so that the assignment checks.
    def Field(default: Any = ..., **options: Any) -> Any:
        """A model field; see :class:`hyperdjango.orm.fields.Field`."""
else:
    from .fields import Field

__all__ = [
    "Avg",
    "Case",
    "Coalesce",
    "Count",
    "DeferredFieldNotLoaded",
    "DoesNotExist",
    "Exists",
    "F",
    "Field",
    "FieldDoesNotExist",
    "FieldError",
    "ManyToMany",
    "Manager",
    "Max",
    "Min",
    "Model",
    "MultipleObjectsReturned",
    "NotSupportedError",
    "OuterRef",
    "Prefetch",
    "ProtectedError",
    "Q",
    "QuerySet",
    "RawQuerySet",
    "RelatedNotLoaded",
    "Subquery",
    "Sum",
    "Value",
    "ValidationError",
    "When",
]
