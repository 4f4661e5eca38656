"""Response shaping: response models, return annotations, include/exclude, aliases, ORM public shapes."""

import dataclasses

import msgspec
import pydantic

from hyperdjango import Field, HyperApp, Model, Response
from hyperdjango.schemas import model_schema
from hyperdjango.testing import TestClient


class Account(Model):
    class Meta:
        table = "api_shaping_account"
        serialize_exclude = ["password_hash"]

    email: str = Field(max_length=100)
    password_hash: str = ""
    active: bool = True


class UserOut(msgspec.Struct):
    id: int
    email: str


class Renamed(msgspec.Struct, rename="camel"):
    user_id: int
    display_name: str


class PydanticOut(pydantic.BaseModel):
    user_id: int = pydantic.Field(alias="userId")
    name: str


@dataclasses.dataclass
class Point:
    x: int
    y: int


@dataclasses.dataclass
class _Profile:
    user_id: int
    display_name: str


def make_app():
    app = HyperApp(database="sqlite://:memory:")
    secret = {"id": 1, "email": "a@example.com", "password_hash": "pbkdf2$x"}

    @app.get("/annotated")
    async def annotated(request) -> UserOut:
        return secret

    @app.get("/model", response_model=UserOut)
    async def model(request):
        return Account(id=1, email="a@example.com", password_hash="pbkdf2$x")

    @app.get("/orm-model", response_model=Account)
    async def orm_model(request):
        return Account(id=2, email="b@example.com", password_hash="pbkdf2$y")

    @app.get("/orm-list", response_model=list[Account], response_model_exclude={"active"})
    async def orm_list(request):
        return [Account(id=3, email="c@example.com", password_hash="h")]

    @app.get("/plain-instance")
    async def plain_instance(request):
        return Account(id=4, email="d@example.com", password_hash="h").to_dict()

    @app.get("/include", response_model=UserOut, response_model_include={"email"})
    async def include(request):
        return secret

    @app.get("/alias", response_model=Renamed)
    async def alias(request):
        return {"userId": 1, "displayName": "Ann"}  # a dict is read by encoded names, as pydantic reads aliases

    @app.get("/no-alias", response_model=Renamed, response_model_by_alias=False)
    async def no_alias(request):
        return _Profile(user_id=1, display_name="Ann")  # an object: by attribute names

    @app.get("/pydantic", response_model=PydanticOut)
    async def pydantic_out(request):
        return {"userId": 5, "name": "Bo", "password": "x"}

    @app.get("/pydantic-no-alias", response_model=PydanticOut, response_model_by_alias=False)
    async def pydantic_no_alias(request):
        return PydanticOut(userId=5, name="Bo")

    @app.post("/pydantic-list", response_model=list[PydanticOut])
    async def pydantic_list(items: list[PydanticOut]):
        return [{"userId": i.user_id * 10, "name": i.name, "extra": 1} for i in items]

    @app.post("/created", status_code=201)
    async def created(point: Point) -> Point:
        return point

    @app.delete("/things/{id:int}", status_code=204)
    async def delete_thing(id: int):
        return None

    @app.get("/tuple", response_model=UserOut)
    async def with_status(request):
        return secret, 202, {"x-extra": "1"}

    @app.get("/response", response_model=UserOut)
    async def response(request):
        return Response.text("as is")

    @app.get("/wrong", response_model=UserOut)
    async def wrong(request):
        return {"id": "not a number"}

    return app


def test_the_return_annotation_keeps_only_declared_fields():
    with TestClient(make_app()) as client:
        assert client.get("/annotated").json() == {"id": 1, "email": "a@example.com"}
        assert client.get("/model").json() == {"id": 1, "email": "a@example.com"}


def test_an_orm_model_as_response_model_uses_its_public_shape():
    with TestClient(make_app()) as client:
        assert client.get("/orm-model").json() == {"id": 2, "email": "b@example.com", "active": True}
        assert client.get("/orm-list").json() == [{"id": 3, "email": "c@example.com"}]
        assert client.get("/plain-instance").json() == {"id": 4, "email": "d@example.com", "active": True}


def test_serialize_exclude_keeps_the_hash_out_of_to_dict_and_schemas():
    account = Account(id=1, email="a@example.com", password_hash="secret")
    assert "password_hash" not in account.to_dict()
    assert "password_hash" not in model_schema(Account).__struct_fields__
    assert model_schema(Account, exclude={"id"}).__struct_fields__ == ("email", "active")


def test_include_and_aliases():
    with TestClient(make_app()) as client:
        assert client.get("/include").json() == {"email": "a@example.com"}
        assert client.get("/alias").json() == {"userId": 1, "displayName": "Ann"}
        assert client.get("/no-alias").json() == {"user_id": 1, "display_name": "Ann"}
        assert client.get("/pydantic").json() == {"userId": 5, "name": "Bo"}
        assert client.get("/pydantic-no-alias").json() == {"user_id": 5, "name": "Bo"}


def test_lists_of_pydantic_models_as_body_and_response_model():
    app = make_app()
    with TestClient(app) as client:
        r = client.post("/pydantic-list", json=[{"userId": 1, "name": "a"}, {"userId": 2, "name": "b"}])
        assert r.json() == [{"userId": 10, "name": "a"}, {"userId": 20, "name": "b"}]
        bad = client.post("/pydantic-list", json=[{"userId": 1, "name": "a"}, {"userId": "x", "name": "b"}])
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["body", 1, "userId"]
    operation = app.openapi()["paths"]["/pydantic-list"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/PydanticOut"}}


def test_status_codes_tuples_and_responses_returned_as_they_are():
    with TestClient(make_app()) as client:
        r = client.post("/created", json={"x": 1, "y": 2})
        assert (r.status_code, r.json()) == (201, {"x": 1, "y": 2})
        r = client.get("/tuple")
        assert (r.status_code, r.headers["x-extra"], r.json()) == (202, "1", {"id": 1, "email": "a@example.com"})
        assert client.get("/response").text == "as is"
        deleted = client.delete("/things/3")
        assert (deleted.status_code, deleted.content) == (204, b"")


def test_a_response_that_does_not_fit_its_model_is_a_server_error():
    with TestClient(make_app()) as client:
        assert client.get("/wrong").status_code == 500
