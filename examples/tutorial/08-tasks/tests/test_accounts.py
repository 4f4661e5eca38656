"""Users: logging in and out, a page for logged-in users, a page that needs a permission, and
the superuser that ``hyper createsuperuser`` makes."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hyperdjango.auth import User
from hyperdjango.testing import TestClient

from shop.main import app

PROJECT = Path(__file__).resolve().parents[1]


async def sign_up(username, password):
    customer = User(username=username, email=f"{username}@example.com")
    await customer.set_password(password)  # hashed with argon2id, off the event loop
    await customer.save()


@pytest.fixture(scope="module")
def server():
    asyncio.run(sign_up("ann", "ann's long password"))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client(server):
    server.cookies.clear()  # each test starts logged out
    return server


def test_the_account_page_sends_visitors_to_the_login_form(client):
    answer = client.get("/account", follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == "/accounts/login/?next=%2Faccount"
    assert '<a href="/accounts/login/">log in</a>' in client.get("/").text


def test_a_wrong_password_is_refused(client, log_in):
    refused = log_in(client, "ann", "not her password")
    assert refused.status_code == 400
    assert "Please enter a correct username and password." in refused.text
    assert 'value="not her password"' not in refused.text  # a password is never sent back


def test_logging_in_leads_to_the_page_asked_for(client, log_in):
    welcomed = log_in(client, "ann", "ann's long password", next="/account")
    assert (welcomed.status_code, welcomed.headers["location"]) == (303, "/account")
    page = client.get("/account").text
    assert "You are logged in as <strong>ann</strong>." in page
    assert '<a href="/account">ann</a>' in page  # the frame of every page knows who it is
    assert "add products" not in page


def test_a_next_page_on_another_site_is_ignored(client, log_in):
    welcomed = log_in(client, "ann", "ann's long password", next="https://evil.example/")
    assert welcomed.headers["location"] == "/"


def test_a_customer_may_not_add_products(client, log_in):
    log_in(client, "ann", "ann's long password")
    assert client.get("/products/new").status_code == 403


def test_logging_out_ends_the_session(client, log_in, csrf_token):
    log_in(client, "ann", "ann's long password")
    token = csrf_token(client, "/account")
    assert client.post("/accounts/logout/", data={"csrfmiddlewaretoken": token}, follow_redirects=False).status_code == 303
    assert client.get("/account", follow_redirects=False).status_code == 302


def test_the_superuser_from_hyper_createsuperuser_may_add_products(client, log_in):
    created = subprocess.run(
        [sys.executable, "-m", "hyperdjango", "createsuperuser", "shop.main", "--noinput", "--username", "admin",
         "--email", "admin@example.com"],
        cwd=PROJECT, env={**os.environ, "HYPERDJANGO_SUPERUSER_PASSWORD": "the admin's long password"},
        capture_output=True, text=True, timeout=60,
    )
    assert created.returncode == 0, created.stderr
    assert "Superuser 'admin' created." in created.stdout
    log_in(client, "admin", "the admin's long password")
    assert "You may <a href=\"/products/new\">add products</a>." in client.get("/account").text
    assert client.get("/products/new").status_code == 200
