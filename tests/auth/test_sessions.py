"""Sessions through real sockets: signed-cookie and database stores, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime

import pytest

from hyperdjango.sessions.models import Session as SessionRow
from hyperdjango.testing import TestClient

ENGINES = ["signed_cookies", "db", "cache"]


def counter_app(make_app, engine, **options):
    app = make_app(engine, **options)
    if engine == "cache":
        from hyperdjango.cache import configure_caches

        configure_caches({"default": {"BACKEND": "locmem"}})

    @app.get("/count")
    async def count(request):
        request.session["n"] = request.session.get("n", 0) + 1
        return {"n": request.session["n"], "key": request.session.session_key}

    @app.get("/peek")
    async def peek(request):
        return {"n": request.session.get("n")}

    @app.get("/flush")
    async def flush(request):
        request.session.flush()
        return {}

    @app.get("/expire-now")
    async def expire(request):
        request.session.set_expiry(0)
        return {}

    return app


@pytest.mark.parametrize("engine", ENGINES)
def test_session_data_survives_between_requests(make_app, engine):
    with TestClient(counter_app(make_app, engine)) as c:
        assert c.get("/count").json()["n"] == 1
        assert c.get("/count").json()["n"] == 2
        assert c.get("/peek").json() == {"n": 2}


@pytest.mark.parametrize("engine", ENGINES)
def test_the_cookie_is_httponly_samesite_lax_with_an_age(make_app, engine):
    with TestClient(counter_app(make_app, engine)) as c:
        cookie = c.get("/count").headers["set-cookie"]
    assert cookie.startswith("sessionid=")
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "max-age=1209600" in lowered and "path=/" in lowered
    assert "secure" not in lowered


def test_cookie_flags_follow_the_options(make_app):
    app = counter_app(make_app, "signed_cookies", cookie_name="sid", cookie_secure=True, cookie_samesite="strict",
                      cookie_domain="example.test", cookie_age=60)
    with TestClient(app) as c:
        cookie = c.get("/count").headers["set-cookie"].lower()
    assert cookie.startswith("sid=") and "secure" in cookie and "samesite=strict" in cookie
    assert "domain=example.test" in cookie and "max-age=60" in cookie


@pytest.mark.parametrize("engine", ENGINES)
def test_an_unmodified_session_sets_no_cookie(make_app, engine):
    with TestClient(counter_app(make_app, engine)) as c:
        c.get("/count")
        r = c.get("/peek")
    assert "set-cookie" not in r.headers
    assert "Cookie" in r.headers["vary"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_tampered_cookie_is_an_empty_session_not_an_error(make_app, engine):
    with TestClient(counter_app(make_app, engine)) as c:
        c.get("/count")
        good = c.cookies["sessionid"]
        c.cookies.clear()
        for forged in (good[:-2] + ("xx" if not good.endswith("xx") else "yy"), "garbage", "a" * 5000, "%C3%A9", ".eJzzSM3JyVcozy_KSQEAGgQEXQ:1xZVY3:AAAA"):
            r = c.get("/peek", headers={"cookie": f"sessionid={forged}"})
            assert r.status_code == 200 and r.json() == {"n": None}


def test_an_expired_signed_cookie_is_an_empty_session(make_app, monkeypatch):
    app = counter_app(make_app, "signed_cookies", cookie_age=60)
    with TestClient(app) as c:
        c.get("/count")
        import time

        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 120)
        assert c.get("/peek").json() == {"n": None}


async def _expire_all(db_url):
    from hyperdjango.database import Database

    db = Database(db_url)
    await db.connect()
    try:
        past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
        await SessionRow.objects.using(db).update(expire_date=past)
    finally:
        await db.close()


def test_an_expired_database_session_is_empty_and_clearsessions_deletes_it(make_app, db_url):
    import asyncio

    from hyperdjango.sessions.backends.db import DatabaseStore

    with TestClient(counter_app(make_app, "db")) as c:
        c.get("/count")
        asyncio.run(_expire_all(db_url))
        assert c.get("/peek").json() == {"n": None}

    async def clear():
        from hyperdjango.database import Database, connection

        db = Database(db_url)
        await db.connect()
        previous = connection._default
        connection.set_default_database(db)
        try:
            return await DatabaseStore.clear_expired()
        finally:
            connection._default = previous
            await db.close()

    assert asyncio.run(clear()) >= 1


@pytest.mark.parametrize("engine", ENGINES)
def test_flush_empties_the_session_and_deletes_the_cookie(make_app, engine):
    with TestClient(counter_app(make_app, engine)) as c:
        c.get("/count")
        old = c.cookies["sessionid"]
        r = c.get("/flush")
        assert 'sessionid=""' in r.headers["set-cookie"] or "sessionid=;" in r.headers["set-cookie"]
        assert c.get("/peek").json() == {"n": None}
        if engine != "signed_cookies":  # the stored session is gone: the old cookie is worth nothing
            c.cookies.clear()
            assert c.get("/peek", headers={"cookie": f"sessionid={old}"}).json() == {"n": None}


def test_a_client_chosen_key_is_never_adopted(make_app):
    # Session fixation at the store: an unknown key gets a fresh one, not the attacker's.
    with TestClient(counter_app(make_app, "db")) as c:
        r = c.get("/count", headers={"cookie": "sessionid=attacker-chosen-key"})
    assert r.json()["key"] != "attacker-chosen-key"
    assert "attacker-chosen-key" not in r.headers["set-cookie"]


def test_expiry_at_browser_close_sets_a_session_cookie(make_app):
    with TestClient(counter_app(make_app, "db")) as c:
        c.get("/count")
        cookie = c.get("/expire-now").headers["set-cookie"].lower()
    assert "max-age" not in cookie


def test_session_is_not_saved_on_a_500(make_app):
    app = make_app("db")

    @app.get("/boom")
    async def boom(request):
        request.session["x"] = 1
        raise RuntimeError("fails")

    with TestClient(app) as c:
        r = c.get("/boom")
    assert r.status_code == 500 and "set-cookie" not in r.headers


def test_cache_sessions_on_a_real_redis(make_app, redis_url):
    from hyperdjango.cache import configure_caches

    app = counter_app(make_app, "cache", cache_alias="sessions")
    configure_caches({"default": {"BACKEND": "locmem"}, "sessions": {"BACKEND": "redis", "LOCATION": redis_url}})
    with TestClient(app) as c:
        assert c.get("/count").json()["n"] == 1
        assert c.get("/count").json()["n"] == 2
        old = c.cookies["sessionid"]
        c.get("/flush")
        c.cookies.clear()
        assert c.get("/peek", headers={"cookie": f"sessionid={old}"}).json() == {"n": None}


def test_a_django_signed_cookie_session_reads_as_is():
    # Made by Django 5.1.4's signed_cookies SessionStore with this secret key.
    import asyncio

    from hyperdjango import HyperApp
    from hyperdjango.sessions.backends.signed_cookies import SignedCookieStore

    django_cookie = "eyJjYXJ0IjpbMSwyXSwiX2F1dGhfdXNlcl9pZCI6IjcifQ:1xZVzo:-6yesbamrD2Tu-bw-hS7KzU5bdeaZC_w2StN6cMkJB0"
    HyperApp(secret_key="django-insecure-vector-key", database="sqlite://:memory:")
    store = SignedCookieStore(max_age=100 * 365 * 86400)
    assert asyncio.run(store.load(django_cookie)) == {"cart": [1, 2], "_auth_user_id": "7"}
    HyperApp(secret_key="another key", database="sqlite://:memory:")
    assert asyncio.run(store.load(django_cookie)) is None
