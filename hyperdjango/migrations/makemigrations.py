"""``make_migrations``: diff an app's models against its migrations and write the next file."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from pathlib import Path

from .apps import App, app_for, label_of
from .autodetector import Ask, detect_changes, never
from .loader import FILE_NAME, MigrationGraph, migration_files
from .state import ProjectState
from .writer import write_migration

MAX_NAME = 52


def _migration_name(fragments: list[str | None], initial: bool) -> str:
    if initial:
        return "initial"
    if fragments and all(fragments) and len(joined := "_".join(f for f in fragments if f)) <= MAX_NAME:
        return joined
    return "auto_" + datetime.datetime.now(datetime.UTC).strftime("%Y%m%d_%H%M")


def make_migrations(
    app: App | str,
    *,
    name: str | None = None,
    empty: bool = False,
    ask: Ask = never,
    log: Callable[[str], None] | None = None,
) -> Path | None:
    """Writes ``<app>/migrations/NNNN_<name>.py`` with the changes of the app's models since
    its last migration; returns its path, or None when nothing changed (and not ``empty``).

    ``ask(question)`` answers "Did you rename ...? [y/N]" (default: no).
    """
    app = app if isinstance(app, App) else app_for(app)
    if name is not None and not re.fullmatch(r"\w+", name):
        raise ValueError(f"a migration name is letters, digits and underscores, not {name!r}")
    graph = MigrationGraph([app])
    old = graph.final_state()
    new = ProjectState.from_models({app.label: app.models}, label_of)
    operations = [] if empty else detect_changes(app.label, old, new, ask)
    if not operations and not empty:
        if log:
            log(f"No changes in {app.label}")
        return None
    leaf = graph.leaf(app.label)
    dependencies = [leaf.key] if leaf else []
    for other in sorted({f.foreign_key.rsplit(".", 1)[0] for m in new.app_models(app.label).values() for f in m.fields.values() if f.foreign_key} - {app.label}):
        other_leaf = MigrationGraph([app_for(other)]).leaf(other)
        if other_leaf is not None:
            dependencies.append(other_leaf.key)
    existing = migration_files(app.migrations_dir)
    number = max((int(FILE_NAME.match(p.name).group(1)) for p in existing), default=0) + 1  # type: ignore[union-attr]
    file_name = f"{number:04d}_{name or _migration_name([op.name_fragment for op in operations], not existing)}"
    app.migrations_dir.mkdir(parents=True, exist_ok=True)
    path = app.migrations_dir / f"{file_name}.py"
    path.write_text(write_migration(app.label, file_name, dependencies, operations))
    if log:
        log(f"Migrations for {app.label}: {path}")
        for op in operations:
            log(f"  - {op.describe()}")
    return path
