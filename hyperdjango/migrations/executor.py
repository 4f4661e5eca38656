"""Applying and reversing migrations: each one in a transaction with its record.

A migration's operations and its row in ``hyper_migrations`` commit together or
not at all: a failing migration leaves neither a half-changed schema nor a
record. PostgreSQL DDL is transactional; so is SQLite's, whose table rebuilds
run with foreign keys off (they cannot be switched inside a transaction) and
are checked with ``PRAGMA foreign_key_check`` before the commit. On
PostgreSQL an advisory lock lets several processes migrate at once (the
second finds the work done).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from ..database.transactions import atomic
from ..orm.backends import features_for, schema_editor_for
from .apps import App, app_for
from .loader import MigrationError, MigrationGraph
from .migration import Migration
from .operations.base import SchemaContext
from .operations.models import CreateModel
from .recorder import MigrationRecorder
from .state import ProjectState

if TYPE_CHECKING:
    from ..database import Database

#: pg_advisory_xact_lock key serialising migrations ("hyper_migrations" as an integer).
MIGRATION_LOCK = 0x6879706572_6D6967


def _apps(apps: tuple[App | str, ...]) -> list[App]:
    return [app if isinstance(app, App) else app_for(app) for app in apps]


@contextlib.asynccontextmanager
async def _locked(db: Database) -> AsyncIterator[None]:
    """A transaction holding the migration lock; inside a caller's transaction, that one."""
    if db.in_transaction:
        # No savepoint: the caller's transaction may be waiting on work that waits on us.
        nested: contextlib.AbstractAsyncContextManager = contextlib.nullcontext()
    else:
        nested = atomic(db)
    async with nested:
        if features_for(db.vendor).supports_advisory_locks:
            await db.query_val("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        yield


@contextlib.asynccontextmanager
async def _foreign_keys_off(db: Database) -> AsyncIterator[None]:
    """SQLite: rebuilding a table must not cascade or check foreign keys row by row."""
    if not features_for(db.vendor).supports_pragma_foreign_keys or db.in_transaction:
        yield
        return
    await db.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        await db.execute("PRAGMA foreign_keys=ON")


class MigrationExecutor:
    """Plans and runs migrations of some apps on one database."""

    def __init__(self, db: Database, apps: list[App]) -> None:
        self.db = db
        self.graph = MigrationGraph(apps)
        self.recorder = MigrationRecorder(db)
        self.editor = schema_editor_for(db.vendor)

    async def applied(self) -> set[tuple[str, str]]:
        async with _locked(self.db):
            return await self.recorder.applied()

    def _closure(self, start: set[tuple[str, str]], edges: Callable[[Migration], list[tuple[str, str]]]) -> set[tuple[str, str]]:
        seen, todo = set(), list(start)
        while todo:
            key = todo.pop()
            if key not in seen and key in self.graph.migrations:
                seen.add(key)
                todo.extend(edges(self.graph.migrations[key]))
        return seen

    def plan(self, applied: set[tuple[str, str]], app: str | None = None, target: str | None = None) -> list[tuple[Migration, bool]]:
        """``(migration, backwards)`` in the order they run to reach ``target`` of ``app``
        (a migration name or prefix, or ``"zero"``); no target: everything applied."""
        graph = self.graph
        if target is None:
            return [(m, False) for m in graph.plan if m.key not in applied]
        if app is None:
            raise MigrationError("a target migration needs its app")
        children = lambda m: [c.key for c in graph.plan if m.key in c.parents]  # noqa: E731
        if target == "zero":
            undo = self._closure({m.key for m in graph.of_app(app)}, children)
            return [(m, True) for m in reversed(graph.plan) if m.key in undo and m.key in applied]
        wanted = graph.find(app, target)
        keep = self._closure({wanted.key}, lambda m: m.parents)
        later = {m.key for m in graph.of_app(app) if m.name > wanted.name}
        undo = self._closure(later, children) - keep
        backwards = [(m, True) for m in reversed(graph.plan) if m.key in undo and m.key in applied]
        forwards = [(m, False) for m in graph.plan if m.key in keep and m.key not in applied]
        return backwards + forwards

    async def migrate(
        self, app: str | None = None, target: str | None = None, log: Callable[[str], None] | None = None, fake_initial: bool = False
    ) -> list[str]:
        """Runs the plan; returns (and passes to ``log``) one line per migration."""
        plan = self.plan(await self.applied(), app, target)
        states = self.graph.state_before()
        index = {m.key: i for i, m in enumerate(self.graph.plan)}
        done = []
        for migration, backwards in plan:
            line = f"{'Unapplying' if backwards else 'Applying'} {migration.app}.{migration.name}"
            if not backwards and fake_initial and await self._tables_exist(migration):
                line = f"Faking {migration.app}.{migration.name} (its tables exist)"
                ran = await self._record_only(migration)
            else:
                ran = await self._run(migration, states[index[migration.key]], backwards)
            if ran:
                done.append(line)
                if log:
                    log(line)
        return done

    async def _tables_exist(self, migration: Migration) -> bool:
        """Whether ``migration`` is its app's first and every table it creates is there already
        (Django's ``--fake-initial``: adopting tables made before migrations were used)."""
        if any(parent[0] == migration.app for parent in migration.parents):
            return False
        tables = [op.table for op in migration.operations if isinstance(op, CreateModel)]
        for table in tables:
            if not await self.db.query_val(self.editor.table_exists_sql, table):
                return False
        return bool(tables)

    async def _record_only(self, migration: Migration) -> bool:
        async with _locked(self.db):
            if migration.key in await self.recorder.applied():
                return False
            await self.recorder.record_applied(migration.app, migration.name)
        return True

    async def _run(self, migration: Migration, before: ProjectState, backwards: bool) -> bool:
        """Runs one migration in its transaction; False when another process already did."""
        if backwards:
            for operation in migration.operations:
                if not operation.reversible:
                    raise MigrationError(f"{migration.app}.{migration.name} cannot be reversed: {operation.describe()} has no reverse")
        ctx = SchemaContext(self.db, self.editor)
        async with _foreign_keys_off(self.db), _locked(self.db):
            if (migration.key in await self.recorder.applied()) != backwards:
                return False
            states = [before]
            for operation in migration.operations:
                state = states[-1].clone()
                operation.state_forwards(migration.app, state)
                states.append(state)
            steps = list(zip(migration.operations, states, states[1:]))
            try:
                if backwards:
                    for operation, lacking, having in reversed(steps):
                        await operation.database_backwards(migration.app, ctx, having, lacking)
                    await self.recorder.record_unapplied(migration.app, migration.name)
                else:
                    for operation, lacking, having in steps:
                        await operation.database_forwards(migration.app, ctx, lacking, having)
                    await self.recorder.record_applied(migration.app, migration.name)
            except MigrationError:
                raise
            except Exception as e:
                raise MigrationError(f"{migration.app}.{migration.name} failed and was rolled back: {type(e).__name__}: {e}") from e
            if features_for(self.db.vendor).supports_pragma_foreign_keys:
                broken = await self.db.query("PRAGMA foreign_key_check")
                if broken:
                    tables = sorted({row["table"] for row in broken})
                    raise MigrationError(f"{migration.app}.{migration.name} would break foreign keys in {', '.join(tables)}; rolled back")
        return True


async def migrate(
    db: Database, *apps: App | str, target: str | None = None, log: Callable[[str], None] | None = None, fake_initial: bool = False
) -> list[str]:
    """Applies the unapplied migrations of ``apps`` (labels like ``"examples"`` or :class:`App`).

    With ``target`` (one app only): migrates that app to the named migration
    (``"0001"`` or ``"0001_initial"``), reversing later ones, or reverses all of
    it with ``"zero"``. Returns one line per migration run, e.g.
    ``"Applying examples.0001_initial"``. ``fake_initial=True`` records an app's
    first migration as applied without running it when every table it creates
    exists already (tables made by ``create_tables`` before migrations).
    """
    found = _apps(apps)
    if target is not None and len(found) != 1:
        raise MigrationError("a target migration is given for exactly one app")
    executor = MigrationExecutor(db, found)
    return await executor.migrate(found[0].label if target is not None else None, target, log, fake_initial)


async def show_migrations(db: Database, *apps: App | str) -> dict[str, list[tuple[str, bool]]]:
    """Each app's migrations in order, with whether the database has applied them."""
    executor = MigrationExecutor(db, _apps(apps))
    applied = await executor.applied()
    return {label: [(m.name, m.key in applied) for m in executor.graph.of_app(label)] for label in executor.graph.apps}
