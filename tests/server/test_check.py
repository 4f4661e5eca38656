"""``hyper check``: models, routes, settings and the database, with ids and an exit code."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BAD = '''
from hyperdjango import Field, HyperApp, Model

app = HyperApp(database="sqlite://:memory:", task_backend="database", debug=True, max_body_size=0)


class Author(Model):
    name: str = ""


class Book(Model):
    author_id: int = Field(foreign_key=Author, on_delete="CASCADE", related_name="books")
    editor_id: int = Field(foreign_key=Author, on_delete="CASCADE", related_name="books")
    shelf_id: int = Field(foreign_key="Shelf", on_delete="CASCADE")


@app.get("/a/{x}")
async def a(request):
    return 1


@app.get("/a/{y}")
async def b(request):
    return 2
'''

GOOD = '''
from hyperdjango import HyperApp

app = HyperApp(database="sqlite:///{path}")


@app.get("/a/{{x}}")
async def a(request):
    return 1
'''


def check(cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hyperdjango", "check", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_every_kind_of_problem_is_reported_with_its_id_and_the_exit_code_is_1(tmp_path):
    (tmp_path / "bad.py").write_text(textwrap.dedent(BAD))
    result = check(tmp_path, "bad:app")
    assert result.returncode == 1, result.stderr
    ids = [line.split(":")[0] for line in result.stdout.splitlines()[:-1]]
    # W031 once per built-in app with a table: tasks (its backend is the database), cache, sessions, auth.
    assert ids == ["E001", "E002", "E010", "E020", "E021", "W022", "W031", "W031", "W031", "W031"], result.stdout
    assert "'Shelf'" in result.stdout and "related_name" in result.stdout and "max_body_size is 0" in result.stdout
    assert result.stdout.splitlines()[-1] == "System check identified 10 issue(s) (5 error(s))."


def test_a_sound_app_passes_and_an_unreachable_database_is_an_error(tmp_path):
    (tmp_path / "good.py").write_text(textwrap.dedent(GOOD).format(path=tmp_path / "db.sqlite3"))
    migrated = subprocess.run([sys.executable, "-m", "hyperdjango", "migrate", "good:app"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
    assert migrated.returncode == 0, migrated.stderr
    passed = check(tmp_path, "good:app")
    assert passed.returncode == 0 and passed.stdout.strip() == "System check identified no issue(s) (0 error(s)).", passed.stdout
    (tmp_path / "away.py").write_text(textwrap.dedent(GOOD).format(path=tmp_path / "no" / "such" / "db.sqlite3"))
    away = check(tmp_path, "away:app")
    assert away.returncode == 1 and away.stdout.startswith("E030: the database"), away.stdout
    assert check(tmp_path, "away:app", "--no-database").returncode == 0
