"""``hyper startproject``: the skeleton it writes migrates, serves its home page under
``hyper run`` and passes its own test."""

import os
import subprocess
import sys

import httpx
import pytest

from hyperdjango.startproject import StartProjectError, start_project
from support.processes import HyperRunServers


def hyper(*args, cwd, env=None):
    done = subprocess.run(
        [sys.executable, "-m", "hyperdjango", *args], cwd=cwd, env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_new_project_migrates_serves_and_passes_its_test(tmp_path):
    print(hyper("startproject", "shop", "site", cwd=tmp_path))
    project = tmp_path / "site"
    assert {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()} == {
        "README.md", "pyproject.toml", "shop/__init__.py", "shop/settings.py", "shop/main.py", "shop/models.py",
        "shop/views.py", "shop/migrations/0001_initial.py", "tests/conftest.py", "tests/test_home.py",
    }
    env = {"HYPERDJANGO_DATABASE_URL": f"sqlite:///{tmp_path}/shop.sqlite3"}
    # The shipped migration is what makemigrations would write for the shipped model.
    assert "No changes in shop" in hyper("makemigrations", "shop.main", cwd=project, env=env)
    assert "Applying shop.0001_initial" in hyper("migrate", "shop.main", cwd=project, env=env)

    servers = HyperRunServers("shop.main:app", project, probe="/health")
    try:
        base = servers.start(env)
        home = httpx.get(base + "/", timeout=10)
        assert home.status_code == 200
        assert "<h1>shop</h1>" in home.text
    finally:
        servers.stop()

    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, capture_output=True, text=True, timeout=120,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed" in tested.stdout


def test_it_refuses_a_bad_name_and_never_overwrites(tmp_path):
    with pytest.raises(StartProjectError, match="identifier"):
        start_project("my-shop", tmp_path / "a")
    with pytest.raises(StartProjectError, match="identifier"):
        start_project("class", tmp_path / "a")
    start_project("shop", tmp_path / "b")
    (tmp_path / "b" / "shop" / "views.py").write_text("# mine\n")
    with pytest.raises(StartProjectError, match="overwrite"):
        start_project("shop", tmp_path / "b")
    assert (tmp_path / "b" / "shop" / "views.py").read_text() == "# mine\n"


def test_the_command_reports_a_bad_name_without_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "hyperdjango", "startproject", "my-shop"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip() == "hyper startproject: 'my-shop' is not a valid project name: it must be a Python identifier, e.g. 'shop'"
    assert not (tmp_path / "my-shop").exists()
