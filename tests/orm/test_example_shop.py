"""The example shop serves the spec's product routes from the ORM."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hyperdjango.testing import TestClient

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop.py"


def load_shop(database_url: str):
    import os

    os.environ["HYPERDJANGO_DATABASE"] = database_url
    try:
        spec = importlib.util.spec_from_file_location("example_shop_under_test", SHOP)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        del os.environ["HYPERDJANGO_DATABASE"]
    return module.app


def test_the_shop_creates_its_table_and_serves_products(tmp_path):
    app = load_shop(f"sqlite:///{tmp_path}/shop.sqlite3")
    with TestClient(app) as client:
        assert [p["name"] for p in client.get("/api/products").json()] == ["Assam tea", "Darjeeling tea", "Teapot"]
        assert client.get("/api/products/1").json() == {"id": 1, "name": "Assam tea", "price": "4.50", "stock": 12}
        assert client.get("/api/products/99").status_code == 404
        assert client.get("/api/products/abc").status_code == 400
        assert client.post("/api/products", json={"name": "Mug", "price": "9.90"}).json() == {"id": 4}
        assert client.post("/api/products", json={"name": "Mug", "price": "-1"}).status_code == 400
    with TestClient(app) as client:  # a restart keeps the rows and seeds nothing twice
        assert len(client.get("/api/products").json()) == 4
