"""Finding the object a command line names as ``module:attribute``.

The ``hyper`` command and the commands it gathers from migrations/ and auth/
all take such a target; this module sits below all of them, so none of those
packages imports the command line itself: ``hyper migrate shop.app:app``
imports ``shop.app`` and reads its ``app``.
"""

from __future__ import annotations

import importlib
import os
import sys


def import_target(target: str) -> tuple[str, object]:
    """Imports ``module:attribute`` (attribute defaults to ``app``) from the current directory;
    returns the module's name and the attribute (None when the module has none)."""
    module_name, _, attribute = target.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    return module_name, getattr(module, attribute or "app", None)
