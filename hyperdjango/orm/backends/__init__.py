"""Database backends: how PostgreSQL and SQLite spell what the ORM compiles.

Each backend is the same two modules: ``operations.py`` (quoting, lookups,
casts, date transforms, function spellings, value converters) and ``schema.py``
(DDL); ``features.py`` says what each database can do. Nothing else in the ORM
(or above it) knows which database it talks to.

>>> operations_for("sqlite").quote('we"ird')
'"we""ird"'
"""

from __future__ import annotations

from functools import cache

from ...database.schema import register_schema_editors
from .base.operations import BaseOperations
from .base.schema import BaseSchemaEditor
from .features import BaseFeatures


@cache
def operations_for(vendor: str) -> BaseOperations:
    """The operations of ``vendor`` (``"postgresql"`` or ``"sqlite"``), one per process."""
    if vendor == "postgresql":
        from .postgresql.operations import PostgresOperations

        return PostgresOperations()
    if vendor == "sqlite":
        from .sqlite.operations import SQLiteOperations

        return SQLiteOperations()
    raise ValueError(f"no ORM backend for {vendor!r}")


def features_for(vendor: str) -> BaseFeatures:
    """What ``vendor`` can do (see ``features.py``): its operations' features."""
    return operations_for(vendor).features


def schema_editor_for(vendor: str) -> BaseSchemaEditor:
    """The DDL generator of ``vendor``."""
    ops = operations_for(vendor)
    if vendor == "postgresql":
        from .postgresql.schema import PostgresSchemaEditor

        return PostgresSchemaEditor(ops)
    from .sqlite.schema import SQLiteSchemaEditor

    return SQLiteSchemaEditor(ops)


# Database.create_tables/drop_tables run the DDL of these editors; the database layer
# below the ORM cannot import them, so the ORM hands them down.
register_schema_editors(schema_editor_for)

__all__ = ["BaseFeatures", "BaseOperations", "BaseSchemaEditor", "features_for", "operations_for", "schema_editor_for"]
