"""@cache_page, @cache_control, @never_cache and @vary_on_headers, through real requests."""

from __future__ import annotations

import uuid

import pytest

from hyperdjango import HyperApp, Response
from hyperdjango.cache import cache_control, cache_page, configure_caches, never_cache, vary_on_headers
from hyperdjango.cache.handler import DEFAULT_CACHES
from hyperdjango.testing import TestClient


@pytest.fixture(params=["locmem", "redis"])
def app(request):
    """An app whose default cache is in memory or in Redis, and a counter of view calls."""
    prefix = f"views-{uuid.uuid4().hex[:8]}"
    if request.param == "redis":
        config = {"BACKEND": "redis", "LOCATION": request.getfixturevalue("redis_url"), "KEY_PREFIX": prefix}
    else:
        config = {"BACKEND": "locmem", "LOCATION": prefix}
    app = HyperApp(database="sqlite://:memory:", caches={"default": config})
    app.calls = 0
    yield app
    configure_caches(DEFAULT_CACHES)


def call_counter(app):
    """A view answering how many views of ``app`` ran, itself included."""

    async def view(request):
        app.calls += 1
        return {"call": app.calls}

    return view


def test_a_cached_page_runs_the_view_once_per_url(app):
    @app.get("/products/{id:int}")
    @cache_page(60)
    async def product(request, id: int):
        app.calls += 1
        return {"id": id, "call": app.calls}

    with TestClient(app) as client:
        first = client.get("/products/1")
        assert first.json() == {"id": 1, "call": 1}
        assert client.get("/products/1").json() == {"id": 1, "call": 1}
        assert client.get("/products/1?page=2").json() == {"id": 1, "call": 2}
        assert client.get("/products/2").json() == {"id": 2, "call": 3}
        assert "max-age=60" in first.headers["cache-control"] and "expires" in first.headers


def test_a_view_without_request_keeps_working_under_cache_page(app):
    @app.get("/square/{n:int}")
    @cache_page(60)
    async def square(n: int):
        app.calls += 1
        return {"square": n * n}

    with TestClient(app) as client:
        assert client.get("/square/3").json() == {"square": 9}
        assert client.get("/square/3").json() == {"square": 9}
        assert app.calls == 1


def test_post_is_never_cached(app):
    app.route("/form", methods=["GET", "POST"])(cache_page(60)(call_counter(app)))

    with TestClient(app) as client:
        assert client.post("/form").json() == {"call": 1}
        assert client.post("/form").json() == {"call": 2}


def test_responses_setting_cookies_or_private_or_errors_are_never_cached(app):
    @app.get("/cookie")
    @cache_page(60)
    async def cookie(request):
        app.calls += 1
        response = Response.json({"call": app.calls})
        response.set_cookie("session", "secret-for-one-user")
        return response

    app.get("/private")(cache_page(60)(cache_control(private=True)(call_counter(app))))

    @app.get("/missing")
    @cache_page(60)
    async def missing(request):
        app.calls += 1
        return Response.json({"call": app.calls}, status=404)

    with TestClient(app) as client:
        for path in ("/cookie", "/private", "/missing"):
            before = app.calls
            first, second = client.get(path), client.get(path)
            assert (first.json()["call"], second.json()["call"]) == (before + 1, before + 2), path
        assert "set-cookie" in client.get("/cookie").headers


def test_never_cache_sets_djangos_headers_and_cache_page_respects_them(app):
    app.get("/live")(cache_page(60)(never_cache(call_counter(app))))

    with TestClient(app) as client:
        response = client.get("/live")
        assert client.get("/live").json() == {"call": 2}
    directives = {d.strip() for d in response.headers["cache-control"].split(",")}
    assert directives == {"max-age=0", "no-cache", "no-store", "must-revalidate", "private"}
    assert "expires" in response.headers


def test_vary_keeps_one_copy_per_header_value(app):
    @app.get("/greeting")
    @cache_page(60)
    @vary_on_headers("Accept-Language")
    async def greeting(request):
        app.calls += 1
        return {"lang": request.headers.get("accept-language"), "call": app.calls}

    with TestClient(app) as client:
        assert client.get("/greeting", headers={"Accept-Language": "fr"}).json() == {"lang": "fr", "call": 1}
        assert client.get("/greeting", headers={"Accept-Language": "de"}).json() == {"lang": "de", "call": 2}
        assert client.get("/greeting", headers={"Accept-Language": "fr"}).json() == {"lang": "fr", "call": 1}
        response = client.get("/greeting", headers={"Accept-Language": "de"})
        assert response.json() == {"lang": "de", "call": 2}
        assert response.headers["vary"] == "Accept-Language"


def test_vary_star_is_never_cached(app):
    app.get("/star")(cache_page(60)(vary_on_headers("*")(call_counter(app))))

    with TestClient(app) as client:
        assert [client.get("/star").json()["call"] for _ in range(2)] == [1, 2]


def test_a_cached_page_answers_a_matching_if_none_match_with_304(app):
    @app.get("/page")
    @cache_page(60)
    async def page(request):
        app.calls += 1
        return Response.html("<p>hello</p>")

    with TestClient(app) as client:
        first = client.get("/page")
        etag = first.headers["etag"]
        assert etag.startswith('"') and first.text == "<p>hello</p>"
        again = client.get("/page", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag and "max-age=60" in again.headers["cache-control"]
        assert client.get("/page", headers={"If-None-Match": '"other"'}).status_code == 200
        assert client.get("/page", headers={"If-None-Match": f"W/{etag}"}).status_code == 304
        assert app.calls == 1


def test_cache_page_timeout_expires_the_page(app):
    import time

    app.get("/short")(cache_page(1)(call_counter(app)))

    with TestClient(app) as client:
        assert client.get("/short").json() == {"call": 1}
        assert client.get("/short").json() == {"call": 1}
        time.sleep(1.2)
        assert client.get("/short").json() == {"call": 2}


def test_cache_control_patches_directives_like_django(app):
    @app.get("/public")
    @cache_control(max_age=3600, public=True)
    async def public(request):
        return Response.text("x", headers={"Cache-Control": "private, max-age=60"})

    with TestClient(app) as client:
        assert client.get("/public").headers["cache-control"] == "max-age=60, public"


def test_a_view_exception_under_cache_page_is_a_500_and_nothing_is_cached(app):
    @app.get("/boom")
    @cache_page(60)
    async def boom(request):
        app.calls += 1
        raise RuntimeError("boom")

    with TestClient(app) as client:
        assert client.get("/boom").status_code == 500
        assert client.get("/boom").status_code == 500
        assert app.calls == 2


def test_a_response_that_cannot_be_cached_is_never_turned_into_a_304(app):
    @app.get("/login")
    @cache_page(60)
    async def login(request):
        response = Response.json({"ok": True}, headers={"ETag": '"fixed"'})
        response.set_cookie("session", "new")
        return response

    with TestClient(app) as client:
        response = client.get("/login", headers={"If-None-Match": '"fixed"'})
        assert response.status_code == 200 and "session=new" in response.headers["set-cookie"]


def test_head_is_served_from_the_cached_get(app):
    app.get("/doc")(cache_page(60)(call_counter(app)))

    with TestClient(app) as client:
        assert client.get("/doc").json() == {"call": 1}
        head = client.head("/doc")
        assert head.status_code == 200 and head.content == b"" and app.calls == 1
