"""The tutorial's steps (examples/tutorial/) are real projects: step 1 is exactly what
``hyper startproject`` writes, every step passes its own tests on SQLite and on PostgreSQL, and
the finished shop migrates and serves on PostgreSQL under ``hyper run``, as step 8 deploys it."""

import os
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
    assert STEPS == ["01-start", "02-models", "03-views", "04-api", "05-tasks", "06-live"]


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


def test_the_finished_shop_deploys_on_postgresql(pg_url):
    shop = TUTORIAL / "06-live"
    env = {"HYPERDJANGO_DATABASE_URL": pg_url}
    migrated = subprocess.run(
        [sys.executable, "-m", "hyperdjango", "migrate", "shop.main"], cwd=shop, env={**os.environ, **env},
        capture_output=True, text=True, timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "Applying shop.0003_order" in migrated.stdout
    servers = HyperRunServers("shop.main:app", shop, probe="/ready")
    try:
        base = servers.start(env)
        product = httpx.post(f"{base}/api/products", json={"name": "Sencha", "price": "6.50", "category": "Teas", "stock": 4}).json()
        order = httpx.post(f"{base}/api/orders", json={"product_id": product["id"], "quantity": 1, "email": "a@example.com"})
        assert order.status_code == 201
        assert httpx.get(f"{base}/api/products/{product['id']}").json()["stock"] == 3
        assert "Sencha" in httpx.get(f"{base}/").text
    finally:
        servers.stop()
