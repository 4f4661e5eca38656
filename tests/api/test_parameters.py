"""Typed handlers read every parameter source and type family, over real sockets."""

import dataclasses
import enum
from typing import Annotated, Any, TypedDict

import msgspec
import pydantic
import pytest

from hyperdjango import HyperApp, Request, UploadFile
from hyperdjango.params import Body, Cookie, File, Form, Header, Path, Query
from hyperdjango.testing import TestClient


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class ItemStruct(msgspec.Struct):
    name: str
    price: Annotated[float, msgspec.Meta(gt=0)]


class Anything(msgspec.Struct):
    data: list[Any]


@dataclasses.dataclass
class ItemDataclass:
    name: str
    price: float


class ItemDict(TypedDict):
    name: str
    price: float


class ItemModel(pydantic.BaseModel):
    name: str
    price: float = pydantic.Field(gt=0)


@pytest.fixture(scope="module")
def client():
    app = HyperApp(database="sqlite://:memory:")

    @app.get("/plain/{id:int}")
    async def plain(request, id):
        return {"id": id, "request": isinstance(request, Request)}

    @app.get("/query")
    async def query(
        q: str | None = None,
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
        tags: list[str] = Query([]),
        ids: list[int] | None = None,
        color: Color = Color.RED,
        flag: bool = False,
        ratio: Annotated[float, msgspec.Meta(lt=1)] = 0.5,
        search: str = Query("", alias="search-term", max_length=5),
    ):
        return {"q": q, "limit": limit, "tags": tags, "ids": ids, "color": color.value, "flag": flag,
                "ratio": ratio, "search": search}

    @app.get("/required")
    async def required(n: int):
        return {"n": n}

    @app.get("/sync")
    def sync_view(n: int, request: Request):
        import threading

        return {"n": n, "thread": threading.current_thread().name}

    @app.get("/items/{slug}")
    async def item_path(slug: Annotated[str, Path(min_length=3)], request: Request):
        return {"slug": slug, "path": request.path}

    @app.get("/headers")
    async def headers(user_agent: Annotated[str | None, Header()] = None, x_token: list[str] = Header([]),
                      session: str | None = Cookie(None)):
        return {"ua": user_agent, "tokens": x_token, "session": session}

    @app.post("/struct")
    async def struct(item: ItemStruct):
        return {"type": type(item).__name__, "name": item.name, "price": item.price}

    @app.post("/dataclass")
    async def dataclass_body(item: ItemDataclass):
        return {"type": type(item).__name__, "name": item.name}

    @app.post("/typeddict")
    async def typeddict(item: ItemDict):
        return {"type": type(item).__name__, "name": item["name"]}

    @app.post("/pydantic")
    async def pydantic_body(item: ItemModel):
        return {"type": type(item).__name__, "name": item.name}

    @app.post("/embedded")
    async def embedded(item: ItemStruct, note: Annotated[str, Body()] = "none"):
        return {"name": item.name, "note": note}

    @app.post("/anything")
    async def anything(payload: Anything):
        return {"items": len(payload.data)}

    @app.post("/optional-body")
    async def optional_body(item: ItemStruct | None = None):
        return {"item": None if item is None else item.name}

    @app.post("/form")
    async def form(name: str = Form(), count: int = Form(1), upload: UploadFile = File(), raw: bytes | None = File(None)):
        return {"name": name, "count": count, "file": upload.filename, "content": (await upload.read()).decode(),
                "raw": raw.decode() if raw else None}

    with TestClient(app) as c:
        yield c


def test_a_plain_view_keeps_the_request_and_router_typed_path_parameters(client):
    assert client.get("/plain/7").json() == {"id": 7, "request": True}


def test_query_parameters_are_converted_with_defaults(client):
    assert client.get("/query").json() == {
        "q": None, "limit": 10, "tags": [], "ids": None, "color": "red", "flag": False, "ratio": 0.5, "search": "",
    }


def test_query_lists_enums_booleans_aliases_and_constrained_numbers(client):
    r = client.get("/query?q=tea&limit=50&tags=a&tags=b&ids=1&ids=2&color=blue&flag=true&ratio=0.25&search-term=abc")
    assert r.json() == {"q": "tea", "limit": 50, "tags": ["a", "b"], "ids": [1, 2], "color": "blue", "flag": True,
                        "ratio": 0.25, "search": "abc"}


def test_every_invalid_query_parameter_is_reported(client):
    r = client.get("/query?limit=0&color=green&ids=x&ratio=2&search-term=toolong")
    assert r.status_code == 422
    errors = {tuple(e["loc"]): e["type"] for e in r.json()["detail"]}
    assert errors == {
        ("query", "limit"): "greater_than_equal",
        ("query", "ids", 0): "int_type",
        ("query", "color"): "enum",
        ("query", "ratio"): "less_than",
        ("query", "search-term"): "string_too_long",
    }


def test_a_nul_in_a_declared_text_parameter_is_a_422_and_elsewhere_ignored(client):
    r = client.get("/query?q=te%00a&search-term=a%00b")
    assert r.status_code == 422
    errors = {tuple(e["loc"]): e["type"] for e in r.json()["detail"]}
    assert errors == {("query", "q"): "string_nul", ("query", "search-term"): "string_nul"}
    assert client.get("/query?q=tea&unused=a%00b").json()["q"] == "tea"


def test_a_missing_required_query_parameter(client):
    r = client.get("/required")
    assert r.status_code == 422
    assert r.json() == {"detail": [{"loc": ["query", "n"], "msg": "Field required", "type": "missing"}]}
    assert client.get("/required?n=abc").json()["detail"][0]["loc"] == ["query", "n"]


def test_a_plain_def_handler_is_typed_too_and_runs_in_the_thread_pool(client):
    r = client.get("/sync?n=4").json()
    assert r["n"] == 4 and r["thread"].startswith("hyperdjango-sync")
    assert client.get("/sync?n=four").status_code == 422


def test_a_constrained_path_parameter_and_the_request_by_annotation(client):
    assert client.get("/items/teapot").json() == {"slug": "teapot", "path": "/items/teapot"}
    r = client.get("/items/ab")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["path", "slug"]


def test_headers_with_converted_underscores_repeated_headers_and_cookies(client):
    r = client.get("/headers", headers=[("user-agent", "probe"), ("x-token", "a"), ("x-token", "b"),
                                        ("cookie", "session=s1")])
    assert r.json() == {"ua": "probe", "tokens": ["a", "b"], "session": "s1"}


@pytest.mark.parametrize("path, kind", [
    ("/struct", "ItemStruct"), ("/dataclass", "ItemDataclass"), ("/typeddict", "dict"), ("/pydantic", "ItemModel"),
])
def test_bodies_of_each_type_family(client, path, kind):
    r = client.post(path, json={"name": "mug", "price": 9.5})
    assert r.status_code == 200, r.text
    assert r.json()["type"] == kind
    assert r.json()["name"] == "mug"


@pytest.mark.parametrize("path", ["/struct", "/dataclass", "/typeddict", "/pydantic"])
def test_an_invalid_body_of_each_type_family_is_a_422_naming_the_field(client, path):
    r = client.post(path, json={"name": "mug", "price": "free"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "price"]
    missing = client.post(path, json={"price": 1})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "name"]
    assert missing.json()["detail"][0]["type"] == "missing"


def test_constraints_of_a_struct_and_of_a_pydantic_model(client):
    for path in ("/struct", "/pydantic"):
        r = client.post(path, json={"name": "mug", "price": -1})
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "price"]
        assert r.json()["detail"][0]["type"] == "greater_than"


def test_malformed_json_and_a_missing_body(client):
    r = client.post("/struct", content=b'{"name": ', headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"
    r = client.post("/struct")
    assert r.status_code == 422
    assert r.json()["detail"] == [{"loc": ["body"], "msg": "Field required", "type": "missing"}]
    assert client.post("/optional-body").json() == {"item": None}


@pytest.mark.parametrize("path", ["/struct", "/pydantic"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_a_json_shaped_body_sent_as_a_form_is_not_read_as_json(client, path, content_type):
    # What a cross-site <form enctype="text/plain"> can send without a preflight.
    r = client.post(path, content=b'{"name": "mug", "price": 2}', headers={"content-type": content_type})
    assert r.status_code == 422
    assert r.json()["detail"] == [{"loc": ["body"], "msg": "Expected a JSON body (Content-Type: application/json)", "type": "content_type"}]


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/merge-patch+json", "APPLICATION/JSON"])
def test_json_media_types_are_read(client, content_type):
    r = client.post("/struct", content=b'{"name": "mug", "price": 2}', headers={"content-type": content_type})
    assert r.status_code == 200, r.text


def test_several_body_parameters_are_embedded_by_name(client):
    r = client.post("/embedded", json={"item": {"name": "mug", "price": 2}, "note": "gift"})
    assert r.json() == {"name": "mug", "note": "gift"}
    r = client.post("/embedded", json={"item": {"name": "mug", "price": 0}})
    assert r.json()["detail"][0]["loc"] == ["body", "item", "price"]


def test_form_fields_and_files(client):
    r = client.post("/form", data={"name": "doc", "count": "3"},
                    files={"upload": ("a.txt", b"hello", "text/plain"), "raw": ("b.bin", b"xyz")})
    assert r.json() == {"name": "doc", "count": 3, "file": "a.txt", "content": "hello", "raw": "xyz"}


def test_a_missing_file_and_a_bad_form_field(client):
    r = client.post("/form", data={"name": "doc", "count": "many"})
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {("form", "count"), ("file", "upload")}


def test_a_text_field_where_a_file_is_expected(client):
    r = client.post("/form", data={"name": "doc", "upload": "not a file"}, files={"raw": ("b.bin", b"x")})
    assert r.status_code == 422
    assert r.json()["detail"][0] == {"loc": ["file", "upload"], "msg": "Expected an uploaded file", "type": "file_type"}


@pytest.mark.parametrize("path, key", [("/anything", b"data"), ("/pydantic", b"name")])
def test_a_body_nested_beyond_the_recursion_limit_is_a_422_not_a_500(client, path, key):
    depth = 200_000
    hostile = b'{"' + key + b'": ' + b"[" * depth + b"]" * depth + b"}"
    r = client.post(path, content=hostile, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"


def test_integers_are_decoded_leniently_as_pydantic_does(client):
    assert client.post("/struct", json={"name": "mug", "price": "2.5"}).json()["price"] == 2.5
    r = client.post("/form", data={"name": "doc", "count": "2"}, files={"upload": ("a.txt", b"")})
    assert r.json()["count"] == 2


def test_an_annotation_that_cannot_be_resolved_fails_at_registration():
    app = HyperApp(database="sqlite://:memory:")

    async def view(item: "NotDefinedAnywhere"):  # noqa: F821
        return {}

    with pytest.raises(TypeError, match="NotDefinedAnywhere.*cannot be resolved"):
        app.post("/x")(view)
