"""Hooks of the documentation site (mkdocs.yml ``hooks:``).

Docstrings show examples as doctests (``>>>`` lines, which ``pytest --doctest-modules`` runs).
Markdown would read ``>>>`` as nested quotes and ``[2.0, 4.0]`` as a link, so each run of
doctest lines is fenced as a ``pycon`` code block before Markdown sees it, in the pages and in
the docstrings mkdocstrings renders.
"""

from __future__ import annotations

import re
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


def on_config(config: Any) -> Any:
    """Adds the extension to the site's Markdown (mkdocstrings renders docstrings with the same list)."""
    config.markdown_extensions.append(DoctestFencesExtension())
    return config
