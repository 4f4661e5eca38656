"""The HTML pages, drawn by templates: home, a category, a product, the 404s, and the stylesheet."""

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
    await Product.objects.create(name="Kyusu <Tokoname>", price=Decimal("35.00"), stock=2, category_id=pots.id)
    return teas, sencha


@pytest.fixture(scope="module")
def shop():
    teas, sencha = asyncio.run(stock_the_shelves())
    with TestClient(app) as client:
        yield client, teas, sencha


def test_home_links_categories_and_products_in_stock(shop):
    client, teas, sencha = shop
    page = client.get("/")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Tea shop · shop</title>" in page.text
    assert f'<a href="/categories/{teas.id}">Teas</a>' in page.text
    assert f'<a href="/products/{sencha.id}">Sencha</a> <span class="price">6.50</span>' in page.text
    assert "Matcha" not in page.text


def test_values_from_the_database_are_escaped(shop):
    client = shop[0]
    assert "Kyusu &lt;Tokoname&gt;" in client.get("/").text


def test_a_category_shows_its_products(shop):
    client, teas, _ = shop
    html = client.get(f"/categories/{teas.id}").text
    assert "<h1>Teas</h1>" in html and "Sencha" in html and "Kyusu" not in html


def test_a_product_page(shop):
    client, teas, sencha = shop
    html = client.get(f"/products/{sencha.id}").text
    assert "<h1>Sencha</h1>" in html and "10 in stock" in html
    assert f'<a href="/categories/{teas.id}">Teas</a>' in html


def test_every_page_links_the_stylesheet_which_is_served(shop):
    client = shop[0]
    assert '<link rel="stylesheet" href="/static/shop/shop.css">' in client.get("/").text
    css = client.get("/static/shop/shop.css")
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert ".price" in css.text


def test_unknown_ids_are_404(shop):
    client = shop[0]
    assert client.get("/products/9999").status_code == 404
    assert client.get("/categories/9999").status_code == 404
    assert client.get("/products/tea").status_code == 404  # not a number: the router's answer
