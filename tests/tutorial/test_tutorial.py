"""The tutorial's steps (examples/tutorial/) are real projects: step 1 is exactly what
``hyper startproject`` writes, every step passes its own tests on SQLite and on PostgreSQL, and
the finished shop migrates and serves on PostgreSQL under ``hyper run``, as step 11 deploys it:
a superuser from ``hyper createsuperuser`` logs in through the page's form, and an API token
from ``hyper createtoken`` adds a product and places an order."""

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from hyperdjango.startproject import start_project
from support.processes import HyperRunServers

TUTORIAL = Path(__file__).resolve().parents[2] / "examples" / "tutorial"
STEPS = sorted(p.name for p in TUTORIAL.iterdir() if (p / "shop").is_dir())


def files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def test_the_steps_are_there():
    assert STEPS == [
        "01-start", "02-models", "03-views", "04-templates", "05-forms", "06-users", "07-api", "08-tasks", "09-live",
    ]


def test_step_one_is_what_startproject_writes(tmp_path):
    start_project("shop", tmp_path / "shop")
    assert files(tmp_path / "shop") == files(TUTORIAL / "01-start")


@pytest.fixture(params=["sqlite", "postgres"])
def test_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/test.sqlite3"
        return
    server = request.getfixturevalue("pg_server")
    name = server.create_database()
    yield server.url(name)
    server.drop_database(name)


@pytest.mark.parametrize("step", STEPS)
def test_each_step_passes_its_own_tests(step, test_database):
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=TUTORIAL / step,
        env={**os.environ, "TEST_DATABASE_URL": test_database}, capture_output=True, text=True, timeout=180,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert " passed" in tested.stdout and "failed" not in tested.stdout


def hyper(command, cwd, env):
    """Runs ``hyper <command...>`` in ``cwd`` as a deployment would; returns its output."""
    done = subprocess.run(
        [sys.executable, "-m", "hyperdjango", *command], cwd=cwd, env={**os.environ, **env},
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_finished_shop_deploys_on_postgresql(pg_url):
    shop = TUTORIAL / "09-live"
    env = {"HYPERDJANGO_DATABASE_URL": pg_url, "HYPERDJANGO_SECRET_KEY": "the deployment's own long secret"}
    assert "Applying shop.0003_order" in hyper(["migrate", "shop.main"], shop, env)
    hyper(["createsuperuser", "shop.main", "--noinput", "--username", "admin"], shop,
          {**env, "HYPERDJANGO_SUPERUSER_PASSWORD": "the admin's long password"})
    token = hyper(["createtoken", "shop.main", "admin"], shop, env).strip()
    api = {"authorization": f"Bearer {token}"}
    servers = HyperRunServers("shop.main:app", shop, probe="/ready")
    try:
        base = servers.start(env)
        new = {"name": "Sencha", "price": "6.50", "category": "Teas", "stock": 4}
        product = httpx.post(f"{base}/api/products", json=new, headers=api).json()
        order = {"product_id": product["id"], "quantity": 1, "email": "a@example.com"}
        assert httpx.post(f"{base}/api/orders", json=order, headers=api).status_code == 201
        assert httpx.get(f"{base}/api/products/{product['id']}").json()["stock"] == 3
        assert "Sencha" in httpx.get(f"{base}/").text
        assert httpx.get(f"{base}/static/shop/shop.css").status_code == 200
        with httpx.Client(base_url=base) as browser:
            form = browser.get("/accounts/login/?next=/products/new").text
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
            browser.post("/accounts/login/?next=/products/new", data={
                "csrfmiddlewaretoken": csrf, "username": "admin", "password": "the admin's long password",
            }, follow_redirects=True)
            page = browser.get("/products/new")
            assert page.status_code == 200 and "Add the product" in page.text
    finally:
        servers.stop()
