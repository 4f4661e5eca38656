"""Where ``Database.create_tables`` and ``drop_tables`` get their DDL.

How a model becomes a table is the ORM's to say (``orm/backends/<vendor>/schema.py``);
the database only runs the statements. The ORM registers its schema editors here when
it is imported (any model class imports it), so the driver layer never imports the ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class SchemaEditor(Protocol):
    """The DDL a database asks for: statements creating or dropping the tables of models."""

    def create_tables(self, models: Any) -> list[str]:
        """The statements creating ``models``, referenced tables first."""
        ...

    def drop_tables(self, models: Any) -> list[str]:
        """The statements dropping ``models``, referencing tables first."""
        ...


_editor_for: Callable[[str], SchemaEditor] | None = None


def register_schema_editors(editor_for: Callable[[str], SchemaEditor]) -> None:
    """Makes ``editor_for(vendor)`` the source of ``create_tables``/``drop_tables`` DDL (the ORM calls this)."""
    global _editor_for
    _editor_for = editor_for


def schema_editor(vendor: str) -> SchemaEditor:
    """The registered schema editor of ``vendor``."""
    if _editor_for is None:
        raise RuntimeError("no schema editors registered: create_tables takes ORM models (import hyperdjango.orm)")
    return _editor_for(vendor)
