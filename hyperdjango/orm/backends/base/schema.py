"""DDL per backend: CREATE TABLE and CREATE INDEX from models, and the ALTERs migrations need.

Every statement is built from a :class:`TableSpec`, which a model class
(``create_tables``) and a migration's state (``hyper migrate``) both describe,
so the two never spell a table differently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...fields import Field
from .operations import BaseOperations

ON_DELETE_SQL = {"CASCADE": "CASCADE", "SET_NULL": "SET NULL", "RESTRICT": "RESTRICT", "PROTECT": "NO ACTION", "DO_NOTHING": "NO ACTION"}

#: One statement and its bound parameters.
Statement = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True)
class Column:
    """A field as a column; ``references`` is a foreign key's target ``(table, column)``."""

    field: Field
    references: tuple[str, str] | None = None

    @property
    def name(self) -> str:
        return self.field.column


@dataclass(frozen=True)
class TableSpec:
    """What DDL needs to know of one table. ``unique_together`` and ``indexes`` hold column names."""

    name: str
    columns: tuple[Column, ...]
    unique_together: tuple[tuple[str, ...], ...] = ()
    indexes: tuple[tuple[str, ...], ...] = field(default=())

    @classmethod
    def of_model(cls, model: Any) -> TableSpec:
        meta = model._meta
        columns = []
        for f in meta.fields:
            target = f.related_model._meta if f.foreign_key is not None else None
            columns.append(Column(f, (target.table, target.pk.column) if target else None))
        column = lambda names: tuple(meta.column_field(n).column for n in names)  # noqa: E731
        return cls(meta.table, tuple(columns), tuple(map(column, meta.unique_together)), tuple(map(column, meta.indexes)))

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def all_indexes(self) -> list[tuple[str, ...]]:
        """``Meta.indexes`` and the implicit ones: ``index=True`` and foreign keys (unless unique)."""
        implicit = [(c.name,) for c in self.columns if needs_index(c)]
        return [*implicit, *(i for i in self.indexes if i not in implicit)]


def needs_index(column: Column) -> bool:
    """Whether a column gets an index of its own (``index=True`` or a foreign key, unless unique)."""
    f = column.field
    return (f.index or column.references is not None) and not f.unique


class BaseSchemaEditor:
    """Generates DDL; the column types, and how to alter a table, are the backend's."""

    #: field class name → column type (``{max_length}`` etc. filled from the field).
    column_types: dict[str, str] = {}
    auto_pk = ""
    #: A query answering one boolean: does the table named $1 exist?
    table_exists_sql = ""

    def __init__(self, ops: BaseOperations) -> None:
        self.ops = ops

    def column_type(self, field: Field) -> str:
        name = type(field).__name__
        if name == "TextField" and field.max_length is not None:
            name = "CharField"
        template = self.column_types[name]
        return template.format(max_length=field.max_length, max_digits=field.max_digits or 30, decimal_places=field.decimal_places or 10)

    def column_sql(self, column: Column, *, null: bool | None = None) -> str:
        """The column's definition; ``null=True`` leaves NOT NULL out (added after a backfill)."""
        q = self.ops.quote
        field = column.field
        if field.primary_key and field.auto:
            return f"{q(field.column)} {self.auto_pk}"
        parts = [q(field.column), self.column_type(field)]
        if field.primary_key:
            parts.append("PRIMARY KEY")
        elif not (field.null if null is None else null):
            parts.append("NOT NULL")
        if field.unique and not field.primary_key:
            parts.append("UNIQUE")
        if column.references is not None:
            table, target = column.references
            parts.append(f"REFERENCES {q(table)} ({q(target)}) ON DELETE {ON_DELETE_SQL[field.on_delete]}")
        return " ".join(parts)

    # -- names ----------------------------------------------------------------------

    def index_name(self, table: str, columns: tuple[str, ...]) -> str:
        return f"{table}_{'_'.join(columns)}_idx"

    def unique_name(self, table: str, columns: tuple[str, ...]) -> str:
        return f"{table}_{'_'.join(columns)}_uniq"

    # -- whole tables -----------------------------------------------------------------

    def table_sql(self, spec: TableSpec, *, if_not_exists: bool = False) -> str:
        q = self.ops.quote
        lines = [self.column_sql(c) for c in spec.columns]
        for columns in spec.unique_together:
            lines.append(f"CONSTRAINT {q(self.unique_name(spec.name, columns))} UNIQUE ({', '.join(map(q, columns))})")
        exists = "IF NOT EXISTS " if if_not_exists else ""
        return f"CREATE TABLE {exists}{q(spec.name)} (\n    " + ",\n    ".join(lines) + "\n)"

    def create_index_sql(self, table: str, columns: tuple[str, ...], *, if_not_exists: bool = False) -> str:
        q = self.ops.quote
        exists = "IF NOT EXISTS " if if_not_exists else ""
        return f"CREATE INDEX {exists}{q(self.index_name(table, columns))} ON {q(table)} ({', '.join(map(q, columns))})"

    def drop_index_sql(self, table: str, columns: tuple[str, ...]) -> str:
        return f"DROP INDEX {self.ops.quote(self.index_name(table, columns))}"

    def create_table_sql(self, spec: TableSpec, *, if_not_exists: bool = False) -> list[str]:
        """The table and its indexes."""
        return [self.table_sql(spec, if_not_exists=if_not_exists)] + [
            self.create_index_sql(spec.name, cols, if_not_exists=if_not_exists) for cols in spec.all_indexes()
        ]

    def create_table(self, model: Any) -> list[str]:
        """``CREATE TABLE IF NOT EXISTS`` and its indexes, so it may run at every start."""
        return self.create_table_sql(TableSpec.of_model(model), if_not_exists=True)

    def drop_table_sql(self, table: str) -> str:
        return f"DROP TABLE {self.ops.quote(table)}"

    def rename_table(self, spec: TableSpec, new_name: str) -> list[Statement]:
        """Renames the table; its indexes and constraints are renamed to match the new name."""
        q = self.ops.quote
        statements: list[Statement] = [(f"ALTER TABLE {q(spec.name)} RENAME TO {q(new_name)}", ())]
        for cols in spec.all_indexes():
            statements.append((f"ALTER INDEX {q(self.index_name(spec.name, cols))} RENAME TO {q(self.index_name(new_name, cols))}", ()))
        for cols in spec.unique_together:
            old, new = self.unique_name(spec.name, cols), self.unique_name(new_name, cols)
            statements.append((f"ALTER TABLE {q(new_name)} RENAME CONSTRAINT {q(old)} TO {q(new)}", ()))
        return statements

    # -- columns, indexes, constraints (PostgreSQL alters in place; SQLite overrides) ----

    def add_column(self, old: TableSpec, new: TableSpec, column: Column, backfill: Any) -> list[Statement]:
        """Adds ``column``; existing rows get ``backfill`` before NOT NULL applies."""
        q = self.ops.quote
        table = q(new.name)
        statements: list[Statement] = [(f"ALTER TABLE {table} ADD COLUMN {self.column_sql(column, null=True)}", ())]
        if backfill is not None:
            statements.append((f"UPDATE {table} SET {q(column.name)} = {self.ops.cast_param('$1', type(backfill))}", (backfill,)))
        if not column.field.null:
            statements.append((f"ALTER TABLE {table} ALTER COLUMN {q(column.name)} SET NOT NULL", ()))
        if needs_index(column):
            statements.append((self.create_index_sql(new.name, (column.name,)), ()))
        return statements

    def drop_column(self, old: TableSpec, new: TableSpec, column: Column) -> list[Statement]:
        # Indexes on the column go with it.
        return [(f"ALTER TABLE {self.ops.quote(old.name)} DROP COLUMN {self.ops.quote(column.name)}", ())]

    def rename_column(self, old: TableSpec, new: TableSpec, old_column: Column, new_column: Column) -> list[Statement]:
        q = self.ops.quote
        statements: list[Statement] = [(f"ALTER TABLE {q(old.name)} RENAME COLUMN {q(old_column.name)} TO {q(new_column.name)}", ())]
        # Index names spell their columns: the indexes over this one are made afresh under the new name.
        for cols in old.all_indexes():
            if old_column.name in cols:
                statements.append((self.drop_index_sql(old.name, cols), ()))
                statements.append((self.create_index_sql(new.name, renamed(cols, old_column.name, new_column.name)), ()))
        return statements

    def alter_column(self, old: TableSpec, new: TableSpec, before: Column, after: Column) -> list[Statement]:
        raise NotImplementedError

    def add_unique(self, old: TableSpec, new: TableSpec, columns: tuple[str, ...]) -> list[Statement]:
        q = self.ops.quote
        return [(f"ALTER TABLE {q(new.name)} ADD CONSTRAINT {q(self.unique_name(new.name, columns))} UNIQUE ({', '.join(map(q, columns))})", ())]

    def drop_unique(self, old: TableSpec, new: TableSpec, columns: tuple[str, ...]) -> list[Statement]:
        q = self.ops.quote
        return [(f"ALTER TABLE {q(old.name)} DROP CONSTRAINT {q(self.unique_name(old.name, columns))}", ())]

    # -- several models ----------------------------------------------------------------

    def ordered(self, models: Any) -> list[Any]:
        """``models`` and their many-to-many link models, each after the models it references."""
        wanted: list[Any] = []
        for model in models:
            if model._meta.abstract:
                raise TypeError(f"{model.__name__} is abstract: it has no table")
            for m in [model, *(d.through for d in model._meta.many_to_many)]:
                if m not in wanted:
                    wanted.append(m)
        ordered: list[Any] = []

        def visit(model: Any, path: tuple[Any, ...]) -> None:
            if model in ordered or model not in wanted or model in path:
                return
            for model_field in model._meta.fields:
                if model_field.foreign_key is not None:
                    visit(model_field.related_model, (*path, model))
            ordered.append(model)

        for model in wanted:
            visit(model, ())
        return ordered

    def create_tables(self, models: Any) -> list[str]:
        """The statements creating ``models`` (with their link tables), referenced tables first."""
        return [statement for model in self.ordered(models) for statement in self.create_table(model)]

    def drop_tables(self, models: Any) -> list[str]:
        """``DROP TABLE IF EXISTS`` for ``models`` (with their link tables), referencing tables first."""
        return [f"DROP TABLE IF EXISTS {self.ops.quote(m._meta.table)}" for m in reversed(self.ordered(models))]



def renamed(columns: tuple[str, ...], old: str, new: str) -> tuple[str, ...]:
    """``columns`` with ``old`` renamed to ``new``."""
    return tuple(new if c == old else c for c in columns)
