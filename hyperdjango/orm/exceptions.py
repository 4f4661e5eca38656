"""Errors the ORM raises, each saying what went wrong and what to do.

>>> from hyperdjango.orm.exceptions import ValidationError
>>> e = ValidationError({"price": ["must be at least 0"]})
>>> e.errors, str(e)
({'price': ['must be at least 0']}, 'price: must be at least 0')

A ``ValidationError`` escaping a view is answered ``400 {"detail": {field: [messages]}}``.
"""

from __future__ import annotations

from typing import Any, cast

from ..database.errors import IntegrityError


class ValidationError(ValueError):
    """A value does not fit its field: ``errors`` maps field names to messages.

    Raised by ``save()`` (every failing field at once) and when a lookup value
    cannot be converted to its field's type (``Product.objects.filter(id="abc")``).
    """

    def __init__(self, errors: dict[str, list[str]] | str, field: str | None = None) -> None:
        if isinstance(errors, str):
            errors = {field or "__all__": [errors]}
        self.errors = errors
        super().__init__(self.__str__())

    @property
    def field(self) -> str:
        """The first field named by the error."""
        return next(iter(self.errors))

    def __str__(self) -> str:
        return "; ".join(f"{name}: {', '.join(msgs)}" for name, msgs in self.errors.items())


class FieldError(Exception):
    """A QuerySet names a field, relation or lookup that does not exist (raised when
    the QuerySet is built, with the valid names in the message)."""


class FieldDoesNotExist(FieldError):
    """A model has no field of that name (Django's ``FieldDoesNotExist``, raised where Django
    raises it: ``bulk_create``'s ``update_fields``/``unique_fields``)."""


class MultipleObjectsReturned(Exception):
    """``get()`` matched more than one row; add a filter that makes it unique."""


class DoesNotExist(Exception):
    """The row behind an instance is gone (``refresh_from_db`` of a deleted row)."""


class RelatedNotLoaded(AttributeError):
    """A relation was read that was never loaded; reading it would need a query.

    The ORM never runs a hidden blocking query: load it with
    ``select_related("x")``/``prefetch_related("x")`` or ``await obj.fetch_related("x")``.
    """


class DeferredFieldNotLoaded(AttributeError):
    """A field left out by ``only()``/``defer()`` was read; use ``refresh_from_db(fields=[...])``."""


class ProtectedError(IntegrityError):
    """A delete would remove rows that an ``on_delete="PROTECT"``/``"RESTRICT"`` key still references."""


class NotSupportedError(Exception):
    """The ORM cannot do this (for example combined aggregates in ``aggregate()`` over a sliced QuerySet)."""


__all__ = [
    "DeferredFieldNotLoaded",
    "DoesNotExist",
    "FieldDoesNotExist",
    "FieldError",
    "MultipleObjectsReturned",
    "NotSupportedError",
    "ProtectedError",
    "RelatedNotLoaded",
    "ValidationError",
]


def several_found(model: Any, asked: Any) -> Exception:
    """``get()``'s error when more than one row matches ``asked`` (its lookups or conditions)."""
    return cast("Exception", model.MultipleObjectsReturned(f"get() found several {model.__name__} rows for {asked}; narrow the filter"))
