"""Hooks of the documentation site (mkdocs.yml ``hooks:``).

A guide added as ``docs/<topic>.md`` but not named in mkdocs.yml's nav is listed under
"Guides" by its first heading, so no page is ever left out of the navigation.

Docstrings show examples as doctests (``>>>`` lines, which ``pytest --doctest-modules`` runs).
Markdown would read ``>>>`` as nested quotes and ``[2.0, 4.0]`` as a link, so each run of
doctest lines is fenced as a ``pycon`` code block before Markdown sees it, in the pages and in
the docstrings mkdocstrings renders.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

FENCE = re.compile(r"^\s*(```|~~~)")
PROMPT = re.compile(r"^(\s*)>>> ")


class DoctestFences(Preprocessor):
    """Wraps each doctest (a ``>>>`` line and the non-blank lines after it) in a fence."""

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        in_fence = in_doctest = False
        indent = ""
        for line in lines:
            if in_doctest and not line.strip():
                out.append(f"{indent}```")
                in_doctest = False
            if not in_doctest and FENCE.match(line):
                in_fence = not in_fence
            elif not in_fence and not in_doctest and (prompt := PROMPT.match(line)):
                indent = prompt.group(1)
                out.extend(["", f"{indent}```pycon"])
                in_doctest = True
            out.append(line)
        if in_doctest:
            out.append(f"{indent}```")
        return out


class DoctestFencesExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Markdown's name)
        # Before the fenced-code preprocessor (priority 25), which then highlights the block.
        md.preprocessors.register(DoctestFences(md), "doctest_fences", 30)


def _named(nav: Any) -> set[str]:
    """Every page path the nav names."""
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, dict):
        return set().union(*map(_named, nav.values()))
    if isinstance(nav, list):
        return set().union(set(), *map(_named, nav))
    return set()


def _title(page: Path) -> str:
    heading = next((line for line in page.read_text().splitlines() if line.startswith("# ")), f"# {page.stem}")
    return heading[2:].strip()


def on_config(config: Any) -> Any:
    """Adds the extension to the site's Markdown (mkdocstrings renders docstrings with the same
    list), and the guides missing from the nav to its "Guides" section."""
    config.markdown_extensions.append(DoctestFencesExtension())
    named = _named(config.nav)
    guides = next(section["Guides"] for section in config.nav if isinstance(section, dict) and "Guides" in section)
    for page in sorted(Path(config.docs_dir).glob("*.md")):
        if page.name not in named:
            guides.append({_title(page): page.name})
    return config
