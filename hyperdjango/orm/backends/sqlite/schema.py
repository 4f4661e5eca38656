"""SQLite DDL: declared types chosen so the driver types each column's values on the way back."""

from __future__ import annotations

from ..base.schema import BaseSchemaEditor


class SQLiteSchemaEditor(BaseSchemaEditor):
    auto_pk = "INTEGER PRIMARY KEY AUTOINCREMENT"
    column_types = {
        "IntegerField": "INTEGER",
        "FloatField": "REAL",
        "DecimalField": "DECIMAL({max_digits}, {decimal_places})",
        "BooleanField": "BOOLEAN",
        "TextField": "TEXT",
        "CharField": "VARCHAR({max_length})",
        "DateTimeField": "DATETIME",
        "DateField": "DATE",
        "TimeField": "TIME",
        "UUIDField": "UUID",
        "BinaryField": "BLOB",
        "JSONField": "JSON",
    }
