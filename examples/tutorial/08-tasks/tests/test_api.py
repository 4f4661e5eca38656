"""The JSON API: typed handlers, validation errors, OpenAPI."""

import pytest

from hyperdjango.testing import TestClient

from shop.main import app


@pytest.fixture(scope="module")
def client():
    with TestClient(app) as client:
        yield client


def test_create_then_read_a_product(client, stocker):
    created = client.post("/api/products", json={"name": "Genmaicha", "price": "5.20", "category": "Teas", "stock": 3},
                          headers=stocker)
    assert created.status_code == 201
    product = created.json()
    assert product == {"id": product["id"], "name": "Genmaicha", "price": "5.20", "stock": 3, "category_id": product["category_id"]}
    assert client.get(f"/api/products/{product['id']}").json() == product
    assert product in client.get("/api/products", params={"q": "genmai"}).json()


def test_only_clients_allowed_to_add_products_may_add_them(client, customer):
    product = {"name": "Bancha", "price": "3.10", "category": "Teas"}
    assert client.post("/api/products", json=product, headers=customer).status_code == 403
    # Without a token, a request is a browser's: it needs the CSRF token of a page first.
    assert client.post("/api/products", json=product).status_code == 403
    assert client.get("/api/products", params={"q": "bancha"}).json() == []


def test_bad_input_is_a_422_that_says_what_is_wrong(client, stocker):
    answer = client.post("/api/products", json={"name": "", "price": "free", "category": "Teas"}, headers=stocker)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "name"]  # msgspec stops at the first error in a body
    assert client.get("/api/products/0").status_code == 422
    assert client.get("/api/products/99999").status_code == 404


def test_the_openapi_document_describes_the_api(client):
    document = client.get("/openapi.json").json()
    assert {"/api/products", "/api/products/{id}"} <= set(document["paths"])
    assert "ProductIn" in document["components"]["schemas"]
    assert client.get("/docs").status_code == 200
