"""Operations on one field of a model: add, remove, alter, rename."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...orm.fields import MISSING, Field
from ..state import ModelState, ProjectState, clone_field, deconstruct
from .base import Operation, SchemaContext


def _backfill(f: Field) -> Any:
    """What existing rows get in a new column: the field's default (None: NULL)."""
    return f.get_default() if f.default is not MISSING else None


def _rename_in_groups(groups: list[tuple[str, ...]], old: str, new: str) -> list[tuple[str, ...]]:
    return [tuple(new if n == old else n for n in group) for group in groups]


def _schema_of(f: Field) -> tuple[str, dict[str, Any]]:
    """A field's column shape; its default is only a backfill value, not part of the schema."""
    name, options = deconstruct(f)
    options.pop("default", None)
    return name, options


@dataclass
class AddField(Operation):
    """Adds a column; existing rows take the field's default."""

    model_name: str
    name: str
    field: Field

    def state_forwards(self, app: str, state: ProjectState) -> None:
        model = state.model(app, self.model_name)
        if self.name in model.fields:
            raise ValueError(f"{model.label} already has a field {self.name!r}")
        model.fields[self.name] = clone_field(self.name, self.field)

    async def _add(self, app: str, ctx: SchemaContext, lacking: ProjectState, having: ProjectState) -> None:
        model: ModelState = having.model(app, self.model_name)
        f = model.fields[self.name]
        column = having.column(model, f)
        old, new = lacking.table_spec(lacking.model(app, self.model_name)), having.table_spec(model)
        await ctx.run(ctx.editor.add_column(old, new, column, _backfill(f)))

    async def _drop(self, app: str, ctx: SchemaContext, having: ProjectState, lacking: ProjectState) -> None:
        model = having.model(app, self.model_name)
        column = having.column(model, model.fields[self.name])
        old, new = having.table_spec(model), lacking.table_spec(lacking.model(app, self.model_name))
        await ctx.run(ctx.editor.drop_column(old, new, column))

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await self._add(app, ctx, from_state, to_state)

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await self._drop(app, ctx, from_state, to_state)

    def describe(self) -> str:
        return f"Add field {self.name} to {self.model_name}"

    @property
    def name_fragment(self) -> str:
        return f"{self.model_name.lower()}_{self.name}"


@dataclass
class RemoveField(Operation):
    """Drops a column. Reversed, it comes back holding the field's default."""

    model_name: str
    name: str

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.model(app, self.model_name).fields.pop(self.name)

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await AddField(self.model_name, self.name, from_state.model(app, self.model_name).fields[self.name])._drop(app, ctx, from_state, to_state)

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await AddField(self.model_name, self.name, to_state.model(app, self.model_name).fields[self.name])._add(app, ctx, from_state, to_state)

    def describe(self) -> str:
        return f"Remove field {self.name} from {self.model_name}"

    @property
    def name_fragment(self) -> str:
        return f"remove_{self.model_name.lower()}_{self.name}"


@dataclass
class AlterField(Operation):
    """Changes a column's type, nullability, uniqueness, index or foreign key."""

    model_name: str
    name: str
    field: Field

    def state_forwards(self, app: str, state: ProjectState) -> None:
        model = state.model(app, self.model_name)
        model.get_field(self.name)
        model.fields[self.name] = clone_field(self.name, self.field)

    async def _alter(self, app: str, ctx: SchemaContext, before: ProjectState, after: ProjectState) -> None:
        old, new = before.model(app, self.model_name), after.model(app, self.model_name)
        a, b = old.fields[self.name], new.fields[self.name]
        if _schema_of(a) == _schema_of(b):
            return  # only the default changed: it lives in Python
        await ctx.run(ctx.editor.alter_column(before.table_spec(old), after.table_spec(new), before.column(old, a), after.column(new, b)))

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await self._alter(app, ctx, from_state, to_state)

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await self._alter(app, ctx, from_state, to_state)

    def describe(self) -> str:
        return f"Alter field {self.name} on {self.model_name}"

    @property
    def name_fragment(self) -> str:
        return f"alter_{self.model_name.lower()}_{self.name}"


@dataclass
class RenameField(Operation):
    """Renames a field (and its column, unless ``db_column`` pins it); the data stays."""

    model_name: str
    old_name: str
    new_name: str

    def state_forwards(self, app: str, state: ProjectState) -> None:
        model = state.model(app, self.model_name)
        old = model.get_field(self.old_name)
        model.fields = {(self.new_name if n == self.old_name else n): (clone_field(self.new_name, old) if n == self.old_name else f) for n, f in model.fields.items()}
        model.unique_together = _rename_in_groups(model.unique_together, self.old_name, self.new_name)
        model.indexes = _rename_in_groups(model.indexes, self.old_name, self.new_name)

    async def _rename(self, app: str, ctx: SchemaContext, before: ProjectState, after: ProjectState, old_name: str, new_name: str) -> None:
        old, new = before.model(app, self.model_name), after.model(app, self.model_name)
        a, b = before.column(old, old.fields[old_name]), after.column(new, new.fields[new_name])
        if a.name != b.name:
            await ctx.run(ctx.editor.rename_column(before.table_spec(old), after.table_spec(new), a, b))

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await self._rename(app, ctx, from_state, to_state, self.old_name, self.new_name)

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await self._rename(app, ctx, from_state, to_state, self.new_name, self.old_name)

    def describe(self) -> str:
        return f"Rename field {self.old_name} on {self.model_name} to {self.new_name}"

    @property
    def name_fragment(self) -> str:
        return f"rename_{self.old_name}_{self.model_name.lower()}_{self.new_name}"
