"""A NUL character (U+0000) from a client is a clear 400, on both backends.

PostgreSQL cannot store it in text and SQLite can: without these checks the same
request was a 500 on one backend and a success on the other."""

from __future__ import annotations

import pytest

from hyperdjango import Field, HyperApp, Model
from hyperdjango.testing import TestClient

from support.orm import setup_tables


class Profile(Model):
    class Meta:
        table = "nul_profiles"

    name: str = Field(max_length=100)


@pytest.fixture(scope="module")
def client(db_url):
    setup_tables(db_url, (Profile,))
    app = HyperApp(title="nul", database=db_url)

    @app.get("/api/profiles/{name}")
    async def profile(request):
        found = await Profile.objects.filter(name=request.params["name"]).first()
        return {"name": found and found.name}

    @app.get("/api/profiles")
    async def search(request):
        return {"count": await Profile.objects.filter(name=request.query.get("name", "")).count()}

    @app.post("/api/profiles")
    async def create(request):
        profile = await Profile.objects.create(name=(await request.json())["name"])
        return {"id": profile.id}

    with TestClient(app) as client:
        yield client


def test_a_nul_in_a_path_parameter_is_a_400(client):
    response = client.get("/api/profiles/a%00b")
    assert response.status_code == 400
    assert "NUL" in response.text


def test_a_nul_in_a_query_value_is_a_400(client):
    response = client.get("/api/profiles?name=a%00b")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_a_nul_in_a_json_value_saved_by_the_orm_is_a_400_naming_the_field(client):
    response = client.post("/api/profiles", json={"name": "a\x00b"})
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]["name"][0]


def test_the_same_requests_without_nul_succeed(client):
    assert client.post("/api/profiles", json={"name": "ab"}).status_code == 200
    assert client.get("/api/profiles/ab").json() == {"name": "ab"}
    assert client.get("/api/profiles?name=ab").json() == {"count": 1}
