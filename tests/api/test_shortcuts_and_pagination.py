"""get_object_or_404, get_list_or_404, slugify and the three pagination styles, on both backends."""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from hyperdjango import Field, HyperApp, Model
from hyperdjango.pagination import paginate_keyset, paginate_limit_offset, paginate_page_number
from hyperdjango.shortcuts import get_list_or_404, get_object_or_404
from hyperdjango.testing import TestClient
from hyperdjango.text import slugify
from support.orm import setup_tables


class Tea(Model):
    class Meta:
        table = "api_page_tea"

    name: str = Field(max_length=50)
    price: Decimal = Field(max_digits=6, decimal_places=2)
    kind: str = "black"


PRICES = [Decimal("3.00"), Decimal("1.00"), Decimal("2.00"), Decimal("1.00"), Decimal("5.00"), Decimal("4.00"), Decimal("1.00")]


async def seed(db):
    for i, price in enumerate(PRICES, 1):
        await Tea(name=f"tea {i}", price=price, kind="green" if i % 2 else "black").save(using=db)


@pytest.fixture(scope="module")
def client(db_url):
    setup_tables(db_url, (Tea,), seed)
    app = HyperApp(database=db_url)

    @app.get("/teas/{id:int}")
    async def one(request, id):
        tea = await get_object_or_404(Tea, id=id)
        return {"name": tea.name}

    @app.get("/kinds/{kind}")
    async def of_kind(request, kind):
        return [t.name for t in await get_list_or_404(Tea.objects.order_by("id"), kind=kind)]

    @app.get("/offset")
    async def offset(request):
        return await paginate_limit_offset(request, Tea.objects.order_by("id"), default_limit=3)

    @app.get("/pages")
    async def pages(request):
        return await paginate_page_number(request, Tea.objects.order_by("id"), page_size=3)

    @app.get("/keyset")
    async def keyset(request):
        return await paginate_keyset(request, Tea.objects.all(), ordering=request.query.get("o", "price"), page_size=3)

    with TestClient(app) as c:
        yield c


def names(page):
    return [r["name"] for r in page["results"]]


def follow(client, url):
    parts = urlsplit(url)
    return client.get(parts.path + "?" + parts.query).json()


def test_get_object_or_404(client):
    assert client.get("/teas/2").json() == {"name": "tea 2"}
    r = client.get("/teas/99")
    assert r.status_code == 404
    assert r.json() == {"detail": "No Tea matches the given query."}


def test_get_list_or_404(client):
    assert client.get("/kinds/black").json() == ["tea 2", "tea 4", "tea 6"]
    assert client.get("/kinds/white").status_code == 404


def test_limit_offset_links(client):
    first = client.get("/offset").json()
    assert (first["count"], names(first), first["previous"]) == (7, ["tea 1", "tea 2", "tea 3"], None)
    assert parse_qs(urlsplit(first["next"]).query) == {"limit": ["3"], "offset": ["3"]}
    second = follow(client, first["next"])
    assert names(second) == ["tea 4", "tea 5", "tea 6"]
    third = follow(client, second["next"])
    assert (names(third), third["next"]) == (["tea 7"], None)
    assert names(follow(client, third["previous"])) == ["tea 4", "tea 5", "tea 6"]
    assert client.get("/offset?limit=0").status_code == 422
    assert client.get("/offset?offset=x").status_code == 422
    assert client.get("/offset?limit=1000").json()["next"] is None  # capped at max_limit, all 7 fit
    for hostile in ("offset?offset=9223372036854775808", "offset?offset=" + "9" * 4000, "pages?page=99999999999"):
        assert client.get(f"/{hostile}").status_code == 422, hostile


def test_page_number_links_and_a_page_past_the_end(client):
    first = client.get("/pages?page_size=2").json()
    assert names(first) == ["tea 1", "tea 2"]
    second = follow(client, first["next"])
    assert names(second) == ["tea 3", "tea 4"]
    assert names(follow(client, second["previous"])) == ["tea 1", "tea 2"]
    last = client.get("/pages?page=3").json()
    assert (names(last), last["next"]) == (["tea 7"], None)
    assert client.get("/pages?page=4").status_code == 404


def test_keyset_pages_forward_and_back_with_ties_broken_by_key(client):
    first = client.get("/keyset").json()
    assert (names(first), first["previous"]) == (["tea 2", "tea 4", "tea 7"], None)  # the three at 1.00
    second = follow(client, first["next"])
    assert names(second) == ["tea 3", "tea 1", "tea 6"]
    third = follow(client, second["next"])
    assert (names(third), third["next"]) == (["tea 5"], None)
    back = follow(client, third["previous"])
    assert names(back) == ["tea 3", "tea 1", "tea 6"]
    assert names(follow(client, back["previous"])) == ["tea 2", "tea 4", "tea 7"]


def test_keyset_descending(client):
    first = client.get("/keyset?o=-price").json()
    assert names(first) == ["tea 5", "tea 6", "tea 1"]
    assert names(follow(client, first["next"])) == ["tea 3", "tea 7", "tea 4"]


def test_a_forged_cursor_is_a_400(client):
    assert client.get("/keyset?cursor=not-base64!").status_code == 400
    assert client.get("/keyset?cursor=eyJ2IjpbImEiLDFdLCJiIjpmYWxzZX0").status_code == 400  # {"v":["a",1],...}


@pytest.mark.parametrize("value, expected", [
    ("Hello, World!", "hello-world"),
    ("  spaces   and---dashes  ", "spaces-and-dashes"),
    ("Crème brûlée", "creme-brulee"),
    ("_under_score_", "under_score"),
    ("日本語", ""),
    (42, "42"),
])
def test_slugify_as_django_does(value, expected):
    assert slugify(value) == expected


def test_slugify_keeps_unicode_when_asked():
    assert slugify("Crème brûlée 日本", allow_unicode=True) == "crème-brûlée-日本"
