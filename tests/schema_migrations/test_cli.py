"""hyper makemigrations / migrate / showmigrations, run as a user runs them: in a project directory."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

MODELS_V1 = '''
import os
from hyperdjango import Field, HyperApp, Model

app = HyperApp(database=os.environ.get("SHOP_DATABASE"))


class Tea(Model):
    class Meta:
        table = "cli_teas"
    name: str = Field(max_length=50)
'''


def hyper(cwd, *args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hyperdjango", *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def shop(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "models.py").write_text(textwrap.dedent(MODELS_V1))
    return tmp_path


def test_the_commands_make_apply_list_and_reverse_migrations(shop, db_url):
    env = {"SHOP_DATABASE": db_url}
    made = hyper(shop, "makemigrations", "shop.models")
    assert made.returncode == 0, made.stderr
    assert "Migrations for shop" in made.stdout and "Create model Tea" in made.stdout
    assert (shop / "shop" / "migrations" / "0001_initial.py").exists()
    assert "No changes in shop" in hyper(shop, "makemigrations", "shop.models:app").stdout

    shown = hyper(shop, "showmigrations", "shop.models:app", env=env)
    assert " [ ] 0001_initial" in shown.stdout and "hyperdjango.tasks" not in shown.stdout  # in-process tasks
    applied = hyper(shop, "migrate", "shop.models:app", env=env)
    assert applied.returncode == 0, applied.stderr
    assert "Applying shop.0001_initial" in applied.stdout
    assert "No migrations to apply." in hyper(shop, "migrate", "shop.models:app", env=env).stdout
    assert " [X] 0001_initial" in hyper(shop, "showmigrations", "shop.models:app", env=env).stdout

    # A renamed field: the prompt's answer comes from stdin; --yes answers yes.
    (shop / "shop" / "models.py").write_text(textwrap.dedent(MODELS_V1).replace("name: str", "title: str"))
    asked = hyper(shop, "makemigrations", "shop.models", "--yes", "--name", "tea_title")
    assert "Did you rename Tea.name to Tea.title" in asked.stdout and "Rename field name on Tea to title" in asked.stdout
    assert "Applying shop.0002_tea_title" in hyper(shop, "migrate", "shop.models:app", env=env).stdout
    assert "Unapplying shop.0002_tea_title" in hyper(shop, "migrate", "shop.models:app", "0001", env=env).stdout
    assert "Unapplying shop.0001_initial" in hyper(shop, "migrate", "shop.models", "zero", "--database", db_url).stdout
    assert " [ ] 0001_initial" in hyper(shop, "showmigrations", "shop.models", "--database", db_url).stdout


def test_migrate_explains_a_bad_target_and_a_missing_database(shop, db_url):
    assert hyper(shop, "makemigrations", "shop.models").returncode == 0
    bad = hyper(shop, "migrate", "shop.models:app", "0042", env={"SHOP_DATABASE": db_url})
    assert bad.returncode != 0 and "no migration of shop matches '0042'" in bad.stderr
    (shop / "plain.py").write_text("")
    nowhere = hyper(shop, "migrate", "plain", env={"HYPERDJANGO_DATABASE_URL": ""})
    assert nowhere.returncode != 0 and "which database?" in nowhere.stderr
    unreachable = hyper(shop, "migrate", "shop.models", "--database", f"sqlite:///{shop}/no/such/dir/db.sqlite3")
    assert unreachable.returncode == 1 and unreachable.stderr.startswith("hyper migrate: cannot open"), unreachable.stderr
    assert "Traceback" not in unreachable.stderr


@pytest.mark.parametrize("backend,has_table", [("inprocess", False), ("database", True)])
def test_migrate_creates_the_task_table_only_for_an_app_with_the_database_task_backend(shop, db_url, backend, has_table):

    models = textwrap.dedent(MODELS_V1).replace("HyperApp(database=", f"HyperApp(task_backend={backend!r}, database=")
    (shop / "shop" / "models.py").write_text(models)
    env = {"SHOP_DATABASE": db_url}
    assert hyper(shop, "makemigrations", "shop.models").returncode == 0
    hyper(shop, "migrate", "hyperdjango.tasks", "zero", "--database", db_url)  # another test may have made it
    applied = hyper(shop, "migrate", "shop.models:app", env=env)
    assert applied.returncode == 0, applied.stderr
    assert ("Applying hyperdjango.tasks.0001_initial" in applied.stdout) is has_table
    assert ("hyperdjango.tasks" in hyper(shop, "showmigrations", "shop.models:app", env=env).stdout) is has_table
    hyper(shop, "migrate", "shop.models:app", "zero", env=env)


def test_hyper_run_warns_about_unapplied_migrations_and_serves_anyway(shop, db_url):
    import socket
    import time

    import httpx

    env = {"SHOP_DATABASE": db_url}
    assert hyper(shop, "makemigrations", "shop.models").returncode == 0
    hyper(shop, "migrate", "shop.models:app", "zero", env=env)

    def run_and_read_log() -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([sys.executable, "-m", "hyperdjango", "run", "shop.models:app", "--port", str(port)],
                                cwd=shop, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=20)
        return err

    warned = run_and_read_log()
    assert "You have 1 unapplied migration(s) (shop: 0001_initial)" in warned, warned
    assert "run 'hyper migrate shop.models:app'" in warned
    assert hyper(shop, "migrate", "shop.models:app", env=env).returncode == 0
    assert "unapplied migration" not in run_and_read_log()
    hyper(shop, "migrate", "shop.models:app", "zero", env=env)
