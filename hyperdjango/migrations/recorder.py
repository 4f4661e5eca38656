"""``hyper_migrations``: which migrations the database has applied (one row per migration)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from ..orm import Field
from ..orm.models import Model

if TYPE_CHECKING:
    from ..database import Database


class AppliedMigration(Model):
    """A row of ``hyper_migrations``."""

    class Meta:
        table = "hyper_migrations"
        unique_together = [("app", "name")]
        ordering = ["id"]

    app: str = Field(max_length=255)
    name: str = Field(max_length=255)
    applied: datetime.datetime = Field(auto_now_add=True)


class MigrationRecorder:
    """Reads and writes ``hyper_migrations`` on one database; the table is created on first use."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def ensure_table(self) -> None:
        await self.db.create_tables(AppliedMigration)

    async def applied(self) -> set[tuple[str, str]]:
        await self.ensure_table()
        rows = await AppliedMigration.objects.using(self.db).values_list("app", "name")
        return {(app, name) for app, name in rows}

    async def record_applied(self, app: str, name: str) -> None:
        await AppliedMigration.objects.using(self.db).create(app=app, name=name)

    async def record_unapplied(self, app: str, name: str) -> None:
        await AppliedMigration.objects.using(self.db).filter(app=app, name=name).delete()
