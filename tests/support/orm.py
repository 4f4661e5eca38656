"""ORM test helpers: tables per module, blocks that are always rolled back."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from hyperdjango.database import Database, atomic


class Rollback(Exception):
    """Raised at the end of a ``rolled_back`` block to undo it."""


@asynccontextmanager
async def rolled_back(db: Database):
    """A transaction that is always rolled back: a test may change seeded rows freely."""
    try:
        async with atomic(db):
            yield
            raise Rollback
    except Rollback:
        pass


def setup_tables(url: str, models: tuple, seed=None) -> None:
    """Drops and creates ``models``' tables on ``url`` and runs ``seed(db)``, on a loop of its own."""

    async def run() -> None:
        db = Database(url)
        await db.drop_tables(*models)
        await db.create_tables(*models)
        if seed is not None:
            await seed(db)
        await db.close()

    asyncio.run(run())


class CountingDatabase:
    """A real database seen through a count of the statements sent to it, to show how many
    queries a QuerySet runs (prefetching: one per level, none when reading the results).

    Not a ``Database``, so the ORM's planned reads (``PlannedRead``) call its public
    methods too: every read of the ORM reaches one of the methods below."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.statements: list[str] = []

    def __getattr__(self, name: str):
        return getattr(self._db, name)

    async def query(self, sql: str, *params):
        self.statements.append(sql)
        return await self._db.query(sql, *params)

    async def query_instances(self, reader, sql: str, *params):
        self.statements.append(sql)
        return await self._db.query_instances(reader, sql, *params)

    async def query_instance(self, reader, several, sql: str, *params):
        self.statements.append(sql)
        return await self._db.query_instance(reader, several, sql, *params)

    async def query_val(self, sql: str, *params):
        self.statements.append(sql)
        return await self._db.query_val(sql, *params)

    async def query_exists(self, sql: str, *params):
        self.statements.append(sql)
        return await self._db.query_exists(sql, *params)
