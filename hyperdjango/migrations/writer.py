"""Writing a migration as a readable Python file, Django-style."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import uuid
from typing import Any

from ..orm.fields import Field
from .operations.base import Operation
from .state import deconstruct


class Serializer:
    """Python source for a value, remembering the imports it needs."""

    def __init__(self) -> None:
        self.imports = {"from hyperdjango import migrations"}

    def __call__(self, value: Any, indent: int = 0) -> str:
        if isinstance(value, Field):
            self.imports.add("from hyperdjango.orm import fields")
            cls_name, options = deconstruct(value)
            return f"fields.{cls_name}({', '.join(f'{k}={self(v)}' for k, v in options.items())})"
        if isinstance(value, decimal.Decimal):
            self.imports.add("from decimal import Decimal")
            return f"Decimal({self(str(value))})"
        if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
            self.imports.add("import datetime")
            return repr(value)  # datetime.timedelta(days=1, seconds=300): Python source
        if isinstance(value, uuid.UUID):
            self.imports.add("import uuid")
            return f"uuid.UUID({self(str(value))})"
        if isinstance(value, tuple):
            return "(" + ", ".join(self(v) for v in value) + ("," if len(value) == 1 else "") + ")"
        if isinstance(value, list):
            if not value:
                return "[]"
            pad = "    " * (indent + 1)
            return "[\n" + "".join(f"{pad}{self(v, indent + 1)},\n" for v in value) + "    " * indent + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self(k)}: {self(v)}" for k, v in value.items()) + "}"
        if isinstance(value, str):
            return json.dumps(value, ensure_ascii=False)  # a Python literal too, double-quoted like the rest of the code
        if value is None or isinstance(value, (int, float, bool, bytes)):
            return repr(value)
        raise ValueError(f"cannot write {value!r} into a migration file; give the field a literal default or none")

    def operation(self, op: Operation, indent: int) -> str:
        pad = "    " * (indent + 1)
        defaults = {f.name: f.default for f in dataclasses.fields(op)}
        arguments = [
            f"{pad}{name}={self(value, indent + 1)},\n"
            for name, value in op.arguments().items()
            if not (defaults[name] is not dataclasses.MISSING and value == defaults[name]) and value != []
        ]
        return f"migrations.{type(op).__name__}(\n" + "".join(arguments) + "    " * indent + ")"


def write_migration(app: str, name: str, dependencies: list[tuple[str, str]], operations: list[Operation]) -> str:
    """The source of a migration file."""
    serialize = Serializer()
    ops = "".join(f"        {serialize.operation(op, 2)},\n" for op in operations)
    deps = "[\n" + "".join(f"        {serialize(tuple(d))},\n" for d in dependencies) + "    ]" if dependencies else "[]"
    written = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = "".join(f"- {op.describe()}\n" for op in operations) or "- (empty: add operations by hand)\n"
    imports = sorted(serialize.imports, key=lambda line: (line.startswith("from hyperdjango"), line))
    return (
        f'"""{app} migration {name}, written by hyper makemigrations on {written}.\n\n{summary}"""\n\n'
        + "\n".join(imports)
        + "\n\n\nclass Migration(migrations.Migration):\n"
        + f"    dependencies = {deps}\n\n"
        + f"    operations = [\n{ops}    ]\n"
    )
