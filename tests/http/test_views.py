"""Views: what they may return, plain ``def`` views, and path parameters as
keyword arguments."""

from __future__ import annotations

import threading
import uuid

from hyperdjango import HyperApp, Response
from hyperdjango.testing import TestClient


def serve_one(view, pattern="/v", path=None, method="GET", **kwargs):
    """Serves ``view`` at ``pattern`` and returns the response to one request."""
    app = HyperApp()
    app.route(pattern, methods=[method])(view)
    with TestClient(app) as c:
        return c.request(method, path or pattern, **kwargs)


# -- return values -----------------------------------------------------------------


def test_response_is_sent_as_is():
    async def view(request):
        return Response("raw", status=202, headers={"x-custom": "1"}, media_type="text/csv")

    r = serve_one(view)
    assert r.status_code == 202
    assert r.text == "raw"
    assert r.headers["x-custom"] == "1"
    assert r.headers["content-type"].startswith("text/csv")


def test_dict_becomes_json():
    async def view(request):
        return {"a": 1, "b": [True, None]}

    r = serve_one(view)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"a": 1, "b": [True, None]}


def test_list_becomes_json():
    async def view(request):
        return [1, "two", {"three": 3}]

    r = serve_one(view)
    assert r.headers["content-type"] == "application/json"
    assert r.json() == [1, "two", {"three": 3}]


def test_str_becomes_text_plain():
    async def view(request):
        return "héllo"

    r = serve_one(view)
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.text == "héllo"


def test_bytes_become_octet_stream():
    async def view(request):
        return b"\x00\x01\x02"

    r = serve_one(view)
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.content == b"\x00\x01\x02"


def test_body_status_tuple_sets_the_status():
    async def view(request):
        return {"created": True}, 201

    r = serve_one(view, method="POST")
    assert r.status_code == 201
    assert r.json() == {"created": True}


def test_body_status_headers_tuple_sets_the_headers():
    async def view(request):
        return "teapot", 418, {"X-Brew": "green"}

    r = serve_one(view)
    assert r.status_code == 418
    assert r.text == "teapot"
    assert r.headers["x-brew"] == "green"


def test_tuple_with_a_response_overrides_its_status():
    async def view(request):
        return Response.text("accepted"), 202

    r = serve_one(view)
    assert (r.status_code, r.text) == (202, "accepted")


def test_unsupported_return_value_is_a_500():
    async def view(request):
        return 12345

    r = serve_one(view)
    assert r.status_code == 500


def test_none_return_value_is_a_500():
    async def view(request):
        return None

    r = serve_one(view)
    assert r.status_code == 500


# -- sync views --------------------------------------------------------------------


def test_sync_view_is_served():
    def view(request):
        return {"sync": True}

    assert serve_one(view).json() == {"sync": True}


def test_sync_view_runs_off_the_event_loop_thread():
    app = HyperApp()
    threads = {}

    @app.get("/async")
    async def async_view(request):
        threads["loop"] = threading.get_ident()
        return ""

    @app.get("/sync")
    def sync_view(request):
        threads["sync"] = threading.get_ident()
        return ""

    with TestClient(app) as c:
        c.get("/async")
        c.get("/sync")
    assert threads["sync"] != threads["loop"]


def test_sync_view_runs_in_the_apps_thread_pool():
    app = HyperApp()
    names = []

    @app.get("/sync")
    def sync_view(request):
        names.append(threading.current_thread().name)
        return ""

    with TestClient(app) as c:
        c.get("/sync")
    assert names[0].startswith("hyperdjango-sync")


def test_sync_view_can_return_a_tuple():
    def view(request):
        return "made", 201, {"x-made": "yes"}

    r = serve_one(view, method="POST")
    assert (r.status_code, r.text, r.headers["x-made"]) == (201, "made", "yes")


def test_sync_view_receives_the_request():
    def view(request):
        return request.method + " " + request.path

    assert serve_one(view, pattern="/p/{x}", path="/p/1").text == "GET /p/1"


# -- path parameters as keyword arguments ------------------------------------------


def test_path_param_is_passed_as_keyword_argument():
    async def view(request, id):
        return {"id": id, "type": type(id).__name__}

    assert serve_one(view, "/items/{id:int}", "/items/9").json() == {"id": 9, "type": "int"}


def test_several_path_params_as_keyword_arguments():
    async def view(request, shop, id):
        return {"shop": shop, "id": id}

    r = serve_one(view, "/shops/{shop:slug}/items/{id:int}", "/shops/tea/items/4")
    assert r.json() == {"shop": "tea", "id": 4}


def test_view_without_request_argument_gets_only_params():
    async def view(id):
        return {"id": id}

    assert serve_one(view, "/items/{id:int}", "/items/5").json() == {"id": 5}


def test_view_with_var_keyword_gets_every_param():
    async def view(request, **params):
        return params

    r = serve_one(view, "/a/{x}/b/{y:int}", "/a/one/b/2")
    assert r.json() == {"x": "one", "y": 2}


def test_uuid_param_as_keyword_argument_is_a_uuid():
    seen = []

    async def view(request, uid):
        seen.append(uid)
        return ""

    value = uuid.uuid4()
    serve_one(view, "/o/{uid:uuid}", f"/o/{value}")
    assert seen == [value]


def test_params_not_declared_as_arguments_stay_in_request_params():
    async def view(request, id):
        return {"id": id, "slug": request.params["slug"]}

    r = serve_one(view, "/p/{slug:slug}/{id:int}", "/p/tea/3")
    assert r.json() == {"id": 3, "slug": "tea"}


def test_sync_view_gets_path_params_as_keyword_arguments():
    def view(request, id):
        return {"id": id}

    assert serve_one(view, "/items/{id:int}", "/items/8").json() == {"id": 8}


def test_callable_object_with_async_call_is_an_async_view():
    class View:
        async def __call__(self, request):
            return {"thread": threading.current_thread().name}

    r = serve_one(View())
    assert r.status_code == 200
    assert not r.json()["thread"].startswith("hyperdjango-sync")
