"""What every operation is: a change of the project state and of the database, both ways."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...database import Database
    from ...orm.backends.base.schema import BaseSchemaEditor, Statement
    from ..state import ProjectState


class IrreversibleError(Exception):
    """An operation with no way back (``RunSQL`` without ``reverse_sql``, ``RunPython`` without ``reverse_code``)."""


class SchemaContext:
    """The database a migration runs on, inside its transaction, and that database's DDL generator."""

    def __init__(self, db: Database, editor: BaseSchemaEditor) -> None:
        self.db = db
        self.editor = editor

    async def run(self, statements: list[Statement] | list[str]) -> None:
        for statement in statements:
            sql, params = (statement, ()) if isinstance(statement, str) else statement
            await self.db.execute(sql, *params)


@dataclasses.dataclass
class Operation:
    """One change. Subclasses are dataclasses: their fields are what a migration file writes.

    ``state_forwards`` changes the state; ``database_forwards`` changes the database
    from ``from_state`` to ``to_state``; ``database_backwards`` undoes it (there
    ``from_state`` includes the operation and ``to_state`` does not).
    """

    reversible = True

    def state_forwards(self, app: str, state: ProjectState) -> None:
        pass

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        raise NotImplementedError

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        """One line for humans (``hyper makemigrations`` prints it)."""
        return type(self).__name__

    @property
    def name_fragment(self) -> str | None:
        """A piece of the migration's file name, or None when this operation cannot name it."""
        return None

    def arguments(self) -> dict[str, Any]:
        """The constructor's arguments, in order, as a migration file spells them."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
