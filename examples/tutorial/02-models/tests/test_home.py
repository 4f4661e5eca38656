"""The home page lists the products in stock."""

import asyncio
from decimal import Decimal

from hyperdjango.testing import TestClient

from shop.main import app
from shop.models import Category, Product


async def stock_the_shelves():
    teas = await Category.objects.create(name="Teas")
    await Product.objects.create(name="Sencha", price=Decimal("6.50"), stock=10, category_id=teas.id)
    await Product.objects.create(name="Matcha", price=Decimal("12.00"), stock=0, category_id=teas.id)


def test_the_home_page_lists_the_products_in_stock():
    asyncio.run(stock_the_shelves())
    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert "<li>Sencha (Teas): 6.50</li>" in response.text
    assert "Matcha" not in response.text
