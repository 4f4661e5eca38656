"""The example shop serves the spec's product routes from the ORM."""

from __future__ import annotations

import subprocess
import sys

from hyperdjango.testing import TestClient
from support.shop import SHOP, load_shop


def test_hyper_migrate_sets_the_shop_up_and_it_serves_products(tmp_path):
    url = f"sqlite:///{tmp_path}/shop.sqlite3"
    migrated = subprocess.run(
        [sys.executable, "-m", "hyperdjango", "migrate", "examples.shop", "--database", url],
        cwd=SHOP.parents[1], capture_output=True, text=True, timeout=60,
    )
    assert migrated.returncode == 0, migrated.stderr
    # No task table: the shop's task queue is in-process.
    *applied, permissions = migrated.stdout.splitlines()
    assert applied == [
        "Applying hyperdjango.cache.0001_initial",
        "Applying hyperdjango.sessions.0001_initial",
        "Applying hyperdjango.auth.0001_initial",
        "Applying examples.0001_initial",
        "Applying examples.0002_seed_teas",
    ]
    assert permissions.startswith("Created ") and permissions.endswith(" permissions")
    app = load_shop(url)
    with TestClient(app) as client:
        assert [p["name"] for p in client.get("/api/products").json()] == ["Assam tea", "Darjeeling tea", "Teapot"]
        assert client.get("/api/products/1").json() == {"id": 1, "name": "Assam tea", "price": "4.50", "stock": 12}
        assert client.get("/api/products/99").status_code == 404
        assert client.get("/api/products/abc").json()["detail"][0]["loc"] == ["path", "id"]  # a 422
        created = client.post("/api/products", json={"name": "Mug", "price": "9.90"})
        assert (created.status_code, created.json()) == (201, {"id": 4})
        refused = client.post("/api/products", json={"name": "Mug", "price": "-1"})
        assert (refused.status_code, refused.json()["detail"][0]["loc"]) == (422, ["body", "price"])
    with TestClient(app) as client:  # a restart keeps the rows
        assert len(client.get("/api/products").json()) == 4


async def test_the_shops_migrations_match_its_models_and_reverse_on_both_backends(db):
    from hyperdjango.migrations import make_migrations, migrate
    from hyperdjango.migrations.apps import app_of_module

    app = app_of_module("examples.shop")
    assert make_migrations(app) is None  # the committed migrations are up to date
    await migrate(db, app)
    assert await db.query_val("SELECT COUNT(*) FROM products") == 3
    await migrate(db, app, target="zero")
    assert await db.query_val("SELECT COUNT(*) FROM hyper_migrations WHERE app = 'examples'") == 0


def test_the_shops_accounts_log_in_guard_and_log_out(db_url):
    import os

    env = {**os.environ, "HYPERDJANGO_SUPERUSER_PASSWORD": "shop owner passphrase"}
    for args in (["migrate", "examples.shop", "--database", db_url],
                 ["createsuperuser", "examples.shop", "--username", "owner", "--noinput", "--database", db_url]):
        done = subprocess.run([sys.executable, "-m", "hyperdjango", *args], cwd=SHOP.parents[1], capture_output=True,
                              text=True, timeout=120, env=env)
        assert done.returncode == 0 or "is taken" in done.stderr, done.stderr
    app = load_shop(db_url)
    with TestClient(app) as client:
        assert client.get("/accounts/profile/", follow_redirects=False).headers["location"] == "/accounts/login/?next=%2Faccounts%2Fprofile%2F"
        assert client.post("/api/products/1/restock", json={"add": 1}).status_code == 401
        wrong = client.post("/accounts/login/", data={"username": "owner", "password": "nope"})
        assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
        # An open redirect through ?next= is refused: the user lands on the profile.
        done = client.post("/accounts/login/", data={"username": "owner", "password": "shop owner passphrase",
                                                      "next": "//evil.example/"}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/accounts/profile/"
        assert client.get("/accounts/profile/").json()["superuser"] is True
        stock = client.get("/api/products/1").json()["stock"]
        assert client.post("/api/products/1/restock", json={"add": 3}).json()["stock"] == stock + 3
        client.post("/accounts/logout/", follow_redirects=False)
        assert client.get("/accounts/profile/", headers={"accept": "application/json"}).status_code == 401
