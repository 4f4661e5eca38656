"""DjangoSessionAuthMiddleware with Django's signed-cookie session engine: a cookie that
Django itself signed (made by Django 5.2 in a subprocess) logs the user in; a cookie
signed with another key, an expired one, or one whose password hash is stale does not.
(The database engine is tested end to end against the polls project in tests/django.)"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

from hyperdjango import HyperApp
from hyperdjango.auth.django_sessions import AUTH_HASH_SALT, DjangoSessionAuthMiddleware
from hyperdjango.signing import salted_hmac_digest
from hyperdjango.testing import TestClient

SECRET = "the django project's key"
PASSWORD_HASH = "pbkdf2_sha256$870000$salt$hash="

DJANGO_SIGNS = """
import json, sys
from django.conf import settings
settings.configure(SECRET_KEY=sys.argv[1])
from django.core import signing
print(signing.dumps(json.loads(sys.argv[2]), salt="django.contrib.sessions.backends.signed_cookies", compress=True))
"""


def django_cookie(data: dict, key: str = SECRET) -> str:
    out = subprocess.run([sys.executable, "-c", DJANGO_SIGNS, key, json.dumps(data)], capture_output=True, text=True, check=True, timeout=60)
    return out.stdout.strip()


def session(user_id: int = 1, password_hash: str = PASSWORD_HASH) -> dict:
    return {"_auth_user_id": str(user_id), "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": salted_hmac_digest(AUTH_HASH_SALT, password_hash, SECRET).hex()}


def make_app(tmp_path, **options):
    path = tmp_path / "django.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE auth_user (id integer PRIMARY KEY, password varchar(128), last_login datetime NULL, "
                   "is_superuser bool, username varchar(150), first_name varchar(150), last_name varchar(150), "
                   "email varchar(254), is_staff bool, is_active bool, date_joined datetime)")
        db.execute("INSERT INTO auth_user VALUES (1, ?, NULL, 0, 'ada', 'Ada', '', 'ada@example.com', 1, 1, '2026-01-01 00:00:00')",
                   (PASSWORD_HASH,))
    app = HyperApp(database=f"sqlite:///{path}", secret_key="the hyperdjango app's own key")
    app.use(DjangoSessionAuthMiddleware(secret_key=SECRET, engine="signed_cookies", **options))

    @app.get("/whoami")
    async def whoami(request):
        return {"username": request.user.username, "authenticated": request.user.is_authenticated}

    return app


def whoami(client, cookie: str) -> dict:
    return client.get("/whoami", headers={"cookie": f"sessionid={cookie}"}).json()


def test_a_cookie_signed_by_django_is_its_user(tmp_path):
    with TestClient(make_app(tmp_path)) as client:
        assert whoami(client, django_cookie(session())) == {"username": "ada", "authenticated": True}
        assert client.get("/whoami").json() == {"username": "", "authenticated": False}


def test_another_key_a_stale_password_hash_or_an_unknown_user_is_anonymous(tmp_path):
    with TestClient(make_app(tmp_path)) as client:
        for cookie in (django_cookie(session(), key="another project's key"),
                       django_cookie(session(password_hash="the password before it changed")),
                       django_cookie(session(user_id=2)),
                       django_cookie(session())[:-2] + "xx"):
            assert whoami(client, cookie)["authenticated"] is False, cookie


def test_a_cookie_older_than_the_session_age_is_anonymous(tmp_path):
    with TestClient(make_app(tmp_path, cookie_age=-1)) as client:
        assert whoami(client, django_cookie(session()))["authenticated"] is False


def test_a_retired_key_in_the_fallbacks_still_verifies(tmp_path):
    with TestClient(make_app(tmp_path, secret_key_fallbacks=["the old key"])) as client:
        old = session()
        old["_auth_user_hash"] = salted_hmac_digest(AUTH_HASH_SALT, PASSWORD_HASH, "the old key").hex()
        assert whoami(client, django_cookie(old, key="the old key"))["username"] == "ada"
