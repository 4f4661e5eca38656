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
    # Two related_name="books": Django's E304 and E305 for each of the two keys.
    assert ids == ["E001", *["fields.E304", "fields.E305"] * 2, "E010", "E020", "E021", "W022", *["W031"] * 4], result.stdout
    assert "'Shelf'" in result.stdout and "related_name" in result.stdout and "max_body_size is 0" in result.stdout
    assert result.stdout.splitlines()[-1] == "System check identified 13 issue(s) (8 error(s))."


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


CLASHES = '''
from hyperdjango import Field, HyperApp, ManyToMany, Model

app = HyperApp(database="sqlite://:memory:")


class Author(Model):
    name: str = ""


class Book(Model):
    author_id: int = Field(foreign_key=Author, on_delete="CASCADE", related_name="books")
    editor_id: int = Field(foreign_key=Author, on_delete="CASCADE", related_name="books")


class Note(Model):
    a_id: int = Field(foreign_key=Author, on_delete="CASCADE")
    b_id: int = Field(foreign_key=Author, on_delete="CASCADE")
    e_id: int = Field(foreign_key=Author, on_delete="CASCADE", related_name="name")
    f = ManyToMany(Author, related_name="+")
    g = ManyToMany(Author, related_name="+")
'''

DJANGO_CLASHES = '''
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=10)


class Book(models.Model):
    author = models.ForeignKey(Author, models.CASCADE, related_name="books")
    editor = models.ForeignKey(Author, models.CASCADE, related_name="books")


class Note(models.Model):
    a = models.ForeignKey(Author, models.CASCADE)
    b = models.ForeignKey(Author, models.CASCADE)
    e = models.ForeignKey(Author, models.CASCADE, related_name="name")
    f = models.ManyToManyField(Author, related_name="+")
    g = models.ManyToManyField(Author, related_name="+")
'''

RUN_DJANGO = '''
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=["clashes"], DEFAULT_AUTO_FIELD="django.db.models.AutoField")
django.setup()
from django.core import checks
from clashes.models import Note
for e in checks.run_checks():
    print(f"{e.id}: {e.msg} HINT: {e.hint}")
print(Note._meta.get_field("f").remote_field.get_accessor_name())
'''


def test_relation_clashes_are_reported_as_django_reports_them(tmp_path):
    # The same models checked by Django 5.2 and by hyper check: ids, messages and hints alike
    # (two accessors alike, two query names alike, an accessor and a query name that are a
    # field's name; hidden many-to-many relations never clash).
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "clashes.py").write_text(textwrap.dedent(CLASHES))
    (tmp_path / "django" / "clashes").mkdir(parents=True)
    (tmp_path / "django" / "clashes" / "__init__.py").write_text("")
    (tmp_path / "django" / "clashes" / "models.py").write_text(textwrap.dedent(DJANGO_CLASHES))
    django = subprocess.run([sys.executable, "-c", RUN_DJANGO], cwd=tmp_path / "django", capture_output=True, text=True, timeout=60)
    assert django.returncode == 0, django.stderr
    *expected, hidden = django.stdout.splitlines()
    assert len(expected) == 8 and hidden == "_clashes_note_f_+"
    result = check(tmp_path / "mine", "clashes:app", "--no-database")
    assert result.returncode == 1, result.stderr
    assert sorted(line for line in result.stdout.splitlines() if line.startswith("fields.")) == sorted(expected)
    mine = subprocess.run([sys.executable, "-c", "from clashes import Note; print(Note._meta.many_to_many[0].reverse.get_accessor_name())"],
                          cwd=tmp_path / "mine", capture_output=True, text=True, timeout=60)
    assert mine.stdout.strip() == hidden, mine.stderr


def test_two_query_names_alike_are_a_clash_django_lets_pass(tmp_path):
    (tmp_path / "same.py").write_text(textwrap.dedent('''
        from hyperdjango import Field, HyperApp, Model

        app = HyperApp(database="sqlite://:memory:")

        class Author(Model):
            name: str = ""

        class Note(Model):
            c_id: int = Field(foreign_key=Author, on_delete="CASCADE", related_name="x", related_query_name="same")
            d_id: int = Field(foreign_key=Author, on_delete="CASCADE", related_name="y", related_query_name="same")
    '''))
    result = check(tmp_path, "same:app", "--no-database")
    assert [line.split(" HINT")[0] for line in result.stdout.splitlines()[:-1]] == [
        "fields.E305: Reverse query name for 'same.Note.c' clashes with reverse query name for 'same.Note.d'.",
        "fields.E305: Reverse query name for 'same.Note.d' clashes with reverse query name for 'same.Note.c'.",
    ], result.stdout


def test_a_custom_user_model_takes_the_names_of_the_swapped_out_user(tmp_path):
    # Its groups and user_permissions give Group and Permission user_set and user, as auth's User
    # does: auth's User is swapped out (as in Django), so they do not clash.
    (tmp_path / "custom.py").write_text(textwrap.dedent('''
        from hyperdjango import HyperApp
        from hyperdjango.auth import AbstractUser, set_user_model

        app = HyperApp(database="sqlite://:memory:")

        class Member(AbstractUser):
            pass

        set_user_model(Member)
    '''))
    result = check(tmp_path, "custom:app", "--no-database")
    assert result.stdout.strip() == "System check identified no issue(s) (0 error(s)).", result.stdout
