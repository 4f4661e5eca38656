"""The example shop (examples/shop.py) loaded afresh on a given database."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop.py"


def load_shop(database_url: str):
    """A new module of examples/shop.py whose app uses ``database_url``; its app."""
    os.environ["HYPERDJANGO_DATABASE_URL"] = database_url
    try:
        spec = importlib.util.spec_from_file_location("example_shop_under_test", SHOP)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        del os.environ["HYPERDJANGO_DATABASE_URL"]
    return module.app
