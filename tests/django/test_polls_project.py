"""A real Django 5.2 project (the tutorial's polls app with its admin, static
files and a login: examples/djpolls) served by ``hyper run`` as an ASGI app and
as a WSGI app. Django's own test client gives the expected answers; the admin
logs in and edits a question in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import httpx
import pytest

from support.chromium import Browser, require_chromium
from support.servers import ROOT, serving

PROJECT = ROOT / "examples" / "djpolls"
TARGETS = {"asgi": "mysite.asgi:application", "wsgi": "mysite.wsgi:application"}
PASSWORD = "a-long-admin-password-1"

SETUP = """
import django, datetime
django.setup()
from django.contrib.auth.models import User
from django.utils import timezone
from polls.models import Question
User.objects.create_superuser("admin", "admin@example.com", %r)
q = Question.objects.create(question_text="What's new?", pub_date=timezone.now() - datetime.timedelta(hours=1))
q.choice_set.create(choice_text="Not much")
q.choice_set.create(choice_text="The sky")
""" % PASSWORD  # noqa: UP031 - the script is Python source with a literal in it

# Pages whose answers must be the same from Django's test client and over hyper run.
PAGES = ["/polls/", "/polls/1/", "/polls/1/results/", "/polls/999/", "/static/polls/style.css", "/admin/", "/admin/login/?next=/admin/", "/accounts/login/"]

DJANGO_CLIENT = """
import django, json, sys
django.setup()
from django.test import Client
client = Client(enforce_csrf_checks=True)
out = []
for path in json.loads(sys.argv[1]):
    response = client.get(path)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    out.append([response.status_code, response.get("Location", ""), body.decode("utf-8", "replace")])
print(json.dumps(out))
"""


def masked(body: str) -> str:
    """Without the per-request CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="…"', body)


@pytest.fixture(scope="module")
def project_env(tmp_path_factory):
    db = tmp_path_factory.mktemp("djpolls") / "db.sqlite3"
    env = {**os.environ, "DJPOLLS_DB": str(db), "DJPOLLS_SECRET_KEY": "test-only-secret", "DJANGO_SETTINGS_MODULE": "mysite.settings"}
    env["PYTHONPATH"] = str(PROJECT)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=PROJECT, env=env, check=True, timeout=120)
    subprocess.run([sys.executable, "-c", SETUP], cwd=PROJECT, env=env, check=True, timeout=60)
    return {k: env[k] for k in ("DJPOLLS_DB", "DJPOLLS_SECRET_KEY", "DJANGO_SETTINGS_MODULE")}


def django_test_client(env: dict[str, str], paths: list[str]) -> list[list]:
    result = subprocess.run(
        [sys.executable, "-c", DJANGO_CLIENT, json.dumps(paths)], cwd=PROJECT, env={**os.environ, **env, "PYTHONPATH": str(PROJECT)},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("interface", ["asgi", "wsgi"])
def test_pages_match_djangos_test_client(project_env, interface):
    expected = django_test_client(project_env, PAGES)
    with serving("hyper", TARGETS[interface], env=project_env, cwd=PROJECT) as url, httpx.Client(base_url=url) as client:
        for path, (status, location, body) in zip(PAGES, expected):
            response = client.get(path)
            assert (path, response.status_code, response.headers.get("location", "")) == (path, status, location)
            assert masked(response.text) == masked(body), path


@pytest.mark.parametrize("interface", ["asgi", "wsgi"])
def test_a_vote_needs_the_csrf_token_and_counts(project_env, interface):
    with serving("hyper", TARGETS[interface], env=project_env, cwd=PROJECT) as url, httpx.Client(base_url=url) as client:
        assert client.post("/polls/1/vote/", data={"choice": "1"}).status_code == 403  # no CSRF token
        page = client.get("/polls/1/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        before = client.get("/polls/1/results/").text
        votes = int(re.search(r"Not much -- (\d+) vote", before).group(1))
        voted = client.post("/polls/1/vote/", data={"choice": "1", "csrfmiddlewaretoken": token})
        assert (voted.status_code, voted.headers["location"]) == (302, "/polls/1/results/")
        assert f"Not much -- {votes + 1} vote" in client.get("/polls/1/results/").text


@pytest.mark.parametrize("interface", ["asgi", "wsgi"])
async def test_the_admin_logs_in_and_edits_a_question_in_chromium(project_env, interface):
    require_chromium()
    new_text = f"Edited in Chromium over {interface}"
    with serving("hyper", TARGETS[interface], env=project_env, cwd=PROJECT) as url:
        async with Browser.launch() as browser:
            page = await browser.open(f"{url}/admin/login/?next=/admin/polls/question/1/change/")
            await page.wait_for("document.readyState === 'complete' && !!document.querySelector('#id_username')")
            await page.evaluate(
                f"document.querySelector('#id_username').value = 'admin';"
                f"document.querySelector('#id_password').value = {PASSWORD!r};"
                "document.querySelector('#login-form').submit()"
            )
            await page.wait_for("!!document.querySelector('#id_question_text')")
            await page.evaluate(
                f"document.querySelector('#id_question_text').value = {new_text!r};"
                "document.querySelector('input[name=_save]').click()"
            )
            message = await page.wait_for("document.querySelector('.messagelist') && document.querySelector('.messagelist').textContent")
            assert "was changed successfully" in message
        async with httpx.AsyncClient(base_url=url) as client:
            assert new_text in (await client.get("/polls/")).text


def admin_login(client: httpx.Client, password: str = PASSWORD) -> httpx.Response:
    """Logs in through Django's admin login form, CSRF token and all."""
    page = client.get("/admin/login/?next=/admin/").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return client.post("/admin/login/?next=/admin/", data={"username": "admin", "password": password, "csrfmiddlewaretoken": token,
                                                             "next": "/admin/"})


def set_admin_password(env: dict[str, str], password: str) -> None:
    code = ("import django, sys; django.setup(); from django.contrib.auth.models import User; "
            "u = User.objects.get(username='admin'); u.set_password(sys.argv[1]); u.save()")
    subprocess.run([sys.executable, "-c", code, password], cwd=PROJECT, env={**os.environ, **env, "PYTHONPATH": str(PROJECT)},
                   check=True, timeout=60)


def test_a_hyperdjango_view_mounted_beside_django_sees_the_user_logged_in_through_djangos_admin(project_env):
    with serving("hyper", "mysite.hyper:app", env=project_env, cwd=PROJECT) as url, httpx.Client(base_url=url) as client:
        assert client.get("/hyper/whoami").json() == {"authenticated": False, "username": "", "is_staff": False}
        logged_in = admin_login(client)
        assert (logged_in.status_code, logged_in.headers["location"]) == (302, "/admin/")
        assert client.get("/admin/").status_code == 200  # Django's own view: logged in
        assert client.get("/hyper/whoami").json() == {"authenticated": True, "username": "admin", "is_staff": True}


def test_a_tampered_django_session_cookie_is_anonymous_in_the_hyperdjango_view(project_env):
    with serving("hyper", "mysite.hyper:app", env=project_env, cwd=PROJECT) as url, httpx.Client(base_url=url) as client:
        admin_login(client)
        key = client.cookies["sessionid"]
        for forged in (key[:-1] + ("a" if key[-1] != "a" else "b"), "x" * 32, key + "'--"):
            client.cookies.set("sessionid", forged)
            assert client.get("/hyper/whoami").json()["authenticated"] is False, forged
        client.cookies.set("sessionid", key)
        assert client.get("/hyper/whoami").json()["username"] == "admin"


def test_a_password_changed_in_django_logs_the_session_out_of_the_hyperdjango_view_too(project_env):
    with serving("hyper", "mysite.hyper:app", env=project_env, cwd=PROJECT) as url, httpx.Client(base_url=url) as client:
        admin_login(client)
        assert client.get("/hyper/whoami").json()["authenticated"] is True
        set_admin_password(project_env, "another-long-password-2")
        try:
            assert client.get("/hyper/whoami").json()["authenticated"] is False
            assert client.get("/admin/").status_code == 302  # Django agrees: logged out
        finally:
            set_admin_password(project_env, PASSWORD)


def test_a_django_session_row_signed_with_another_key_is_anonymous_in_the_hyperdjango_view(project_env):
    import datetime
    import sqlite3

    from hyperdjango import signing
    from hyperdjango.auth.django_sessions import AUTH_HASH_SALT, DB_SESSION_SALT

    with serving("hyper", "mysite.hyper:app", env=project_env, cwd=PROJECT) as url, httpx.Client(base_url=url) as client:
        admin_login(client)
        with sqlite3.connect(project_env["DJPOLLS_DB"]) as db:
            user_id, password = db.execute("SELECT id, password FROM auth_user WHERE username = 'admin'").fetchone()
            data = {"_auth_user_id": str(user_id), "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                    "_auth_user_hash": signing.salted_hmac_digest(AUTH_HASH_SALT, password, project_env["DJPOLLS_SECRET_KEY"]).hex()}
            expires = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
            for key, secret in (("forgedwithanotherkey0000000000000", "not-the-project-key"),
                                ("madewiththeprojectkey00000000000", project_env["DJPOLLS_SECRET_KEY"])):
                session_data = signing.dumps(data, key=secret, salt=DB_SESSION_SALT, compress=True)
                db.execute("INSERT INTO django_session (session_key, session_data, expire_date) VALUES (?, ?, ?)", (key, session_data, expires))
            db.execute("INSERT INTO django_session (session_key, session_data, expire_date) VALUES (?, ?, ?)",
                       ("expiredbutsignedwiththeprojectkey", session_data, "2020-01-01 00:00:00.000000"))
        for key in ("forgedwithanotherkey0000000000000", "expiredbutsignedwiththeprojectkey"):
            client.cookies.set("sessionid", key)
            assert client.get("/hyper/whoami").json()["authenticated"] is False, key
        client.cookies.set("sessionid", "madewiththeprojectkey00000000000")  # our signing is Django's: the same key verifies
        assert client.get("/hyper/whoami").json()["username"] == "admin"
