"""Orders: stock taken in a transaction, the confirmation sent by a background task."""

import time

import pytest

from hyperdjango.testing import TestClient

from shop.main import app
from shop.tasks import outbox


@pytest.fixture(scope="module")
def client():
    with TestClient(app) as client:
        yield client


@pytest.fixture
def kyusu(client, stocker):
    new = {"name": "Kyusu", "price": "35.00", "category": "Pots", "stock": 2}
    return client.post("/api/products", json=new, headers=stocker).json()


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the background task did not run"
        time.sleep(0.02)


def test_an_order_takes_stock_and_is_confirmed_in_the_background(client, kyusu, customer):
    order = {"product_id": kyusu["id"], "quantity": 2, "email": "ann@example.com"}
    placed = client.post("/api/orders", json=order, headers=customer)
    assert placed.status_code == 201
    order = placed.json()
    assert client.get(f"/api/products/{kyusu['id']}").json()["stock"] == 0
    wait_until(lambda: client.get(f"/api/orders/{order['id']}").json()["confirmed"])
    assert "To ann@example.com: 2 × Kyusu are on their way." in outbox


def test_an_order_beyond_the_stock_is_refused_and_changes_nothing(client, kyusu, customer):
    order = {"product_id": kyusu["id"], "quantity": 3, "email": "bo@example.com"}
    refused = client.post("/api/orders", json=order, headers=customer)
    assert refused.status_code == 409
    assert client.get(f"/api/products/{kyusu['id']}").json()["stock"] == 2
    assert not any("bo@example.com" in line for line in outbox)


def test_only_logged_in_customers_order(client, kyusu):
    order = {"product_id": kyusu["id"], "quantity": 1, "email": "cy@example.com"}
    assert client.post("/api/orders", json=order, headers={"authorization": "Bearer hd_not-a-token"}).status_code == 401
    assert client.get(f"/api/products/{kyusu['id']}").json()["stock"] == 2
