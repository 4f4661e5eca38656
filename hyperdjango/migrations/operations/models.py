"""Operations on whole models: create, delete, rename, move to another table; indexes and unique_together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...orm.fields import Field
from ..state import ModelState, ProjectState, clone_field
from .base import Operation, SchemaContext


def _group(names: Any) -> tuple[str, ...]:
    return (names,) if isinstance(names, str) else tuple(names)


@dataclass
class CreateModel(Operation):
    """Creates a model's table (with its indexes and unique_together)."""

    name: str
    table: str
    fields: list[tuple[str, Field]]
    unique_together: list[tuple[str, ...]] = field(default_factory=list)
    indexes: list[tuple[str, ...]] = field(default_factory=list)

    def state_forwards(self, app: str, state: ProjectState) -> None:
        fields = {name: clone_field(name, f) for name, f in self.fields}
        state.models[f"{app}.{self.name}"] = ModelState(
            app, self.name, self.table, fields, [_group(u) for u in self.unique_together], [_group(i) for i in self.indexes]
        )

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await ctx.run(ctx.editor.create_table_sql(to_state.table_spec(to_state.model(app, self.name))))

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await ctx.run([ctx.editor.drop_table_sql(self.table)])

    def describe(self) -> str:
        return f"Create model {self.name} (table {self.table})"

    @property
    def name_fragment(self) -> str:
        return self.name.lower()


@dataclass
class DeleteModel(Operation):
    """Drops a model's table."""

    name: str

    def state_forwards(self, app: str, state: ProjectState) -> None:
        del state.models[state.model(app, self.name).label]

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await ctx.run([ctx.editor.drop_table_sql(from_state.model(app, self.name).table)])

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await ctx.run(ctx.editor.create_table_sql(to_state.table_spec(to_state.model(app, self.name))))

    def describe(self) -> str:
        return f"Delete model {self.name}"

    @property
    def name_fragment(self) -> str:
        return f"delete_{self.name.lower()}"


@dataclass
class RenameModel(Operation):
    """Renames a model class; foreign keys to it follow. The table keeps its name (see AlterModelTable)."""

    old_name: str
    new_name: str

    def state_forwards(self, app: str, state: ProjectState) -> None:
        model = state.models.pop(state.model(app, self.old_name).label)
        old_label = model.label
        model.name = self.new_name
        state.models[model.label] = model
        for _, f in state.references_to(old_label):
            f.foreign_key = model.label

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        pass  # a class name is not in the database

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        pass

    def describe(self) -> str:
        return f"Rename model {self.old_name} to {self.new_name}"

    @property
    def name_fragment(self) -> str:
        return f"rename_{self.old_name.lower()}_{self.new_name.lower()}"


@dataclass
class AlterModelTable(Operation):
    """Renames a model's table (``Meta.table`` changed, or the class was renamed)."""

    name: str
    table: str

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.model(app, self.name).table = self.table

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        old = from_state.model(app, self.name)
        await ctx.run(ctx.editor.rename_table(from_state.table_spec(old), to_state.model(app, self.name).table))

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await self.database_forwards(app, ctx, from_state, to_state)

    def describe(self) -> str:
        return f"Rename table of {self.name} to {self.table}"

    @property
    def name_fragment(self) -> str:
        return f"alter_{self.name.lower()}_table"


def _spec(state: ProjectState, app: str, model_name: str) -> Any:
    return state.table_spec(state.model(app, model_name))


async def _create_index(ctx: SchemaContext, app: str, model_name: str, fields: tuple[str, ...], having: ProjectState) -> None:
    model = having.model(app, model_name)
    await ctx.run([ctx.editor.create_index_sql(model.table, model.columns(fields))])


async def _drop_index(ctx: SchemaContext, app: str, model_name: str, fields: tuple[str, ...], having: ProjectState) -> None:
    model = having.model(app, model_name)
    await ctx.run([ctx.editor.drop_index_sql(model.table, model.columns(fields))])


async def _add_unique(ctx: SchemaContext, app: str, model_name: str, fields: tuple[str, ...], lacking: ProjectState, having: ProjectState) -> None:
    columns = having.model(app, model_name).columns(fields)
    await ctx.run(ctx.editor.add_unique(_spec(lacking, app, model_name), _spec(having, app, model_name), columns))


async def _drop_unique(ctx: SchemaContext, app: str, model_name: str, fields: tuple[str, ...], having: ProjectState, lacking: ProjectState) -> None:
    columns = having.model(app, model_name).columns(fields)
    await ctx.run(ctx.editor.drop_unique(_spec(having, app, model_name), _spec(lacking, app, model_name), columns))


def _add_group(groups: list[tuple[str, ...]], fields: tuple[str, ...], what: str) -> None:
    if fields in groups:
        raise ValueError(f"{what} {fields} exists already")
    groups.append(fields)


def _remove_group(groups: list[tuple[str, ...]], fields: tuple[str, ...], what: str) -> None:
    if fields not in groups:
        raise ValueError(f"there is no {what} {fields}")
    groups.remove(fields)


@dataclass
class AddIndex(Operation):
    """Adds an index over ``fields`` (``Meta.indexes``)."""

    model_name: str
    fields: tuple[str, ...]

    def state_forwards(self, app: str, state: ProjectState) -> None:
        _add_group(state.model(app, self.model_name).indexes, _group(self.fields), f"{self.model_name} index")

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await _create_index(ctx, app, self.model_name, _group(self.fields), to_state)

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await _drop_index(ctx, app, self.model_name, _group(self.fields), from_state)

    def describe(self) -> str:
        return f"Add index on {self.model_name} ({', '.join(_group(self.fields))})"

    @property
    def name_fragment(self) -> str:
        return f"{self.model_name.lower()}_{'_'.join(_group(self.fields))}_idx"


@dataclass
class RemoveIndex(Operation):
    """Drops the index over ``fields``."""

    model_name: str
    fields: tuple[str, ...]

    def state_forwards(self, app: str, state: ProjectState) -> None:
        _remove_group(state.model(app, self.model_name).indexes, _group(self.fields), f"{self.model_name} index")

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await _drop_index(ctx, app, self.model_name, _group(self.fields), from_state)

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await _create_index(ctx, app, self.model_name, _group(self.fields), to_state)

    def describe(self) -> str:
        return f"Remove index on {self.model_name} ({', '.join(_group(self.fields))})"

    @property
    def name_fragment(self) -> str:
        return f"remove_{self.model_name.lower()}_{'_'.join(_group(self.fields))}_idx"


@dataclass
class AddConstraint(Operation):
    """Makes ``fields`` unique together (``Meta.unique_together``)."""

    model_name: str
    fields: tuple[str, ...]

    def state_forwards(self, app: str, state: ProjectState) -> None:
        _add_group(state.model(app, self.model_name).unique_together, _group(self.fields), f"{self.model_name} unique_together")

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await _add_unique(ctx, app, self.model_name, _group(self.fields), from_state, to_state)

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await _drop_unique(ctx, app, self.model_name, _group(self.fields), from_state, to_state)

    def describe(self) -> str:
        return f"Make {self.model_name} ({', '.join(_group(self.fields))}) unique together"

    @property
    def name_fragment(self) -> str:
        return f"{self.model_name.lower()}_{'_'.join(_group(self.fields))}_uniq"


@dataclass
class RemoveConstraint(Operation):
    """Drops the unique_together constraint over ``fields``."""

    model_name: str
    fields: tuple[str, ...]

    def state_forwards(self, app: str, state: ProjectState) -> None:
        _remove_group(state.model(app, self.model_name).unique_together, _group(self.fields), f"{self.model_name} unique_together")

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await _drop_unique(ctx, app, self.model_name, _group(self.fields), from_state, to_state)

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await _add_unique(ctx, app, self.model_name, _group(self.fields), from_state, to_state)

    def describe(self) -> str:
        return f"Remove unique_together ({', '.join(_group(self.fields))}) from {self.model_name}"

    @property
    def name_fragment(self) -> str:
        return f"remove_{self.model_name.lower()}_{'_'.join(_group(self.fields))}_uniq"
