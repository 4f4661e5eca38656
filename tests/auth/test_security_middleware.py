"""CSRF, CORS, security headers and Host validation: each test sends the hostile request."""

from __future__ import annotations

import logging

import pytest

from hyperdjango import HyperApp, Response
from hyperdjango.middleware.cors import CORSMiddleware
from hyperdjango.middleware.csrf import CSRFMiddleware, csrf_exempt, get_token
from hyperdjango.middleware.security import SecurityMiddleware
from hyperdjango.sessions import SessionMiddleware
from hyperdjango.settings import ImproperlyConfigured
from hyperdjango.testing import TestClient

SECRET = "security tests secret"


def csrf_app(debug=True, **options):
    # Behind a TLS proxy that sets X-Forwarded-Proto (the HTTPS tests send it).
    app = HyperApp(secret_key=SECRET, debug=debug, database="sqlite://:memory:",
                   secure_proxy_ssl_header=("x-forwarded-proto", "https"))
    if options.get("use_sessions"):
        app.use(SessionMiddleware(engine="signed_cookies"))
    app.use(CSRFMiddleware(**options))

    @app.get("/form")
    async def form(request):
        return {"token": get_token(request)}

    @app.post("/submit")
    async def submit(request):
        return {"ok": True}

    @app.post("/hook")
    @csrf_exempt
    async def hook(request):
        return {"hooked": True}

    return app


def token_of(c):
    return c.get("/form").json()["token"]


def test_a_post_without_a_token_is_refused_with_a_named_reason(caplog):
    with TestClient(csrf_app()) as c:
        r = c.post("/submit", data={"a": "1"})
        assert r.status_code == 403 and "CSRF cookie not set." in r.json()["detail"]
        token_of(c)
        r = c.post("/submit", data={"a": "1"})
        assert r.status_code == 403 and "CSRF token missing." in r.json()["detail"]
    assert any("Forbidden (CSRF token missing.)" in m for m in caplog.messages)


def test_the_reason_is_hidden_without_debug():
    with TestClient(csrf_app(debug=False)) as c:
        r = c.post("/submit")
    assert r.status_code == 403 and r.json() == {"detail": "CSRF verification failed. Request aborted."}


def test_a_token_from_the_form_field_or_the_header_passes():
    with TestClient(csrf_app()) as c:
        token = token_of(c)
        assert c.post("/submit", data={"csrfmiddlewaretoken": token}).json() == {"ok": True}
        assert c.post("/submit", json={}, headers={"x-csrftoken": token}).json() == {"ok": True}
        assert c.post("/submit", json={}, headers={"x-csrftoken": c.cookies["csrftoken"]}).json() == {"ok": True}


def test_tokens_are_masked_differently_each_time_but_all_valid():
    with TestClient(csrf_app()) as c:
        tokens = {token_of(c) for _ in range(3)}
        assert len(tokens) == 3 and all(len(t) == 64 for t in tokens)
        for token in tokens:
            assert c.post("/submit", headers={"x-csrftoken": token}).status_code == 200


def test_a_wrong_or_malformed_token_is_refused():
    with TestClient(csrf_app()) as c:
        token = token_of(c)
        wrong = token[:-1] + ("a" if token[-1] != "a" else "b")
        r = c.post("/submit", headers={"x-csrftoken": wrong})
        assert r.status_code == 403 and "incorrect" in r.json()["detail"]
        r = c.post("/submit", headers={"x-csrftoken": "short"})
        assert r.status_code == 403 and "has incorrect length" in r.json()["detail"]
        r = c.post("/submit", headers={"x-csrftoken": "!" * 64})
        assert r.status_code == 403 and "has invalid characters" in r.json()["detail"]


def test_a_token_replayed_from_another_client_is_refused():
    with TestClient(csrf_app()) as victim, TestClient(csrf_app()) as attacker:
        stolen = token_of(attacker)
        token_of(victim)
        r = victim.post("/submit", headers={"x-csrftoken": stolen})
    assert r.status_code == 403 and "incorrect" in r.json()["detail"]


def test_a_cross_origin_post_is_refused_even_with_a_valid_token():
    with TestClient(csrf_app(trusted_origins=["https://*.trusted.test"])) as c:
        token = token_of(c)
        host = c.base_url.removeprefix("http://")
        r = c.post("/submit", headers={"x-csrftoken": token, "origin": "https://evil.test"})
        assert r.status_code == 403 and "Origin checking failed - https://evil.test" in r.json()["detail"]
        assert c.post("/submit", headers={"x-csrftoken": token, "origin": f"http://{host}"}).status_code == 200
        assert c.post("/submit", headers={"x-csrftoken": token, "origin": "https://app.trusted.test"}).status_code == 200


def test_over_https_the_referer_must_be_the_site():
    with TestClient(csrf_app()) as c:
        token = token_of(c)
        host = c.base_url.removeprefix("http://")
        https = {"x-forwarded-proto": "https", "x-csrftoken": token}
        assert "no Referer" in c.post("/submit", headers=https).json()["detail"]
        r = c.post("/submit", headers={**https, "referer": "https://evil.test/page"})
        assert r.status_code == 403 and "does not match any trusted origins" in r.json()["detail"]
        r = c.post("/submit", headers={**https, "referer": f"http://{host}/page"})
        assert "Referer is insecure" in r.json()["detail"]
        assert c.post("/submit", headers={**https, "referer": f"https://{host}/page"}).status_code == 200


def test_exempt_views_and_bearer_requests_are_not_checked():
    with TestClient(csrf_app()) as c:
        assert c.post("/hook").json() == {"hooked": True}
        assert c.post("/submit", headers={"authorization": "Bearer abc"}).json() == {"ok": True}


def test_the_secret_can_live_in_the_session():
    with TestClient(csrf_app(use_sessions=True)) as c:
        token = token_of(c)
        assert "csrftoken" not in c.cookies
        assert c.post("/submit", headers={"x-csrftoken": token}).status_code == 200
        c.cookies.clear()
        assert c.post("/submit", headers={"x-csrftoken": token}).status_code == 403


def test_the_csrf_cookie_is_samesite_lax_and_readable_by_javascript():
    with TestClient(csrf_app()) as c:
        cookie = c.get("/form").headers["set-cookie"].lower()
    assert cookie.startswith("csrftoken=") and "samesite=lax" in cookie and "httponly" not in cookie


# -- CORS --------------------------------------------------------------------------------


def cors_app(**options):
    app = HyperApp(database="sqlite://:memory:")
    app.use(CORSMiddleware(**options))
    calls = []

    @app.route("/items", methods=["GET", "POST", "OPTIONS"])
    async def items(request):
        calls.append(request.method)
        return {"items": []}

    @app.get("/boom")
    async def boom(request):
        raise RuntimeError("fails")

    app.calls = calls
    return app


def test_a_preflight_from_an_allowed_origin_is_answered_without_the_view():
    app = cors_app(allow_origins=["https://app.test"], allow_methods=["GET", "POST"], allow_headers=["x-api-key"], max_age=99)
    with TestClient(app) as c:
        r = c.options("/items", headers={"origin": "https://app.test", "access-control-request-method": "POST",
                                         "access-control-request-headers": "X-API-Key"})
    assert r.status_code == 200 and app.calls == []
    assert r.headers["access-control-allow-origin"] == "https://app.test"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "x-api-key" in r.headers["access-control-allow-headers"]
    assert r.headers["access-control-max-age"] == "99"


@pytest.mark.parametrize("hostile", [
    {"origin": "https://evil.test", "access-control-request-method": "GET"},
    {"origin": "https://app.test", "access-control-request-method": "DELETE"},
    {"origin": "https://app.test", "access-control-request-method": "GET", "access-control-request-headers": "x-secret"},
])
def test_a_disallowed_preflight_is_refused(hostile):
    app = cors_app(allow_origins=["https://app.test"])
    with TestClient(app) as c:
        r = c.options("/items", headers=hostile)
    assert r.status_code == 400 and r.text.startswith("Disallowed CORS")
    assert "access-control-allow-origin" not in r.headers and app.calls == []


def test_cors_headers_are_on_404_405_and_500_too():
    app = cors_app(allow_origins=["https://app.test"], allow_credentials=True)
    with TestClient(app) as c:
        for method, path, status in [("GET", "/nowhere", 404), ("DELETE", "/items", 405), ("GET", "/boom", 500), ("GET", "/items", 200)]:
            r = c.request(method, path, headers={"origin": "https://app.test"})
            assert r.status_code == status
            assert r.headers["access-control-allow-origin"] == "https://app.test", path
            assert r.headers["access-control-allow-credentials"] == "true"
        r = c.get("/items", headers={"origin": "https://evil.test"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_headers_are_on_trailing_slash_redirects_too():
    app = cors_app(allow_origins=["https://app.test"])
    with TestClient(app) as c:
        r = c.get("/items/?page=2", headers={"origin": "https://app.test"}, follow_redirects=False)
        assert r.status_code == 301 and r.headers["location"] == "/items?page=2"
        assert r.headers["access-control-allow-origin"] == "https://app.test"
        posted = c.post("/items/", headers={"origin": "https://app.test"}, follow_redirects=False)
        assert posted.status_code == 308 and posted.headers["access-control-allow-origin"] == "https://app.test"
    assert app.calls == []


def test_without_middleware_the_engine_still_answers_redirects():
    app = HyperApp(database="sqlite://:memory:")

    @app.get("/items")
    async def items(request):
        return []

    with TestClient(app) as c:
        r = c.get("/items/", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/items"


def test_origin_regex_and_wildcard():
    with TestClient(cors_app(allow_origin_regex=r"https://.*\.app\.test")) as c:
        assert c.get("/items", headers={"origin": "https://a.app.test"}).headers["access-control-allow-origin"] == "https://a.app.test"
        assert "access-control-allow-origin" not in c.get("/items", headers={"origin": "https://app.test.evil"}).headers
    with TestClient(cors_app(allow_origins=["*"])) as c:
        assert c.get("/items", headers={"origin": "https://any.test"}).headers["access-control-allow-origin"] == "*"


# -- security headers ------------------------------------------------------------------


def security_app(**options):
    app = HyperApp(database="sqlite://:memory:")
    app.use(SecurityMiddleware(**options))

    @app.get("/page")
    async def page(request):
        nonce = getattr(request, "csp_nonce", "")
        return Response.html(f'<script nonce="{nonce}">1</script>')

    return app


def test_default_security_headers():
    with TestClient(security_app()) as c:
        r = c.get("/page")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["cross-origin-opener-policy"] == "same-origin"
    assert "strict-transport-security" not in r.headers and "content-security-policy" not in r.headers


def test_hsts_only_over_https_behind_the_trusted_proxy_header():
    app = security_app(hsts_seconds=3600, hsts_include_subdomains=True, hsts_preload=True, proxy_ssl_header=("x-forwarded-proto", "https"))
    with TestClient(app) as c:
        assert "strict-transport-security" not in c.get("/page").headers
        r = c.get("/page", headers={"x-forwarded-proto": "https"})
    assert r.headers["strict-transport-security"] == "max-age=3600; includeSubDomains; preload"


def test_ssl_redirect_sends_plain_http_to_https_unless_the_proxy_says_https():
    app = security_app(ssl_redirect=True, proxy_ssl_header=("x-forwarded-proto", "https"), redirect_exempt=[r"^health$"])
    with TestClient(app) as c:
        r = c.get("/page?x=1", headers={"host": "shop.test"}, follow_redirects=False)
        assert r.status_code == 301 and r.headers["location"] == "https://shop.test/page?x=1"
        assert c.get("/page", headers={"x-forwarded-proto": "https"}).status_code == 200
        assert c.get("/health", follow_redirects=False).status_code == 404  # exempt: not redirected


def test_csp_carries_a_fresh_nonce_that_the_page_uses():
    app = security_app(csp="default-src 'self'; script-src 'self' 'nonce-{nonce}'")
    with TestClient(app) as c:
        first, second = c.get("/page"), c.get("/page")
    nonces = []
    for r in (first, second):
        policy = r.headers["content-security-policy"]
        nonce = policy.split("'nonce-")[1].split("'")[0]
        assert f'nonce="{nonce}"' in r.text
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


# -- hosts and settings ---------------------------------------------------------------


def hosts_app(**options):
    app = HyperApp(database="sqlite://:memory:", **options)

    @app.get("/")
    async def index(request):
        return {"ok": True}

    @app.get("/page")
    async def page(request):
        return {"page": True}

    return app


def test_a_bad_host_header_is_a_400_from_the_engine_before_any_python(raw_host_request):
    app = hosts_app(allowed_hosts=["shop.test", ".example.test"])
    seen = []

    async def spy(request, next_handler):
        seen.append(request.path)
        return await next_handler(request)

    app.use(spy)
    with TestClient(app) as c:
        assert c.get("/", headers={"host": "shop.test:8000"}).status_code == 200
        assert c.get("/", headers={"host": "api.example.test"}).status_code == 200
        for hostile in ["evil.test", "shop.test.evil.test", "shop.test@evil.test", "[::1", "shop.test:abc", "notexample.test"]:
            r = c.get("/", headers={"host": hostile})
            assert r.status_code == 400, hostile
            assert "invalid Host header" in r.text
        assert b" 400 " in raw_host_request(c.base_url, None).split(b"\r\n", 1)[0]
        # A slash redirect is answered by the engine too: the Host is checked first.
        assert c.get("/page/", headers={"host": "shop.test"}, follow_redirects=False).status_code == 301
        assert c.get("/page/", headers={"host": "evil.test"}, follow_redirects=False).status_code == 400
    assert seen == ["/", "/", "/page/"]  # the good redirect passed through the middleware; no bad Host did


@pytest.fixture
def raw_host_request():
    """A request without any Host header, over a plain socket."""
    import socket

    def send(base_url, _):
        host, port = base_url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return sock.recv(65536)

    return send


def test_debug_with_empty_allowed_hosts_answers_localhost_only():
    with TestClient(hosts_app(allowed_hosts=[], debug=True)) as c:
        assert c.get("/", headers={"host": "localhost:8000"}).status_code == 200
        assert c.get("/", headers={"host": "127.0.0.1"}).status_code == 200
        assert c.get("/", headers={"host": "evil.test"}).status_code == 400


def test_middleware_that_signs_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("HYPERDJANGO_SECRET_KEY", raising=False)
    app = hosts_app()
    app.use(SessionMiddleware())
    with pytest.raises(ImproperlyConfigured, match="no secret key"):
        with TestClient(app):
            pass


async def test_the_same_app_under_an_asgi_server_fails_its_lifespan_startup(monkeypatch):
    monkeypatch.delenv("HYPERDJANGO_SECRET_KEY", raising=False)
    app = hosts_app()
    app.use(SessionMiddleware())
    messages = iter([{"type": "lifespan.startup"}])
    sent = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert sent[0]["type"] == "lifespan.startup.failed" and "no secret key" in sent[0]["message"]


def test_debug_runs_without_a_key_with_a_warning(monkeypatch, caplog):
    monkeypatch.delenv("HYPERDJANGO_SECRET_KEY", raising=False)
    app = hosts_app(debug=True)
    app.use(SessionMiddleware())
    with caplog.at_level(logging.WARNING), TestClient(app) as c:
        assert c.get("/", headers={"host": "localhost"}).status_code == 200
    assert any("no secret_key set" in m for m in caplog.messages)


def test_the_database_rule_is_logged(monkeypatch, caplog):
    monkeypatch.setenv("HYPERDJANGO_DATABASE_URL", "postgres://u:hunter2@db.test/shop")
    with caplog.at_level(logging.INFO, logger="hyperdjango"):
        app = HyperApp()
    assert app.database.url == "postgres://u:hunter2@db.test/shop"
    assert any("postgres://u:***@db.test/shop from $HYPERDJANGO_DATABASE_URL" in m for m in caplog.messages)
    assert not any("hunter2" in m for m in caplog.messages)
    monkeypatch.delenv("HYPERDJANGO_DATABASE_URL")
    with caplog.at_level(logging.INFO, logger="hyperdjango"):
        assert HyperApp().database.url == "sqlite:///db.sqlite3"
    assert any("sqlite:///db.sqlite3 from the default" in m for m in caplog.messages)
