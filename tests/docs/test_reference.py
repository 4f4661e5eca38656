"""Every public name is in the API reference: each name in the ``__all__`` of a public module of
hyperdjango (no part of its dotted name starts with ``_``) must be rendered by a ``:::``
directive of docs/reference/ (the object itself, or a module directive whose ``members`` or
``__all__`` holds it), and every public class and function of the package has a docstring of
its own, so no entry of the reference is empty. A new public API fails this test until it is documented."""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import hyperdjango

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference"
DIRECTIVE = re.compile(r"^::: ([\w.]+)\n((?:[ \t]+.*\n)*)", re.M)
MEMBERS = re.compile(r"members:\s*\[([^\]]*)\]")


def public_modules() -> list[ModuleType]:
    """hyperdjango and its submodules whose dotted names have no private part."""
    found = [hyperdjango]
    for info in pkgutil.walk_packages(hyperdjango.__path__, "hyperdjango."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.append(importlib.import_module(info.name))
    return found


def public_names() -> dict[str, object]:
    """``module.name`` → object, for every name in a public module's ``__all__``."""
    return {
        f"{module.__name__}.{name}": getattr(module, name)
        for module in public_modules()
        for name in getattr(module, "__all__", ())
    }


def resolve(path: str) -> object:
    """The object a directive names: the longest importable module, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise LookupError(path)


def module_members(module: ModuleType) -> list[str]:
    """What a module directive without ``members`` renders: its ``__all__``, else the public
    names it defines."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    ]


def documented() -> set[int]:
    """The ids of the objects the reference pages render."""
    ids: set[int] = set()
    for page in sorted(REFERENCE.glob("*.md")):
        for path, options in DIRECTIVE.findall(page.read_text()):
            target = resolve(path)
            if not isinstance(target, ModuleType):
                ids.add(id(target))
                continue
            listed = MEMBERS.search(options)
            names = [n.strip() for n in listed.group(1).split(",")] if listed else module_members(target)
            ids.update(id(getattr(target, name)) for name in names)
    return ids


def ours(obj: object) -> bool:
    """Defined in hyperdjango (a re-exported third-party object keeps its own docstring)."""
    return (getattr(obj, "__module__", None) or "").startswith("hyperdjango")


def own_docstring(obj: object) -> str:
    return (vars(obj).get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)) or ""


def test_there_are_public_names_to_check():
    names = public_names()
    assert len(names) > 300
    assert names["hyperdjango.HyperApp"] is hyperdjango.HyperApp


def test_every_public_name_is_in_the_reference():
    rendered = documented()
    missing = sorted(name for name, obj in public_names().items() if id(obj) not in rendered)
    assert missing == [], f"add them to a page of docs/reference/: {missing}"


def test_every_public_class_and_function_has_a_docstring():
    empty = sorted(
        name for name, obj in public_names().items()
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and ours(obj) and not own_docstring(obj).strip()
    )
    assert empty == [], f"their reference entries would be empty: {empty}"
