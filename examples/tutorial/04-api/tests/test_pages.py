"""The HTML pages: home, a category, a product, and the 404s."""

import asyncio
from decimal import Decimal

import pytest

from hyperdjango.testing import TestClient

from shop.main import app
from shop.models import Category, Product


async def stock_the_shelves():
    teas, _ = await Category.objects.get_or_create(name="Teas")  # other tests may have made it
    pots, _ = await Category.objects.get_or_create(name="Pots")
    sencha = await Product.objects.create(name="Sencha", price=Decimal("6.50"), stock=10, category_id=teas.id)
    await Product.objects.create(name="Matcha", price=Decimal("12.00"), stock=0, category_id=teas.id)
    await Product.objects.create(name="Kyusu", price=Decimal("35.00"), stock=2, category_id=pots.id)
    return teas, sencha


@pytest.fixture(scope="module")
def shop():
    teas, sencha = asyncio.run(stock_the_shelves())
    with TestClient(app) as client:
        yield client, teas, sencha


def test_home_links_categories_and_products_in_stock(shop):
    client, teas, sencha = shop
    html = client.get("/").text
    assert f"<a href='/categories/{teas.id}'>Teas</a>" in html
    assert f"<a href='/products/{sencha.id}'>Sencha</a>: 6.50" in html
    assert "Matcha" not in html


def test_a_category_shows_its_products(shop):
    client, teas, _ = shop
    html = client.get(f"/categories/{teas.id}").text
    assert "<h1>Teas</h1>" in html and "Sencha" in html and "Kyusu" not in html


def test_a_product_page(shop):
    client, _, sencha = shop
    html = client.get(f"/products/{sencha.id}").text
    assert "<h1>Sencha</h1>" in html and "10 in stock" in html


def test_unknown_ids_are_404(shop):
    client = shop[0]
    assert client.get("/products/9999").status_code == 404
    assert client.get("/categories/9999").status_code == 404
    assert client.get("/products/tea").status_code == 404  # not a number: the router's answer
