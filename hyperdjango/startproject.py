"""``hyper startproject NAME [DIR]``: writes a project skeleton that runs.

The skeleton (``hyperdjango/project_template/``, files ending in ``-tpl`` so that nothing
imports or collects them where they lie) holds a settings module, an app with a model, its
first migration, views, a test and a README; ``{{ name }}`` in a file or path becomes NAME.
"""

from __future__ import annotations

import keyword
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "project_template"
SUFFIX = "-tpl"


class StartProjectError(ValueError):
    """The project cannot be written: a bad name, or files that would be overwritten."""


def start_project(name: str, directory: str | Path | None = None) -> list[Path]:
    """Writes the skeleton of project ``name`` into ``directory`` (default: ``./name``) and
    returns the files written. ``name`` becomes the Python package, so it must be an
    identifier (not a keyword); existing files are never overwritten."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise StartProjectError(f"{name!r} is not a valid project name: it must be a Python identifier, e.g. 'shop'")
    target = Path(directory if directory is not None else name)
    plan = {}
    for source in sorted(TEMPLATE.rglob(f"*{SUFFIX}")):
        relative = source.relative_to(TEMPLATE).as_posix().removesuffix(SUFFIX)
        # The package folder is called "project" in the template.
        relative = name + relative.removeprefix("project") if relative.startswith("project/") else relative
        plan[target / relative] = source.read_text().replace("{{ name }}", name)
    existing = [str(path) for path in plan if path.exists()]
    if existing:
        raise StartProjectError(f"would overwrite {', '.join(existing)}")
    for path, text in plan.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(plan)
