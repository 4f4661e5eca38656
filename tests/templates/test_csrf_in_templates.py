"""A template's form carries the CSRF token that CSRFMiddleware checks: the posted
form passes, the same form without the token is refused."""

import re

from hyperdjango import HyperApp, Response
from hyperdjango.middleware.csrf import CSRFMiddleware
from hyperdjango.templates import Templates, render
from hyperdjango.testing import TestClient

FORM = '<form method="post">{{ csrf_input }}<input name="name"></form><p>{{ csrf_token }}</p>'


def make_app(tmp_path, **csrf_options):
    (tmp_path / "form.html").write_text(FORM)
    (tmp_path / "plain.html").write_text("<p>No form here, {{ request.path }}</p>")
    app = HyperApp(database="sqlite://:memory:", secret_key="a test key")
    app.templates = Templates(tmp_path)
    app.use(CSRFMiddleware(**csrf_options))

    @app.get("/form")
    async def form_page(request):
        return await render(request, "form.html", {})

    @app.get("/plain")
    async def plain_page(request):
        return await render(request, "plain.html", {})

    @app.post("/form")
    async def form_post(request):
        return Response.text(f"saved {(await request.form())['name']}")

    return app


def hidden_input(html):
    return re.search(r'<input type="hidden" name="([^"]+)" value="([^"]+)">', html).groups()


def test_the_rendered_form_posts_back_with_its_token(tmp_path):
    with TestClient(make_app(tmp_path)) as client:
        page = client.get("/form")
        field, token = hidden_input(page.text)
        assert field == "csrfmiddlewaretoken"
        assert f"<p>{token}</p>" in page.text
        assert "csrftoken" in page.cookies  # asking for the token sent the secret
        assert client.post("/form", data={field: token, "name": "tea"}).text == "saved tea"


def test_the_same_form_without_its_token_is_refused(tmp_path):
    with TestClient(make_app(tmp_path)) as client:
        client.get("/form")
        assert client.post("/form", data={"name": "tea"}).status_code == 403


def test_the_hidden_input_names_the_field_the_middleware_reads(tmp_path):
    with TestClient(make_app(tmp_path, field_name="token")) as client:
        field, token = hidden_input(client.get("/form").text)
        assert field == "token"
        assert client.post("/form", data={field: token, "name": "tea"}).text == "saved tea"


def test_a_page_without_a_token_sends_no_csrf_cookie(tmp_path):
    with TestClient(make_app(tmp_path)) as client:
        page = client.get("/plain")
        assert page.text == "<p>No form here, /plain</p>"
        assert "set-cookie" not in page.headers
        assert "csrftoken" not in client.cookies
        assert client.post("/form", data={"name": "tea"}).status_code == 403  # CSRF is still on


def test_a_page_with_csrf_input_sends_the_cookie_and_its_form_posts(tmp_path):
    with TestClient(make_app(tmp_path)) as client:
        client.get("/plain")
        page = client.get("/form")
        assert "csrftoken" in page.cookies
        field, token = hidden_input(page.text)
        assert client.post("/form", data={field: token, "name": "tea"}).text == "saved tea"


def test_a_page_showing_only_csrf_token_sends_the_cookie(tmp_path):
    (tmp_path / "js.html").write_text('<meta name="csrf" content="{{ csrf_token }}">')
    app = make_app(tmp_path)

    @app.get("/js")
    async def js_page(request):
        return await render(request, "js.html", {})

    with TestClient(app) as client:
        page = client.get("/js")
        assert "csrftoken" in page.cookies
        token = re.search(r'content="([^"]+)"', page.text).group(1)
        assert client.post("/form", data={"name": "tea"}, headers={"x-csrftoken": token}).text == "saved tea"


def test_a_page_without_a_token_makes_none(tmp_path, monkeypatch):
    from hyperdjango.middleware import csrf

    made = []
    mask = csrf.mask_secret
    monkeypatch.setattr(csrf, "mask_secret", lambda secret: made.append(secret) or mask(secret))
    with TestClient(make_app(tmp_path)) as client:
        client.get("/plain")
        assert made == []  # a token is made only for a page that reads one
        client.get("/form")
        assert len(made) == 1  # one token, shown by csrf_input and csrf_token


def test_a_streamed_page_with_csrf_input_sends_the_cookie(tmp_path):
    app = make_app(tmp_path)

    @app.get("/streamed")
    async def streamed(request):
        return app.templates.stream(request, "form.html", {})

    with TestClient(app) as client:
        page = client.get("/streamed")
        assert "csrftoken" in page.cookies
        field, token = hidden_input(page.text)
        assert client.post("/form", data={field: token, "name": "tea"}).text == "saved tea"
