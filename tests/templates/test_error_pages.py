"""Error pages: templates/<status>.html for browsers, JSON for API clients, and the
debug 500 page with traceback, locals, request and template source."""

from __future__ import annotations

import pytest

from hyperdjango import HTTPException, HyperApp
from hyperdjango.templates import Templates, render
from hyperdjango.testing import TestClient

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def make_app(tmp_path, debug=False, pages=True):
    if pages:
        for status in (400, 403, 404, 405, 500):
            (tmp_path / f"{status}.html").write_text(f"<h1>{status}</h1><p>{{{{ detail }}}}</p>")
    (tmp_path / "broken.html").write_text("<p>\n{{ product.name }\n</p>")
    app = HyperApp(debug=debug)
    app.templates = Templates(tmp_path)

    @app.get("/boom")
    async def boom(request):
        secret_local = "visible-in-debug"  # noqa: F841 (shown on the debug page)
        raise RuntimeError("it broke <badly>")

    @app.get("/forbidden")
    async def forbidden(request):
        raise HTTPException(403, "no entry")

    @app.get("/bad")
    async def bad(request):
        raise HTTPException(400, "bad input")

    @app.get("/template")
    async def template(request):
        return await render(request, "broken.html", {"product": {"name": "x"}})

    return app


@pytest.mark.parametrize(("path", "method", "status"), [("/missing", "GET", 404), ("/boom", "POST", 405), ("/forbidden", "GET", 403), ("/bad", "GET", 400), ("/boom", "GET", 500)])
def test_browsers_get_the_apps_error_templates(tmp_path, path, method, status):
    with TestClient(make_app(tmp_path)) as c:
        r = c.request(method, path, headers=HTML)
    assert r.status_code == status
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text.startswith(f"<h1>{status}</h1>")
    assert "it broke" not in r.text


def test_405_from_a_template_keeps_the_allow_header(tmp_path):
    with TestClient(make_app(tmp_path)) as c:
        r = c.post("/boom", headers=HTML)
    assert r.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("accept", ["application/json", "*/*", "application/json, text/html"])
def test_api_clients_keep_getting_json(tmp_path, accept):
    with TestClient(make_app(tmp_path)) as c:
        assert c.get("/missing", headers={"accept": accept}).json() == {"detail": "Not Found"}
        assert c.get("/boom", headers={"accept": accept}).json() == {"detail": "Internal Server Error"}


def test_without_templates_browsers_get_json(tmp_path):
    with TestClient(make_app(tmp_path, pages=False)) as c:
        assert c.get("/missing", headers=HTML).json() == {"detail": "Not Found"}


def test_the_debug_page_shows_traceback_locals_and_request(tmp_path):
    with TestClient(make_app(tmp_path, debug=True)) as c:
        r = c.get("/boom?x=1", headers={**HTML, "cookie": "sessionid=topsecret", "x-trace": "abc"})
    assert r.status_code == 500 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert "RuntimeError: it broke &lt;badly&gt;" in r.text
    assert "secret_local" in r.text and "visible-in-debug" in r.text
    assert "GET /boom?x=1" in r.text and "x-trace" in r.text
    assert "topsecret" not in r.text


def test_the_debug_page_shows_the_template_source_around_the_error(tmp_path):
    with TestClient(make_app(tmp_path, debug=True)) as c:
        r = c.get("/template", headers=HTML)
    assert r.status_code == 500
    assert "Template error in broken.html, line 2" in r.text
    assert '<tr class="current"><td>2</td><td><pre>{{ product.name }</pre></td></tr>' in r.text


def test_debug_for_api_clients_stays_a_text_traceback(tmp_path):
    with TestClient(make_app(tmp_path, debug=True)) as c:
        r = c.get("/boom")
    assert r.headers["content-type"].startswith("text/plain")
    assert "Traceback (most recent call last)" in r.text
