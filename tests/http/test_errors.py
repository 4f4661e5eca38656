"""Errors: invalid JSON, 404, 405 with Allow, 413, unhandled exceptions (and
the server going on), debug tracebacks, HTTPException and custom handlers."""

from __future__ import annotations

import logging

from hyperdjango import HTTPException, HyperApp, Response
from hyperdjango.testing import TestClient


def json_app():
    app = HyperApp()

    @app.post("/items")
    async def create(request):
        data = await request.json()
        return {"got": data}

    return app


# -- bad requests ------------------------------------------------------------------


def test_invalid_json_is_a_400():
    with TestClient(json_app()) as c:
        r = c.post("/items", content=b'{"name": ', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/json"


def test_invalid_json_detail_carries_the_parse_error():
    with TestClient(json_app()) as c:
        r = c.post("/items", content=b'{"name": tea}', headers={"content-type": "application/json"})
    detail = r.json()["detail"]
    assert detail.startswith("Invalid JSON: ")
    assert "line 1 column" in detail


def test_empty_body_is_invalid_json():
    with TestClient(json_app()) as c:
        r = c.post("/items")
    assert r.status_code == 400
    assert r.json()["detail"].startswith("Invalid JSON")


def test_body_over_max_body_size_is_a_413():
    app = HyperApp(max_body_size=1024)

    @app.post("/upload")
    async def upload(request):
        return {"size": len(await request.body())}

    with TestClient(app) as c:
        assert c.post("/upload", content=b"x" * 1024).json() == {"size": 1024}
        r = c.post("/upload", content=b"x" * 1025)
    assert r.status_code == 413


# -- routing errors ----------------------------------------------------------------


def test_unknown_path_is_a_404_with_json_detail():
    app = HyperApp()

    @app.get("/known")
    async def known(request):
        return ""

    with TestClient(app) as c:
        r = c.get("/unknown")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}


def test_app_without_routes_answers_404():
    with TestClient(HyperApp()) as c:
        assert c.get("/").status_code == 404


def test_wrong_method_is_a_405_with_allow():
    app = HyperApp()

    @app.get("/items")
    async def list_items(request):
        return []

    @app.post("/items")
    async def create_item(request):
        return {}

    with TestClient(app) as c:
        r = c.delete("/items")
    assert r.status_code == 405
    assert sorted(m.strip() for m in r.headers["allow"].split(",")) == ["GET", "HEAD", "POST"]
    assert r.json() == {"detail": "Method Not Allowed"}


def test_405_allow_without_get_does_not_list_head():
    app = HyperApp()

    @app.post("/only-post")
    async def only_post(request):
        return {}

    with TestClient(app) as c:
        r = c.get("/only-post")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"


# -- HTTPException -----------------------------------------------------------------


def test_http_exception_answers_its_status_with_json_detail():
    app = HyperApp()

    @app.get("/products/{id:int}")
    async def product(request):
        raise HTTPException(404, "no such product")

    with TestClient(app) as c:
        r = c.get("/products/1")
    assert r.status_code == 404
    assert r.json() == {"detail": "no such product"}


def test_http_exception_without_detail_uses_the_status_phrase():
    app = HyperApp()

    @app.get("/")
    async def view(request):
        raise HTTPException(403)

    with TestClient(app) as c:
        assert c.get("/").json() == {"detail": "Forbidden"}


def test_http_exception_detail_may_be_any_json_value():
    app = HyperApp()

    @app.post("/")
    async def view(request):
        raise HTTPException(422, {"errors": [{"field": "name", "msg": "required"}]})

    with TestClient(app) as c:
        r = c.post("/")
    assert r.status_code == 422
    assert r.json() == {"detail": {"errors": [{"field": "name", "msg": "required"}]}}


def test_http_exception_headers_are_sent():
    app = HyperApp()

    @app.get("/private")
    async def private(request):
        raise HTTPException(401, "login first", headers={"WWW-Authenticate": 'Bearer realm="api"'})

    with TestClient(app) as c:
        r = c.get("/private")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="api"'


def test_http_exception_from_a_sync_view():
    app = HyperApp()

    @app.get("/")
    def view(request):
        raise HTTPException(410, "gone")

    with TestClient(app) as c:
        r = c.get("/")
    assert (r.status_code, r.json()) == (410, {"detail": "gone"})


# -- unhandled exceptions ----------------------------------------------------------


def boom_app(debug=False):
    app = HyperApp(debug=debug)

    @app.get("/boom")
    async def boom(request):
        raise RuntimeError("secret database password")

    @app.get("/ok")
    async def ok(request):
        return "still here"

    return app


def test_unhandled_exception_is_a_500_with_generic_json():
    with TestClient(boom_app()) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal Server Error"}


def test_unhandled_exception_hides_the_traceback_without_debug():
    with TestClient(boom_app()) as c:
        r = c.get("/boom")
    assert "secret database password" not in r.text
    assert "Traceback" not in r.text


def test_server_answers_the_next_request_after_a_500():
    with TestClient(boom_app()) as c:
        assert c.get("/boom").status_code == 500
        r = c.get("/ok")
    assert (r.status_code, r.text) == (200, "still here")


def test_server_answers_on_a_new_connection_after_a_500(raw):
    with TestClient(boom_app()) as c:
        first = raw(c.base_url, b"GET /boom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        second = raw(c.base_url, b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 500")
    assert second.startswith(b"HTTP/1.1 200")
    assert second.endswith(b"still here")


def test_exception_in_a_sync_view_is_a_500_and_the_server_goes_on():
    app = HyperApp()

    @app.get("/boom")
    def boom(request):
        raise ValueError("sync failure")

    @app.get("/ok")
    def ok(request):
        return "ok"

    with TestClient(app) as c:
        assert c.get("/boom").status_code == 500
        assert c.get("/ok").text == "ok"


def test_debug_500_body_has_the_traceback():
    with TestClient(boom_app(debug=True)) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert "Traceback (most recent call last)" in r.text
    assert "RuntimeError: secret database password" in r.text
    assert "in boom" in r.text


def test_unhandled_exception_is_logged_with_its_traceback(caplog):
    with caplog.at_level(logging.ERROR, logger="hyperdjango"):
        with TestClient(boom_app()) as c:
            c.get("/boom")
    records = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], RuntimeError)]
    assert records
    assert "/boom" in records[0].getMessage()


# -- custom exception handlers -----------------------------------------------------


class OutOfStock(Exception):
    def __init__(self, product):
        super().__init__(product)
        self.product = product


class Discontinued(OutOfStock):
    pass


def test_custom_exception_handler_answers_for_its_exception():
    app = HyperApp()

    @app.exception_handler(OutOfStock)
    async def out_of_stock(request, exc):
        return Response.json({"out_of_stock": exc.product, "path": request.path}, status=409)

    @app.get("/buy/{name}")
    async def buy(request):
        raise OutOfStock(request.params["name"])

    with TestClient(app) as c:
        r = c.get("/buy/tea")
    assert r.status_code == 409
    assert r.json() == {"out_of_stock": "tea", "path": "/buy/tea"}


def test_custom_exception_handler_answers_for_subclasses():
    app = HyperApp()

    @app.exception_handler(OutOfStock)
    async def out_of_stock(request, exc):
        return {"kind": type(exc).__name__}, 409

    @app.get("/")
    async def view(request):
        raise Discontinued("tea")

    with TestClient(app) as c:
        r = c.get("/")
    assert (r.status_code, r.json()) == (409, {"kind": "Discontinued"})


def test_most_specific_exception_handler_wins():
    app = HyperApp()

    @app.exception_handler(OutOfStock)
    async def general(request, exc):
        return "general", 409

    @app.exception_handler(Discontinued)
    async def specific(request, exc):
        return "specific", 410

    @app.get("/")
    async def view(request):
        raise Discontinued("tea")

    with TestClient(app) as c:
        r = c.get("/")
    assert (r.status_code, r.text) == (410, "specific")


def test_sync_exception_handler_is_used():
    app = HyperApp()

    @app.exception_handler(KeyError)
    def missing(request, exc):
        return Response.json({"missing": exc.args[0]}, status=404)

    @app.get("/")
    async def view(request):
        return {}["nope"]

    with TestClient(app) as c:
        r = c.get("/")
    assert (r.status_code, r.json()) == (404, {"missing": "nope"})


def test_exception_handler_can_replace_the_http_exception_format():
    app = HyperApp()

    @app.exception_handler(HTTPException)
    async def problem(request, exc):
        return Response.json({"title": exc.detail, "status": exc.status_code}, status=exc.status_code)

    @app.get("/")
    async def view(request):
        raise HTTPException(418, "teapot")

    with TestClient(app) as c:
        r = c.get("/")
        missing = c.get("/missing")
    assert (r.status_code, r.json()) == (418, {"title": "teapot", "status": 418})
    assert missing.json() == {"title": "Not Found", "status": 404}


def test_exception_handler_for_exception_catches_everything():
    app = HyperApp()

    @app.exception_handler(Exception)
    async def everything(request, exc):
        return {"error": type(exc).__name__}, 500

    @app.get("/")
    async def view(request):
        raise ZeroDivisionError

    with TestClient(app) as c:
        r = c.get("/")
    assert r.json() == {"error": "ZeroDivisionError"}


def test_exception_in_an_exception_handler_is_a_500_and_the_server_goes_on():
    app = HyperApp()

    @app.exception_handler(OutOfStock)
    async def broken(request, exc):
        raise RuntimeError("handler failed")

    @app.get("/buy")
    async def buy(request):
        raise OutOfStock("tea")

    @app.get("/ok")
    async def ok(request):
        return "ok"

    with TestClient(app) as c:
        assert c.get("/buy").status_code == 500
        assert c.get("/ok").text == "ok"
