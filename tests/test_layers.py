"""Layers point one way: no module of hyperdjango imports a layer above its own.

Every import is read from the source (module level and inside functions alike), so a
back-reference fails here before it shows up as an import cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hyperdjango"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The absolute names of the modules ``path`` imports."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _modules(name: str) -> list[Path]:
    path = PACKAGE.joinpath(*name.split(".")[1:])
    return sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]


def _reaching_into(name: str, above: list[str]) -> list[str]:
    return [
        f"{_module_name(path)} imports {imported}"
        for path in _modules(name)
        for imported in sorted(_imports(path))
        if any(imported == layer or imported.startswith(layer + ".") for layer in above)
    ]


@pytest.mark.parametrize(
    ("layer", "above"),
    [
        ("hyperdjango.runtime", ["hyperdjango.serving", "hyperdjango.database", "hyperdjango.orm"]),
        ("hyperdjango.importing", ["hyperdjango.cli", "hyperdjango.migrations", "hyperdjango.auth"]),
        ("hyperdjango.database", ["hyperdjango.serving", "hyperdjango.orm", "hyperdjango.migrations", "hyperdjango.cli"]),
        ("hyperdjango.migrations", ["hyperdjango.cli", "hyperdjango.serving"]),
        ("hyperdjango.auth", ["hyperdjango.cli"]),
        # The manager hands out QuerySets; a QuerySet knows nothing of managers.
        ("hyperdjango.orm.query", ["hyperdjango.orm.manager"]),
    ],
)
def test_layer_imports_nothing_above_it(layer: str, above: list[str]) -> None:
    assert _reaching_into(layer, above) == []


def _vendor_comparisons(path: Path) -> list[str]:
    """The lines of ``path`` that compare a ``vendor`` with ``==``, ``!=`` or ``in``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops):
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Attribute) and o.attr == "vendor" or isinstance(o, ast.Name) and o.id == "vendor" for o in operands):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def test_only_the_backends_ask_which_database_it_is() -> None:
    # Elsewhere a difference is a named feature (orm/backends/features.py) or an operations
    # method. The driver (database/) is the vendor itself and sits below the ORM's backends.
    allowed = (PACKAGE / "orm" / "backends", PACKAGE / "database")
    asking = [
        line
        for path in sorted(PACKAGE.rglob("*.py"))
        if not any(path.is_relative_to(root) for root in allowed)
        for line in _vendor_comparisons(path)
    ]
    assert asking == []
