"""The live page's WebSocket: a snapshot, then each order's new stock."""

import pytest

from hyperdjango.testing import TestClient

from shop.main import app


@pytest.fixture(scope="module")
def client():
    with TestClient(app) as client:
        yield client


def test_the_socket_sends_a_snapshot_then_each_change(client, stocker, customer):
    new = {"name": "Hojicha", "price": "7.00", "category": "Teas", "stock": 5}
    sencha = client.post("/api/products", json=new, headers=stocker).json()
    with client.websocket_connect("/ws/stock") as ws:
        snapshot = ws.receive_json()
        assert snapshot["type"] == "snapshot"
        assert {"id": sencha["id"], "name": "Hojicha", "stock": 5} in snapshot["products"]
        order = {"product_id": sencha["id"], "quantity": 2, "email": "cy@example.com"}
        placed = client.post("/api/orders", json=order, headers=customer)
        assert placed.status_code == 201
        assert ws.receive_json() == {"type": "stock", "id": sencha["id"], "stock": 3}


def test_the_live_page_opens_the_socket(client):
    page = client.get("/live")
    assert page.status_code == 200
    assert "new WebSocket(`ws://${location.host}/ws/stock`)" in page.text
