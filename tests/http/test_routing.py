"""Routing: method decorators, typed path parameters, routers under a prefix,
trailing-slash redirects, url_for and route conflicts."""

from __future__ import annotations

import uuid

import pytest

from hyperdjango import HyperApp, Router
from hyperdjango.testing import TestClient


def test_get_decorator_serves_get():
    app = HyperApp()

    @app.get("/hello")
    async def hello(request):
        return "hello"

    with TestClient(app) as c:
        r = c.get("/hello")
    assert r.status_code == 200
    assert r.text == "hello"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_method_decorators_serve_their_method(method):
    app = HyperApp()

    @getattr(app, method)("/thing")
    async def thing(request):
        return {"method": request.method}

    with TestClient(app) as c:
        r = c.request(method.upper(), "/thing")
    assert r.status_code == 200
    assert r.json() == {"method": method.upper()}


def test_route_with_several_methods_serves_each():
    app = HyperApp()

    @app.route("/multi", methods=["GET", "POST"])
    async def multi(request):
        return request.method

    with TestClient(app) as c:
        assert c.get("/multi").text == "GET"
        assert c.post("/multi").text == "POST"
        assert c.put("/multi").status_code == 405


def test_route_methods_are_case_insensitive():
    app = HyperApp()

    @app.route("/lower", methods=["post"])
    async def lower(request):
        return "ok"

    with TestClient(app) as c:
        assert c.post("/lower").status_code == 200


def test_same_path_with_different_methods_reaches_different_views():
    app = HyperApp()

    @app.get("/items")
    async def list_items(request):
        return "list"

    @app.post("/items")
    async def create_item(request):
        return "create", 201

    with TestClient(app) as c:
        assert c.get("/items").text == "list"
        created = c.post("/items")
    assert (created.status_code, created.text) == (201, "create")


def test_head_is_answered_by_a_get_route():
    app = HyperApp()

    @app.get("/page")
    async def page(request):
        return "some content"

    with TestClient(app) as c:
        r = c.head("/page")
    assert r.status_code == 200
    assert r.headers["content-length"] == "12"


def test_head_response_has_no_body_on_the_wire(raw):
    app = HyperApp()

    @app.get("/page")
    async def page(request):
        return "some content"

    with TestClient(app) as c:
        response = raw(c.base_url, b"HEAD /page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body == b""


def test_untyped_param_is_a_string():
    app = HyperApp()

    @app.get("/users/{name}")
    async def user(request):
        return {"name": request.params["name"], "type": type(request.params["name"]).__name__}

    with TestClient(app) as c:
        assert c.get("/users/alice").json() == {"name": "alice", "type": "str"}


def test_untyped_param_is_percent_decoded():
    app = HyperApp()

    @app.get("/users/{name}")
    async def user(request):
        return request.params["name"]

    with TestClient(app) as c:
        assert c.get("/users/caf%C3%A9%20au%20lait").text == "café au lait"


def test_int_param_is_converted_to_int():
    app = HyperApp()

    @app.get("/items/{id:int}")
    async def item(request):
        return {"id": request.params["id"], "type": type(request.params["id"]).__name__}

    with TestClient(app) as c:
        assert c.get("/items/42").json() == {"id": 42, "type": "int"}


def test_int_param_rejects_non_digits_with_404():
    app = HyperApp()

    @app.get("/items/{id:int}")
    async def item(request):
        return "matched"

    with TestClient(app) as c:
        assert c.get("/items/abc").status_code == 404
        assert c.get("/items/-1").status_code == 404
        assert c.get("/items/1.5").status_code == 404


def test_slug_param_accepts_letters_digits_dashes_and_underscores():
    app = HyperApp()

    @app.get("/posts/{slug:slug}")
    async def post(request):
        return request.params["slug"]

    with TestClient(app) as c:
        assert c.get("/posts/hello-world_2").text == "hello-world_2"


def test_slug_param_rejects_other_characters_with_404():
    app = HyperApp()

    @app.get("/posts/{slug:slug}")
    async def post(request):
        return "matched"

    with TestClient(app) as c:
        assert c.get("/posts/hello.world").status_code == 404
        assert c.get("/posts/hello%20world").status_code == 404


def test_uuid_param_is_converted_to_uuid():
    app = HyperApp()
    seen = []

    @app.get("/objects/{uid:uuid}")
    async def obj(request):
        seen.append(request.params["uid"])
        return "ok"

    value = uuid.uuid4()
    with TestClient(app) as c:
        assert c.get(f"/objects/{value}").status_code == 200
    assert seen == [value]
    assert isinstance(seen[0], uuid.UUID)


def test_uuid_param_accepts_upper_case():
    app = HyperApp()

    @app.get("/objects/{uid:uuid}")
    async def obj(request):
        return str(request.params["uid"])

    value = uuid.uuid4()
    with TestClient(app) as c:
        assert c.get(f"/objects/{str(value).upper()}").text == str(value)


def test_uuid_param_rejects_non_uuid_with_404():
    app = HyperApp()

    @app.get("/objects/{uid:uuid}")
    async def obj(request):
        return "matched"

    with TestClient(app) as c:
        assert c.get("/objects/not-a-uuid").status_code == 404


def test_path_param_keeps_slashes():
    app = HyperApp()

    @app.get("/files/{rest:path}")
    async def files(request):
        return request.params["rest"]

    with TestClient(app) as c:
        assert c.get("/files/a/b/c.txt").text == "a/b/c.txt"


def test_several_params_in_one_pattern():
    app = HyperApp()

    @app.get("/shops/{shop:slug}/items/{id:int}")
    async def item(request):
        return request.params

    with TestClient(app) as c:
        assert c.get("/shops/tea-house/items/7").json() == {"shop": "tea-house", "id": 7}


def test_literal_route_and_param_route_coexist():
    app = HyperApp()

    @app.get("/items/new")
    async def new_item(request):
        return "new"

    @app.get("/items/{id:int}")
    async def item(request):
        return f"item {request.params['id']}"

    with TestClient(app) as c:
        assert c.get("/items/new").text == "new"
        assert c.get("/items/3").text == "item 3"


def test_router_is_served_under_its_include_prefix():
    app = HyperApp()
    api = Router()

    @api.get("/items/{id:int}")
    async def item(request):
        return {"id": request.params["id"]}

    app.include_router(api, prefix="/api")
    with TestClient(app) as c:
        assert c.get("/api/items/5").json() == {"id": 5}
        assert c.get("/items/5").status_code == 404


def test_router_own_prefix_and_include_prefix_combine():
    app = HyperApp()
    api = Router(prefix="/v1")

    @api.get("/ping")
    async def ping(request):
        return "pong"

    app.include_router(api, prefix="/api/")
    with TestClient(app) as c:
        assert c.get("/api/v1/ping").text == "pong"


def test_router_included_in_router_nests_prefixes():
    app = HyperApp()
    outer = Router()
    inner = Router()

    @inner.get("/leaf")
    async def leaf(request):
        return "leaf"

    outer.include_router(inner, prefix="/inner")
    app.include_router(outer, prefix="/outer")
    with TestClient(app) as c:
        assert c.get("/outer/inner/leaf").text == "leaf"


def test_add_route_registers_a_view_without_decorator():
    app = HyperApp()

    async def plain(request):
        return "plain"

    app.add_route("/plain", plain, methods=["GET"])
    with TestClient(app) as c:
        assert c.get("/plain").text == "plain"


def test_missing_trailing_slash_redirects_permanently():
    app = HyperApp()

    @app.get("/docs/")
    async def docs(request):
        return "docs"

    with TestClient(app) as c:
        r = c.get("/docs")
    assert r.status_code == 301
    assert r.headers["location"] == "/docs/"


def test_extra_trailing_slash_redirects_and_keeps_the_query():
    app = HyperApp()

    @app.get("/docs")
    async def docs(request):
        return "docs"

    with TestClient(app) as c:
        r = c.get("/docs/?page=2")
    assert r.status_code == 301
    assert r.headers["location"] == "/docs?page=2"


def test_trailing_slash_redirect_for_post_keeps_the_method():
    app = HyperApp()

    @app.post("/submit")
    async def submit(request):
        return "ok"

    with TestClient(app) as c:
        r = c.post("/submit/", content=b"payload")
    assert r.status_code == 308
    assert r.headers["location"] == "/submit"


def test_trailing_slash_redirect_can_be_followed():
    app = HyperApp()

    @app.get("/docs/")
    async def docs(request):
        return "docs"

    with TestClient(app) as c:
        r = c.get("/docs", follow_redirects=True)
    assert r.status_code == 200
    assert r.text == "docs"


def test_redirect_slashes_false_answers_404():
    app = HyperApp(redirect_slashes=False)

    @app.get("/docs")
    async def docs(request):
        return "docs"

    with TestClient(app) as c:
        assert c.get("/docs/").status_code == 404


def test_url_for_uses_the_function_name_by_default():
    app = HyperApp()

    @app.get("/api/products/{id:int}")
    async def get_product(request):
        return {}

    assert app.url_for("get_product", id=3) == "/api/products/3"


def test_url_for_uses_an_explicit_name():
    app = HyperApp()

    @app.get("/about", name="about-page")
    async def about(request):
        return ""

    assert app.url_for("about-page") == "/about"


def test_url_for_includes_the_router_prefix():
    app = HyperApp()
    api = Router()

    @api.get("/items/{slug:slug}")
    async def item(request):
        return ""

    app.include_router(api, prefix="/api")
    assert app.url_for("item", slug="green-tea") == "/api/items/green-tea"


def test_url_for_percent_encodes_parameter_values():
    app = HyperApp()

    @app.get("/search/{term}")
    async def search(request):
        return ""

    assert app.url_for("search", term="café au lait?") == "/search/caf%C3%A9%20au%20lait%3F"


def test_url_for_accepts_a_path_parameter_called_name():
    app = HyperApp()

    @app.get("/users/{name}")
    async def user(request):
        return request.params["name"]

    assert app.url_for("user", name="alice") == "/users/alice"


def test_request_url_for_accepts_a_path_parameter_called_name():
    app = HyperApp()

    @app.get("/users/{name}")
    async def user(request):
        return request.url_for("user", name=request.params["name"].upper())

    with TestClient(app) as c:
        assert c.get("/users/bob").text == "/users/BOB"


def test_url_for_unknown_name_raises_key_error():
    app = HyperApp()

    @app.get("/x")
    async def x(request):
        return ""

    with pytest.raises(KeyError, match="nope"):
        app.url_for("nope")


def test_url_for_rejects_a_value_the_converter_refuses():
    app = HyperApp()

    @app.get("/items/{id:int}")
    async def item(request):
        return ""

    with pytest.raises(ValueError):
        app.url_for("item", id="abc")


def test_url_for_sees_routes_added_after_a_first_call():
    app = HyperApp()

    @app.get("/a")
    async def a(request):
        return ""

    assert app.url_for("a") == "/a"

    @app.get("/b")
    async def b(request):
        return ""

    assert app.url_for("b") == "/b"


def test_request_url_for_works_inside_a_view():
    app = HyperApp()

    @app.get("/items/{id:int}")
    async def item(request):
        return request.url_for("item", id=request.params["id"] + 1)

    with TestClient(app) as c:
        assert c.get("/items/1").text == "/items/2"


def test_conflicting_patterns_raise_value_error_naming_both_routes():
    app = HyperApp()

    @app.get("/items/{id:int}")
    async def by_id(request):
        return ""

    @app.get("/items/{slug:slug}")
    async def by_slug(request):
        return ""

    with pytest.raises(ValueError) as info:
        with TestClient(app):
            pass
    message = str(info.value)
    assert "/items/{id:int}" in message
    assert "/items/{slug:slug}" in message
    assert "by_id" in message and "by_slug" in message


def test_same_pattern_and_method_twice_raises_value_error():
    app = HyperApp()

    @app.get("/dup")
    async def first(request):
        return ""

    @app.get("/dup")
    async def second(request):
        return ""

    with pytest.raises(ValueError, match="GET") as info:
        with TestClient(app):
            pass
    assert "first" in str(info.value) and "second" in str(info.value)


def test_conflict_is_reported_before_startup_hooks_run():
    app = HyperApp()
    ran = []
    app.on_startup(lambda: ran.append("startup"))

    @app.get("/items/{a}")
    async def a(request):
        return ""

    @app.get("/items/{b}")
    async def b(request):
        return ""

    with pytest.raises(ValueError):
        with TestClient(app):
            pass
    assert ran == []


def test_duplicate_explicit_route_name_raises_value_error():
    app = HyperApp()

    @app.get("/one", name="same")
    async def one(request):
        return ""

    @app.get("/two", name="same")
    async def two(request):
        return ""

    with pytest.raises(ValueError, match="same"):
        with TestClient(app):
            pass


def test_invalid_converter_name_raises_value_error():
    app = HyperApp()

    @app.get("/items/{id:float}")
    async def item(request):
        return ""

    with pytest.raises(ValueError, match="float"):
        with TestClient(app):
            pass
