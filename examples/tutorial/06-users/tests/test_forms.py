"""The new-product form: only for users allowed to add products; CSRF, the errors shown next
to their fields, and a product saved."""

import asyncio

import pytest

from hyperdjango.auth import Permission, User
from hyperdjango.testing import TestClient

from shop.main import app
from shop.models import Category, Product

PASSWORD = "a clerk's long password"


async def hire_a_clerk():
    """A user with the permission to add products (and no other)."""
    await Category.objects.get_or_create(name="Teas")
    clerk = User(username="clerk")
    await clerk.set_password(PASSWORD)
    await clerk.save()
    await clerk.user_permissions.add(await Permission.objects.get(app_label="shop", codename="add_product"))


@pytest.fixture(scope="module")
def server():
    asyncio.run(hire_a_clerk())
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client(server, log_in):
    server.cookies.clear()
    assert log_in(server, "clerk", PASSWORD).status_code == 303
    return server


def test_the_form_lists_the_fields_and_the_categories(client):
    html = client.get("/products/new").text
    assert '<input type="text" name="name" id="id_name" required maxlength="200">' in html
    teas = asyncio.run(Category.objects.get(name="Teas"))
    assert f'<option value="{teas.id}">Teas</option>' in html


def test_a_post_without_the_token_is_refused(client):
    refused = client.post("/products/new", data={"name": "Kukicha", "price": "4.00", "stock": "1"})
    assert refused.status_code == 403


def test_errors_are_shown_next_to_their_fields(client, csrf_token):
    token = csrf_token(client, "/products/new")
    bad = client.post("/products/new", data={
        "csrfmiddlewaretoken": token, "name": "<b>42</b>", "price": "-1", "stock": "", "category_id": "99999",
    })
    assert bad.status_code == 400
    assert "Ensure this value is greater than or equal to 0." in bad.text
    assert "Select a valid choice. That choice is not one of the available choices." in bad.text
    assert 'value="&lt;b&gt;42&lt;/b&gt;"' in bad.text  # what was typed comes back, escaped
    assert "csrfmiddlewaretoken" in bad.text  # and the form can be sent again


def test_a_name_without_a_letter_is_refused(client, csrf_token):
    token = csrf_token(client, "/products/new")
    bad = client.post("/products/new", data={"csrfmiddlewaretoken": token, "name": " 42 ", "price": "1"})
    assert bad.status_code == 400
    assert "A name needs at least one letter." in bad.text
    assert "This field is required." in bad.text  # the category


def test_a_valid_form_saves_the_product_and_shows_it(client, csrf_token):
    token = csrf_token(client, "/products/new")
    teas = asyncio.run(Category.objects.get(name="Teas"))
    saved = client.post("/products/new", data={
        "csrfmiddlewaretoken": token, "name": "  Kukicha ", "price": "4.80", "stock": "7", "category_id": str(teas.id),
    }, follow_redirects=False)
    assert saved.status_code == 303
    product = asyncio.run(Product.objects.get(name="Kukicha"))
    assert saved.headers["location"] == f"/products/{product.id}"
    assert (str(product.price), product.stock, product.category_id) == ("4.80", 7, teas.id)
    assert "<h1>Kukicha</h1>" in client.get(saved.headers["location"]).text
