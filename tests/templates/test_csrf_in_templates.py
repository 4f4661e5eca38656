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
    app = HyperApp(database="sqlite://:memory:", secret_key="a test key")
    app.templates = Templates(tmp_path)
    app.use(CSRFMiddleware(**csrf_options))

    @app.get("/form")
    async def form_page(request):
        return await render(request, "form.html", {})

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
