"""The new-product form: CSRF, the errors shown next to their fields, and a product saved."""

import asyncio
import re

import pytest

from hyperdjango.testing import TestClient

from shop.main import app
from shop.models import Category, Product

TOKEN = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">')


@pytest.fixture(scope="module")
def client():
    asyncio.run(Category.objects.get_or_create(name="Teas"))
    with TestClient(app) as client:
        yield client


def form_page(client):
    """The form's page, and the CSRF token it embeds (its cookie is now in the client)."""
    page = client.get("/products/new")
    assert page.status_code == 200
    return page.text, TOKEN.search(page.text).group(1)


def test_the_form_lists_the_fields_and_the_categories(client):
    html, _ = form_page(client)
    assert '<input type="text" name="name" id="id_name" required maxlength="200">' in html
    teas = asyncio.run(Category.objects.get(name="Teas"))
    assert f'<option value="{teas.id}">Teas</option>' in html


def test_a_post_without_the_token_is_refused(client):
    refused = client.post("/products/new", data={"name": "Kukicha", "price": "4.00", "stock": "1"})
    assert refused.status_code == 403


def test_errors_are_shown_next_to_their_fields(client):
    _, token = form_page(client)
    bad = client.post("/products/new", data={
        "csrfmiddlewaretoken": token, "name": "<b>42</b>", "price": "-1", "stock": "", "category_id": "99999",
    })
    assert bad.status_code == 400
    assert "A name needs at least one letter." not in bad.text  # "<b>42</b>" has a letter: b
    assert "Ensure this value is greater than or equal to 0." in bad.text
    assert "Select a valid choice. That choice is not one of the available choices." in bad.text
    assert 'value="&lt;b&gt;42&lt;/b&gt;"' in bad.text  # what was typed comes back, escaped
    assert TOKEN.search(bad.text)  # and the form can be sent again


def test_a_name_without_a_letter_is_refused(client):
    _, token = form_page(client)
    bad = client.post("/products/new", data={"csrfmiddlewaretoken": token, "name": " 42 ", "price": "1"})
    assert bad.status_code == 400
    assert "A name needs at least one letter." in bad.text
    assert "This field is required." in bad.text  # the category


def test_a_valid_form_saves_the_product_and_shows_it(client):
    _, token = form_page(client)
    teas = asyncio.run(Category.objects.get(name="Teas"))
    saved = client.post("/products/new", data={
        "csrfmiddlewaretoken": token, "name": "  Kukicha ", "price": "4.80", "stock": "7", "category_id": str(teas.id),
    }, follow_redirects=False)
    assert saved.status_code == 303
    product = asyncio.run(Product.objects.get(name="Kukicha"))
    assert saved.headers["location"] == f"/products/{product.id}"
    assert (str(product.price), product.stock, product.category_id) == ("4.80", 7, teas.id)
    assert "<h1>Kukicha</h1>" in client.get(saved.headers["location"]).text
