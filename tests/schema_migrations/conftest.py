"""A throwaway app per test: a package in a temp dir whose ``models.py`` each test rewrites."""

from __future__ import annotations

import importlib
import shutil
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from hyperdjango.migrations import App, app_for


class Project:
    """An app package ``label`` under ``root``; ``models(source)`` (re)writes and (re)imports its models."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = f"migapp_{uuid.uuid4().hex[:10]}"
        #: Tables are named {p}_x so the tests of a module share its databases without clashing.
        self.prefix = f"t{uuid.uuid4().hex[:6]}"
        self.package = root / self.label
        self.package.mkdir()
        (self.package / "__init__.py").write_text("")

    def models(self, source: str) -> App:
        """Writes ``models.py`` (``{p}`` in the source: this project's table prefix) and imports it."""
        source = textwrap.dedent(source).replace("{p}", self.prefix)
        (self.package / "models.py").write_text("from decimal import Decimal\nfrom hyperdjango import Field, ManyToMany, Model\n\n" + source)
        shutil.rmtree(self.package / "__pycache__", ignore_errors=True)
        importlib.invalidate_caches()
        # A fresh module (not reload(), which keeps the old classes as attributes).
        sys.modules.pop(f"{self.label}.models", None)
        importlib.import_module(f"{self.label}.models")
        return self.app()

    def app(self) -> App:
        return app_for(self.label)

    @property
    def migrations(self) -> list[str]:
        return sorted(p.stem for p in (self.package / "migrations").glob("[0-9]*.py"))


@pytest.fixture
def project(tmp_path):
    sys.path.insert(0, str(tmp_path))
    made = Project(tmp_path)
    yield made
    sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n == made.label or n.startswith(made.label + ".")]:
        del sys.modules[name]
