"""hyper migrate (auth tables and permissions), createsuperuser, changepassword,
createtoken, clearsessions: real subprocesses on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap

import pytest

from hyperdjango.auth.validators import (
    CommonPasswordValidator,
    MinimumLengthValidator,
    NumericPasswordValidator,
    UserAttributeSimilarityValidator,
    ValidationError,
    validate_password,
)

APP = """
    import os
    from hyperdjango import Field, HyperApp, Model

    app = HyperApp(database=os.environ["SHOP_DATABASE"], secret_key="k")

    class Product(Model):
        name: str = Field(max_length=100)
"""


def hyper(cwd, *args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "hyperdjango", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


@pytest.fixture
def project(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "models.py").write_text(textwrap.dedent(APP))
    return tmp_path


async def _rows(db_url, sql):
    from hyperdjango.database import Database

    db = Database(db_url)
    await db.connect()
    try:
        return [tuple(r) for r in await db.query(sql)]
    finally:
        await db.close()


def test_the_auth_commands_end_to_end(project, db_url):
    env = {"SHOP_DATABASE": db_url}
    assert hyper(project, "makemigrations", "shop.models", env=env).returncode == 0
    migrated = hyper(project, "migrate", "shop.models", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "Applying hyperdjango.auth.0001_initial" in migrated.stdout
    perms = asyncio.run(_rows(db_url, "SELECT app_label, codename FROM hyperdjango_permissions"))
    assert {("shop", "add_product"), ("shop", "change_product"), ("shop", "delete_product"), ("shop", "view_product"),
            ("hyperdjango.auth", "change_user")} <= set(perms)
    assert not any("through" in codename for _, codename in perms)
    assert "Created" not in hyper(project, "migrate", "shop.models", env=env).stdout  # once only

    weak = hyper(project, "createsuperuser", "shop.models", "--username", "admin", "--noinput",
                 env={**env, "HYPERDJANGO_SUPERUSER_PASSWORD": "12345678"})
    assert weak.returncode != 0 and "too common" in weak.stderr and "entirely numeric" in weak.stderr
    made = hyper(project, "createsuperuser", "shop.models", "--username", "admin", "--email", "a@shop.test", "--noinput",
                 env={**env, "HYPERDJANGO_SUPERUSER_PASSWORD": "a long enough passphrase"})
    assert made.returncode == 0, made.stderr
    again = hyper(project, "createsuperuser", "shop.models", "--username", "admin", "--noinput",
                  env={**env, "HYPERDJANGO_SUPERUSER_PASSWORD": "a long enough passphrase"})
    assert again.returncode != 0 and "taken" in again.stderr
    rows = asyncio.run(_rows(db_url, "SELECT username, is_superuser, is_staff, password FROM hyperdjango_users ORDER BY id"))
    assert rows[0][:3] == ("admin", True, True) and rows[0][3].startswith("argon2$argon2id$")

    changed = hyper(project, "changepassword", "shop.models", "admin", stdin="another long passphrase\n", env=env)
    assert changed.returncode == 0, changed.stderr
    assert asyncio.run(_rows(db_url, "SELECT password FROM hyperdjango_users ORDER BY id"))[0][0] != rows[0][3]

    token = hyper(project, "createtoken", "shop.models", "admin", "--days", "1", env=env)
    assert token.returncode == 0 and token.stdout.startswith("hd_")
    assert hyper(project, "createtoken", "shop.models", "nobody", env=env).returncode != 0

    # Without --noinput the questions are asked (here on a pipe: one answer a line).
    asked = hyper(project, "createsuperuser", "shop.models", stdin="second\ns@shop.test\nsecond admin passphrase\n", env=env)
    assert asked.returncode == 0 and "Superuser 'second' created." in asked.stdout, asked.stderr

    cleared = hyper(project, "clearsessions", "shop.models", env=env)
    assert cleared.returncode == 0 and "Deleted 0 expired sessions." in cleared.stdout


def test_validators_give_djangos_messages():
    with pytest.raises(ValidationError) as e:
        validate_password("123456")
    assert e.value.messages == [
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
    ]
    validate_password("correct horse battery staple")


def test_similarity_to_the_user_is_refused():
    class U:
        username = "margaret.thatcher"
        email = "maggie@example.com"
        first_name = ""
        last_name = ""

    with pytest.raises(ValidationError, match="too similar to the username"):
        UserAttributeSimilarityValidator().validate("thatcher1", U())
    UserAttributeSimilarityValidator().validate("unrelated passphrase", U())


def test_the_shipped_common_password_list_has_twenty_thousand_and_more_lowercase_entries():
    validator = CommonPasswordValidator()
    assert len(validator.passwords) >= 20_000
    assert all(p == p.lower().strip() and p for p in validator.passwords)
    for common in ("123456", "password", "dragon", "trustno1", "sunshine1", "letmein"):
        assert common in validator.passwords


def test_a_common_password_is_refused_whatever_its_case_and_surrounding_spaces():
    for password in ("PASSWORD", " Dragon ", "Sunshine1\t", "qwertyuiop"):
        with pytest.raises(ValidationError, match="too common"):
            CommonPasswordValidator().validate(password)
    CommonPasswordValidator().validate("a long phrase nobody uses 7")


def test_the_common_password_list_is_read_once_per_process():
    assert CommonPasswordValidator().passwords is CommonPasswordValidator().passwords


def test_common_password_list_from_a_plain_text_file(tmp_path):
    path = tmp_path / "common.txt"
    path.write_text("  Tr0ub4dor \nother\n")
    with pytest.raises(ValidationError):
        CommonPasswordValidator(password_list_path=path).validate("tr0ub4dor")
    CommonPasswordValidator(password_list_path=path).validate("password")  # not on this list


def test_common_password_list_from_a_file(tmp_path):
    import gzip

    path = tmp_path / "common.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write("tr0ub4dor\nother\n")
    with pytest.raises(ValidationError):
        CommonPasswordValidator(path).validate("Tr0ub4dor")
    MinimumLengthValidator(4).validate("abcd")
    NumericPasswordValidator().validate("12a")
