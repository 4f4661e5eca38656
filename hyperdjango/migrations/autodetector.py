"""Diffing the models against the migrations' state: the operations of the next migration.

A field (or model) that disappears while one of the same shape appears may be
a rename; ``ask("Did you rename ...? [y/N]")`` decides (the CLI prompts, or
``--yes`` answers yes). Without a rename the old one is removed and the new
one added, which loses the column's data, as in Django.
"""

from __future__ import annotations

from collections.abc import Callable

from .operations import (
    AddConstraint,
    AddField,
    AddIndex,
    AlterField,
    AlterModelTable,
    CreateModel,
    DeleteModel,
    Operation,
    RemoveConstraint,
    RemoveField,
    RemoveIndex,
    RenameField,
    RenameModel,
)
from .state import ModelState, ProjectState, deconstruct

Ask = Callable[[str], bool]


def never(question: str) -> bool:
    """The default answer to "Did you rename...?": no."""
    return False


def _shape(model: ModelState) -> list[tuple[str, dict]]:
    return [deconstruct(f) for f in model.fields.values()]


def _by_references(models: list[ModelState]) -> list[ModelState]:
    """``models`` with each after the ones (of the list) its foreign keys point to."""
    labels = {m.label: m for m in models}
    ordered: list[ModelState] = []

    def visit(model: ModelState, path: tuple[str, ...]) -> None:
        if model in ordered or model.label in path:
            return
        for f in model.fields.values():
            if f.foreign_key in labels:
                visit(labels[f.foreign_key], (*path, model.label))
        ordered.append(model)

    for model in models:
        visit(model, ())
    return ordered


def detect_changes(app: str, old: ProjectState, new: ProjectState, ask: Ask = never) -> list[Operation]:
    """The operations turning ``app``'s models in ``old`` into those in ``new``."""
    before, after = old.app_models(app), new.app_models(app)
    operations: list[Operation] = []
    renamed: dict[str, str] = {}  # new model name → old one
    added = [n for n in after if n not in before]
    removed = [n for n in before if n not in after]
    for name in added:
        for old_name in removed:
            if old_name not in renamed.values() and _shape(before[old_name]) == _shape(after[name]):
                if ask(f"Did you rename the {app}.{old_name} model to {name}? [y/N]"):
                    renamed[name] = old_name
                    operations.append(RenameModel(old_name, name))
                    break
    if renamed:
        # Compare the renamed models (and the foreign keys that follow them) as renamed.
        old = old.clone()
        for op in operations:
            op.state_forwards(app, old)
        before = old.app_models(app)
    created = _by_references([after[n] for n in added if n not in renamed])
    deleted = [before[n] for n in removed if n not in renamed.values()]
    for model in created:
        operations.append(CreateModel(model.name, model.table, list(model.fields.items()), list(model.unique_together), list(model.indexes)))
    for name, model in after.items():
        old_model = before.get(name)
        if old_model is not None and model not in created:
            operations += _model_changes(old_model, model, ask)
    for model in reversed(_by_references(deleted)):
        operations.append(DeleteModel(model.name))
    return operations


def _model_changes(old: ModelState, new: ModelState, ask: Ask) -> list[Operation]:
    name = new.name
    ops: list[Operation] = []
    if old.table != new.table:
        ops.append(AlterModelTable(name, new.table))
    added = [n for n in new.fields if n not in old.fields]
    removed = [n for n in old.fields if n not in new.fields]
    renames: dict[str, str] = {}  # old field name → new one
    for field_name in added:
        shape = deconstruct(new.fields[field_name])
        for old_name in removed:
            if old_name not in renames and deconstruct(old.fields[old_name]) == shape:
                if ask(f"Did you rename {name}.{old_name} to {name}.{field_name} (a field of the same type)? [y/N]"):
                    renames[old_name] = field_name
                    break
    # unique_together and indexes are compared under the new field names; the
    # ones that go are removed first (their fields may go too), new ones added last.
    renamed = lambda group: tuple(renames.get(n, n) for n in group)  # noqa: E731
    old_unique, old_indexes = [renamed(u) for u in old.unique_together], [renamed(i) for i in old.indexes]
    ops += [RemoveConstraint(name, u) for u in old.unique_together if renamed(u) not in new.unique_together]
    ops += [RemoveIndex(name, i) for i in old.indexes if renamed(i) not in new.indexes]
    ops += [RenameField(name, old_name, new_name) for old_name, new_name in renames.items()]
    ops += [RemoveField(name, n) for n in removed if n not in renames]
    ops += [AddField(name, n, new.fields[n]) for n in added if n not in renames.values()]
    for field_name, f in new.fields.items():
        previous = old.fields.get(next((o for o, n in renames.items() if n == field_name), field_name))
        if previous is not None and deconstruct(previous) != deconstruct(f):
            ops.append(AlterField(name, field_name, f))
    ops += [AddConstraint(name, u) for u in new.unique_together if u not in old_unique]
    ops += [AddIndex(name, i) for i in new.indexes if i not in old_indexes]
    return ops
