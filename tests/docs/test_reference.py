"""Every public name is in the API reference: each name in the ``__all__`` of a public module of
hyperdjango (no part of its dotted name starts with ``_``) must have an entry on a page of the
built reference (an anchor ``id="hyperdjango...."`` naming that object, under any of its
names), and every public class and function of the package has a docstring of its own, so no
entry is empty. A new public API fails this test until a page of docs/reference/ renders it."""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import hyperdjango


def public_modules() -> list:
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


ANCHOR = re.compile(r'id="(hyperdjango(?:\.\w+)+)"')


def resolve(path: str) -> object | None:
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute, None)
        return found
    return None


def rendered(site: Path) -> set[int]:
    """The ids of the objects the built reference pages have an entry for."""
    anchors = {a for page in (site / "reference").glob("*.html") for a in ANCHOR.findall(page.read_text())}
    return {id(resolve(anchor)) for anchor in anchors} - {id(None)}


def ours(obj: object) -> bool:
    """Defined in hyperdjango (a re-exported third-party object keeps its own docstring)."""
    return (getattr(obj, "__module__", None) or "").startswith("hyperdjango")


def own_docstring(obj: object) -> str:
    return (vars(obj).get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)) or ""


def test_there_are_public_names_to_check():
    names = public_names()
    assert len(names) > 300
    assert names["hyperdjango.HyperApp"] is hyperdjango.HyperApp


def test_every_public_name_is_in_the_reference(site):
    entries = rendered(site)
    missing = sorted(name for name, obj in public_names().items() if id(obj) not in entries)
    assert missing == [], f"add them to a page of docs/reference/: {missing}"


def test_every_public_class_and_function_has_a_docstring():
    empty = sorted(
        name for name, obj in public_names().items()
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and ours(obj) and not own_docstring(obj).strip()
    )
    assert empty == [], f"their reference entries would be empty: {empty}"
