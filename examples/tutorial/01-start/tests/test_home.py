"""The home page lists the items."""

import asyncio

from hyperdjango.testing import TestClient

from shop.main import app
from shop.models import Item


def test_the_home_page_lists_items():
    asyncio.run(Item.objects.create(name="Tea"))
    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert "<li>Tea</li>" in response.text
