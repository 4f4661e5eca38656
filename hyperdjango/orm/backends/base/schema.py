"""DDL from models: CREATE TABLE and CREATE INDEX, per backend."""

from __future__ import annotations

from typing import Any

from ...fields import Field
from .operations import BaseOperations

ON_DELETE_SQL = {"CASCADE": "CASCADE", "SET_NULL": "SET NULL", "RESTRICT": "RESTRICT", "PROTECT": "NO ACTION", "DO_NOTHING": "NO ACTION"}


class BaseSchemaEditor:
    """Generates the statements that create a model's table; the column types are the backend's."""

    #: field class name → column type (``{max_length}`` etc. filled from the field).
    column_types: dict[str, str] = {}
    auto_pk = ""

    def __init__(self, ops: BaseOperations) -> None:
        self.ops = ops

    def column_type(self, field: Field) -> str:
        name = type(field).__name__
        if name == "TextField" and field.max_length is not None:
            name = "CharField"
        template = self.column_types[name]
        return template.format(max_length=field.max_length, max_digits=field.max_digits or 30, decimal_places=field.decimal_places or 10)

    def column_sql(self, field: Field) -> str:
        q = self.ops.quote
        if field.primary_key and field.auto:
            return f"{q(field.column)} {self.auto_pk}"
        parts = [q(field.column), self.column_type(field)]
        if field.primary_key:
            parts.append("PRIMARY KEY")
        elif not field.null:
            parts.append("NOT NULL")
        if field.unique and not field.primary_key:
            parts.append("UNIQUE")
        if field.foreign_key is not None:
            target = field.related_model._meta
            parts.append(f"REFERENCES {q(target.table)} ({q(target.pk.column)}) ON DELETE {ON_DELETE_SQL[field.on_delete]}")
        return " ".join(parts)

    def create_table(self, model: Any) -> list[str]:
        """``CREATE TABLE IF NOT EXISTS`` and its indexes, so it may run at every start."""
        meta = model._meta
        q = self.ops.quote
        lines = [self.column_sql(f) for f in meta.fields]
        for fields in meta.unique_together:
            cols = ", ".join(q(meta.get_field(n).column) for n in fields)
            lines.append(f"UNIQUE ({cols})")
        statements = [f"CREATE TABLE IF NOT EXISTS {q(meta.table)} (\n    " + ",\n    ".join(lines) + "\n)"]
        indexed = [(f.name,) for f in meta.fields if (f.index or f.foreign_key is not None) and not f.unique]
        for names in [*indexed, *meta.indexes]:
            cols = [meta.get_field(n).column for n in names]
            index = f"{meta.table}_{'_'.join(cols)}_idx"
            statements.append(f"CREATE INDEX IF NOT EXISTS {q(index)} ON {q(meta.table)} ({', '.join(map(q, cols))})")
        return statements

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
            for field in model._meta.fields:
                if field.foreign_key is not None:
                    visit(field.related_model, (*path, model))
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
