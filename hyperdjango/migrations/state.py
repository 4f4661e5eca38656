"""The project state: every model's table as the migrations so far describe it.

A migration's operations change a :class:`ProjectState` (``state_forwards``);
replaying every migration gives the schema the database has, and diffing it
against the models gives the next migration (``autodetector.py``). Models are
named by label, ``"<app>.<Class>"``; fields are plain :class:`~hyperdjango.orm.fields.Field`
objects whose ``foreign_key`` is such a label.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..orm.backends.base.schema import Column, TableSpec
from ..orm.fields import MISSING, Field

#: The options that shape a column (validators, choices, related names... live only in Python).
SCHEMA_OPTIONS = ("primary_key", "auto", "null", "unique", "index", "db_column", "max_length", "max_digits", "decimal_places", "foreign_key", "on_delete")
#: Values a migration file can spell, so a field's default can be written down for backfills.
LITERALS = (str, int, float, bool, bytes, decimal.Decimal, datetime.datetime, datetime.date, datetime.time, datetime.timedelta, uuid.UUID)


def is_literal(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(map(is_literal, value))
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_literal(v) for k, v in value.items())
    return value is None or isinstance(value, LITERALS)


def deconstruct(f: Field, label_of: Any = None) -> tuple[str, dict[str, Any]]:
    """``(class name, options)`` rebuilding ``f``'s column; equal tuples mean the same column.

    ``label_of(model)`` names a foreign key's target (state fields already hold the label).
    """
    options: dict[str, Any] = {}
    for name in SCHEMA_OPTIONS:
        value = getattr(f, name)
        if name == "unique" and f.primary_key or name == "on_delete" and f.foreign_key is None:
            continue
        if name == "foreign_key" and value is not None and label_of is not None:
            value = label_of(f.related_model)  # a live model's target, however it was named ("self", "app.Class")
        if value not in (None, False):
            options[name] = value
    if f.default is not MISSING and f.default is not None and is_literal(f.default):
        options["default"] = f.default
    return type(f).__name__, options


def clone_field(name: str, f: Field, label_of: Any = None) -> Field:
    """A detached copy of ``f`` named ``name``, holding only what the schema needs."""
    cls_name, options = deconstruct(f, label_of)
    made = type(f)(**options)
    made.name, made.column, made.null = name, made.db_column or name, bool(made.null)
    return made


@dataclass
class ModelState:
    """One model as the migrations know it: table, fields in order, composite indexes and uniques."""

    app: str
    name: str
    table: str
    fields: dict[str, Field]
    unique_together: list[tuple[str, ...]] = field(default_factory=list)
    indexes: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.app}.{self.name}"

    @property
    def pk(self) -> Field:
        return next(f for f in self.fields.values() if f.primary_key)

    def get_field(self, name: str) -> Field:
        try:
            return self.fields[name]
        except KeyError:
            raise KeyError(f"{self.label} has no field {name!r} in the migrations' state; fields: {', '.join(self.fields)}") from None

    def clone(self) -> ModelState:
        fields = {name: clone_field(name, f) for name, f in self.fields.items()}
        return ModelState(self.app, self.name, self.table, fields, list(self.unique_together), list(self.indexes))

    def columns(self, names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self.get_field(n).column for n in names)


class ProjectState:
    """Every model the migrations applied so far describe, by label."""

    def __init__(self, models: dict[str, ModelState] | None = None) -> None:
        self.models: dict[str, ModelState] = models or {}

    def clone(self) -> ProjectState:
        return ProjectState({label: m.clone() for label, m in self.models.items()})

    def model(self, app: str, name: str) -> ModelState:
        label = name if "." in name else f"{app}.{name}"
        try:
            return self.models[label]
        except KeyError:
            raise KeyError(f"no model {label!r} in the migrations' state; known: {', '.join(sorted(self.models)) or 'none'}") from None

    def app_models(self, app: str) -> dict[str, ModelState]:
        """The models of ``app``, by class name."""
        return {m.name: m for m in self.models.values() if m.app == app}

    def column(self, model: ModelState, f: Field) -> Column:
        if f.foreign_key is None:
            return Column(f)
        target = self.model(model.app, f.foreign_key)
        return Column(f, (target.table, target.pk.column))

    def table_spec(self, model: ModelState) -> TableSpec:
        """What the schema editor needs to create or alter ``model``'s table."""
        return TableSpec(
            model.table,
            tuple(self.column(model, f) for f in model.fields.values()),
            tuple(model.columns(u) for u in model.unique_together),
            tuple(model.columns(i) for i in model.indexes),
        )

    def references_to(self, label: str) -> list[tuple[ModelState, Field]]:
        """The foreign keys pointing at ``label``."""
        return [(m, f) for m in self.models.values() for f in m.fields.values() if f.foreign_key == label]

    @classmethod
    def from_models(cls, models_by_app: dict[str, list[Any]], label_of: Any) -> ProjectState:
        """The state the model classes declare (``label_of(model)`` names each)."""
        state = cls()
        for app, models in models_by_app.items():
            for model in models:
                meta = model._meta
                fields = {f.name: clone_field(f.name, f, label_of) for f in meta.fields}
                state.models[f"{app}.{model.__name__}"] = ModelState(
                    app, model.__name__, meta.table, fields, list(meta.unique_together), list(meta.indexes)
                )
        return state
