"""SQLite DDL: declared types chosen so the driver types each column's values on the way back.

SQLite cannot alter a column's type, nullability or constraints, nor drop a
constrained column, so those changes rebuild the table the way SQLite's
documentation prescribes: create the new shape under a temporary name, copy
the rows, drop the old table, rename the new one, recreate the indexes. The
migration executor runs this inside its transaction with foreign keys off
and checks them before committing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..base.schema import BaseSchemaEditor, Column, Statement, TableSpec


class SQLiteSchemaEditor(BaseSchemaEditor):
    auto_pk = "INTEGER PRIMARY KEY AUTOINCREMENT"
    table_exists_sql = "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1)"
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
        "DurationField": "INTERVAL",
        "UUIDField": "UUID",
        "BinaryField": "BLOB",
        "JSONField": "JSON",
    }

    def rebuild(self, old: TableSpec, new: TableSpec, values: dict[str, str] | None = None, params: tuple[Any, ...] = ()) -> list[Statement]:
        """Statements moving ``old``'s rows into a table of shape ``new``.

        A column of ``new`` takes the old column of the same name unless
        ``values`` gives it an SQL expression (over ``old``'s columns and ``params``).
        """
        q = self.ops.quote
        values = values or {}
        temp = f"new__{new.name}"
        names = [c.name for c in new.columns]
        select = ", ".join(values.get(n, q(n)) for n in names)
        statements: list[Statement] = [
            (self.table_sql(replace(new, name=temp)), ()),
            (f"INSERT INTO {q(temp)} ({', '.join(map(q, names))}) SELECT {select} FROM {q(old.name)}", params),
            (self.drop_table_sql(old.name), ()),
            (f"ALTER TABLE {q(temp)} RENAME TO {q(new.name)}", ()),
        ]
        return statements + [(self.create_index_sql(new.name, cols), ()) for cols in new.all_indexes()]

    def rename_table(self, spec: TableSpec, new_name: str) -> list[Statement]:
        # Indexes keep their names through a rename and cannot be renamed: made afresh.
        statements: list[Statement] = [(f"ALTER TABLE {self.ops.quote(spec.name)} RENAME TO {self.ops.quote(new_name)}", ())]
        for cols in spec.all_indexes():
            statements.append((self.drop_index_sql(spec.name, cols), ()))
            statements.append((self.create_index_sql(new_name, cols), ()))
        return statements

    def add_column(self, old: TableSpec, new: TableSpec, column: Column, backfill: Any) -> list[Statement]:
        if backfill is None:
            return self.rebuild(old, new, {column.name: "NULL"})
        return self.rebuild(old, new, {column.name: "$1"}, (backfill,))

    def drop_column(self, old: TableSpec, new: TableSpec, column: Column) -> list[Statement]:
        return self.rebuild(old, new)

    def alter_column(self, old: TableSpec, new: TableSpec, before: Column, after: Column) -> list[Statement]:
        return self.rebuild(old, new)

    def add_unique(self, old: TableSpec, new: TableSpec, columns: tuple[str, ...]) -> list[Statement]:
        return self.rebuild(old, new)

    def drop_unique(self, old: TableSpec, new: TableSpec, columns: tuple[str, ...]) -> list[Statement]:
        return self.rebuild(old, new)
