"""Operations the autodetector never writes: your own SQL and your own async code."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .base import IrreversibleError, Operation, SchemaContext

if TYPE_CHECKING:
    from ...database import Database
    from ..state import ProjectState

#: One statement, or several (each a string or ``(sql, params)``).
SQL = str | Sequence[str | tuple[str, Sequence[Any]]]


def _statements(sql: SQL) -> list[tuple[str, tuple[Any, ...]]]:
    items = [sql] if isinstance(sql, str) else list(sql)
    return [(item, ()) if isinstance(item, str) else (item[0], tuple(item[1])) for item in items if item]


@dataclass
class RunSQL(Operation):
    """Runs ``sql`` forwards and ``reverse_sql`` backwards (``RunSQL.noop``: nothing to undo).

    Each is a statement or a list of statements, a statement being a string or
    ``(sql, params)`` with ``$1``-style placeholders. Without ``reverse_sql`` the
    migration cannot be reversed.
    """

    sql: SQL
    reverse_sql: SQL | None = None

    noop = ""

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return self.reverse_sql is not None

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await ctx.run(_statements(self.sql))

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        if self.reverse_sql is None:
            raise IrreversibleError(f"RunSQL in {app} has no reverse_sql: it cannot be reversed")
        await ctx.run(_statements(self.reverse_sql))

    def describe(self) -> str:
        return "Raw SQL"


MigrationCode = Callable[["Database"], Awaitable[Any]]


@dataclass
class RunPython(Operation):
    """Awaits ``code(db)`` forwards and ``reverse_code(db)`` backwards, inside the migration's transaction.

    Both are ``async def f(db)`` functions defined at the top of the migration
    file; ``db`` is the database being migrated (``await db.execute(...)``,
    ``Model.objects.using(db)``). ``RunPython.noop`` does nothing.
    """

    code: MigrationCode
    reverse_code: MigrationCode | None = None

    def __post_init__(self) -> None:
        for fn in (self.code, self.reverse_code):
            if fn is not None and not inspect.iscoroutinefunction(fn):
                raise TypeError(f"RunPython takes async functions (async def f(db)), not {fn!r}")

    @staticmethod
    async def noop(db: Database) -> None:
        """Nothing: for a RunPython that need not be undone."""

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return self.reverse_code is not None

    async def database_forwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        await self.code(ctx.db)

    async def database_backwards(self, app: str, ctx: SchemaContext, from_state: ProjectState, to_state: ProjectState) -> None:
        if self.reverse_code is None:
            raise IrreversibleError(f"RunPython({self.code.__name__}) in {app} has no reverse_code: it cannot be reversed")
        await self.reverse_code(ctx.db)

    def describe(self) -> str:
        return f"Run Python {self.code.__name__}"
