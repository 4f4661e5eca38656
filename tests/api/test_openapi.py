"""The OpenAPI 3.1 document: valid, complete for declared types, and stable for the example shop."""

import enum
import json
import os
from pathlib import Path as FilePath
from typing import Annotated

import msgspec
import pydantic
import pytest
from openapi_spec_validator import validate

from hyperdjango import HyperApp, Router
from hyperdjango.params import Body, Cookie, Depends, File, Form, Header, Query
from hyperdjango.security import APIKeyCookie, APIKeyHeader, HTTPBearer
from hyperdjango.testing import TestClient
from orm.test_example_shop import load_shop

EXPECTED = FilePath(__file__).with_name("expected") / "shop-openapi.json"


class Size(enum.Enum):
    SMALL = "s"
    LARGE = "l"


class Line(msgspec.Struct):
    sku: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}-[0-9]+$", examples=["TEA-1"])]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=99)]
    size: Size = Size.SMALL


class Order(msgspec.Struct):
    """An order of lines."""

    customer: Annotated[str, msgspec.Meta(min_length=1, description="Who orders")]
    lines: Annotated[list[Line], msgspec.Meta(min_length=1, max_length=20)]


class Receipt(pydantic.BaseModel):
    order_id: int = pydantic.Field(ge=1)
    total: float


def make_app():
    app = HyperApp(title="Orders", database="sqlite://:memory:")
    bearer = HTTPBearer()
    session = APIKeyCookie(name="sessionid", scheme_name="session")
    api_key = APIKeyHeader(name="X-API-Key", auto_error=False)

    async def current_user(token: str = Depends(bearer)):
        return token

    orders = Router(prefix="/orders", tags=["orders"])

    @orders.post("", status_code=201, response_model=Receipt, summary="Place an order",
                 responses={409: {"description": "Out of stock", "model": Receipt}})
    async def place(order: Annotated[Order, Body(examples=[{"customer": "Ann", "lines": [{"sku": "TEA-1", "quantity": 2}]}])],
                    user: str = Depends(current_user), dry_run: bool = False):
        """Places an order.

        The lines are checked against the stock first.
        """
        return {"order_id": 1, "total": 2.0}

    @orders.get("/{id:int}", deprecated=True)
    async def old(request, id, size: Size = Query(Size.SMALL, description="Which size"),
                  x_trace: str | None = Header(None), sessionid: str | None = Cookie(None),
                  key: str | None = Depends(api_key), _s=Depends(session)):
        return {}

    @orders.post("/upload")
    async def upload(title: str = Form(max_length=20), attachment: bytes = File()):
        return {}

    @orders.get("/hidden", include_in_schema=False)
    async def hidden(request):
        return {}

    app.include_router(orders)
    return app


@pytest.fixture(scope="module")
def document():
    doc = make_app().openapi(version="1.2.3")
    validate(doc)
    return doc


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Orders", "version": "1.2.3"}
    assert set(document["paths"]) == {"/orders", "/orders/{id}", "/orders/upload"}


def test_constraints_enums_and_descriptions_are_carried_into_the_schemas(document):
    schemas = document["components"]["schemas"]
    line = schemas["Line"]["properties"]
    assert line["sku"] == {"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$", "examples": ["TEA-1"]}
    assert line["quantity"] == {"type": "integer", "minimum": 1, "maximum": 99}
    assert line["size"] == {"$ref": "#/components/schemas/Size", "default": "s"}
    assert schemas["Size"]["enum"] == ["l", "s"] or schemas["Size"]["enum"] == ["s", "l"]
    order = schemas["Order"]
    assert order["description"] == "An order of lines."
    assert order["properties"]["lines"]["minItems"] == 1 and order["properties"]["lines"]["maxItems"] == 20
    assert schemas["Receipt"]["properties"]["order_id"]["minimum"] == 1  # a pydantic model's own schema


def test_an_operation_from_route_options_docstring_body_and_responses(document):
    place = document["paths"]["/orders"]["post"]
    assert place["summary"] == "Place an order"
    assert place["description"] == "The lines are checked against the stock first."
    assert place["tags"] == ["orders"]
    assert place["operationId"] == "place_post"
    body = place["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"] == "#/components/schemas/Order"
    assert body["schema"]["examples"][0]["customer"] == "Ann"
    assert set(place["responses"]) == {"201", "409", "422"}
    assert place["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Receipt"}
    assert place["responses"]["409"]["description"] == "Out of stock"
    assert place["security"] == [{"HTTPBearer": []}]
    assert place["parameters"] == [{"name": "dry_run", "in": "query", "required": False,
                                    "schema": {"type": "boolean", "default": False}}]


def test_parameters_of_every_source_and_the_security_schemes(document):
    old = document["paths"]["/orders/{id}"]["get"]
    assert old["deprecated"] is True
    params = {(p["in"], p["name"]): p for p in old["parameters"]}
    assert set(params) == {("path", "id"), ("query", "size"), ("header", "x-trace"), ("cookie", "sessionid")}
    assert params[("path", "id")]["schema"]["type"] == "integer"
    assert params[("query", "size")]["description"] == "Which size"
    assert {next(iter(s)) for s in old["security"]} == {"APIKeyHeader", "session"}
    assert document["components"]["securitySchemes"] == {
        "HTTPBearer": {"type": "http", "scheme": "bearer"},
        "APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
    }


def test_forms_and_files(document):
    upload = document["paths"]["/orders/upload"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["properties"]["attachment"] == {"type": "string", "format": "binary"}
    assert upload["properties"]["title"] == {"type": "string", "maxLength": 20}
    assert upload["required"] == ["title", "attachment"]


def test_mount_docs_serves_the_document():
    app = make_app()
    app.mount_docs()
    with TestClient(app) as client:
        served = client.get("/openapi.json")
        assert served.headers["content-type"].startswith("application/json")
        assert served.json() == json.loads(json.dumps(app.openapi()))
        assert "/openapi.json" not in served.json()["paths"]
        assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
        assert client.get("/docs/assets/..%2F__init__.py").status_code == 404
        assert client.get("/docs/assets/VERSIONS").status_code == 404


def test_docs_are_off_until_mounted():
    with TestClient(make_app()) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404


def test_the_example_shops_document_matches_the_stored_one():
    doc = load_shop("sqlite://:memory:").openapi()
    validate(doc)
    rendered = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    if os.environ.get("HYPERDJANGO_UPDATE_EXPECTED"):
        EXPECTED.write_text(rendered)
    assert rendered == EXPECTED.read_text(), "set HYPERDJANGO_UPDATE_EXPECTED=1 to accept a deliberate change"
