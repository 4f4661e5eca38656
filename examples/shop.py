"""The example shop: the spec's product routes and middleware.

Run with ``./dev.sh serve`` (or ``hyper migrate examples.shop`` then
``hyper run examples.shop:app``) and open http://127.0.0.1:8000/. Products are
rows of ``db.sqlite3`` in the working directory (``HYPERDJANGO_DATABASE_URL`` may
name another database). The schema comes from ``examples/migrations/``:
``0001_initial`` creates the table, ``0002_seed_teas`` adds three teas.
"""

import asyncio
import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path as FilePath
from typing import Annotated

import msgspec

from hyperdjango import Field, HyperApp, Model, Response
from hyperdjango.auth import AuthenticationMiddleware
from hyperdjango.pagination import Page, paginate_page_number
from hyperdjango.params import Depends, Path, Query
from hyperdjango.profiling import elapsed_nanos, nanos
from hyperdjango.schemas import model_schema
from hyperdjango.security import HTTPBearer
from hyperdjango.sessions import SessionMiddleware
from hyperdjango.shortcuts import get_object_or_404
from hyperdjango.templates import Templates

from examples.accounts import mount_accounts
from examples.chat import mount_chat
from examples.pages import mount_pages

HERE = FilePath(__file__).parent

# The database: $HYPERDJANGO_DATABASE_URL, else db.sqlite3. Without $HYPERDJANGO_SECRET_KEY
# this is local development: debug=True, and the process makes itself a random key
# (sessions end with it). With the key set it runs as deployed: debug off, so static
# files are served from the collected, hashed copies once `hyper collectstatic` ran.
app = HyperApp(title="hyperdjango example shop", debug="HYPERDJANGO_SECRET_KEY" not in os.environ)
app.mount_health()
app.mount_docs()  # /openapi.json, /docs (Swagger UI), /redoc
mount_chat(app)  # GET /chat/{room} and the spec's /ws/chat/{room}
app.templates = Templates(HERE / "templates")
# `hyper collectstatic examples.shop:app` fills the root; then CSS URLs carry content hashes.
app.static("/static", HERE / "static", root=os.environ.get("HYPERDJANGO_STATIC_ROOT", HERE / "staticfiles"))


class Product(Model):
    """The spec's product."""

    class Meta:
        table = "products"
        ordering = ["name"]

    name: str = Field(max_length=200)
    price: Decimal = Field(max_digits=10, decimal_places=2, ge=0)
    stock: int = Field(default=0, ge=0)
    active: bool = True
    created_at: datetime = Field(auto_now_add=True)


mount_pages(app, Product)  # /shop/, /shop/{id}, /shop/new

TOKENS = {"secret-token": {"id": 1, "name": "Alice"}}


class TimingMiddleware:
    """From the spec: adds ``x-response-time`` to every response."""

    async def __call__(self, request, next_handler):
        start = nanos()
        response = await next_handler(request)
        elapsed = elapsed_nanos(start)
        response.headers["x-response-time"] = f"{elapsed / 1_000_000:.2f}ms"
        return response


async def verify_token(token: str):
    await asyncio.sleep(0)  # where a real app would ask its database
    return TOKENS.get(token)


class AuthMiddleware:
    """The spec's AuthMiddleware, guarding only ``/api/admin/`` so the rest stays public."""

    async def __call__(self, request, next_handler):
        if not request.path.startswith("/api/admin/"):
            return await next_handler(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not token:
            return Response.json({"error": "Unauthorized"}, status=401)
        user = await verify_token(token)
        if user is None:
            return Response.json({"error": "Invalid token"}, status=401)
        request.user = user
        return await next_handler(request)


app.use(TimingMiddleware())
app.use(SessionMiddleware(engine="db"))  # request.session, in the hyperdjango_sessions table
app.use(AuthenticationMiddleware())  # request.user: the logged-in user or AnonymousUser
app.use(AuthMiddleware())
mount_accounts(app, Product)  # /accounts/login/, /accounts/logout/, /accounts/profile/, restock


@app.get("/", include_in_schema=False)
async def index(request):
    return Response.html(INDEX)


# The product API, with typed handlers (docs/api.md): parameters and bodies are
# declared, validated by msgspec (422 with the errors), and the responses are cut to
# their declared shape. The OpenAPI document is at /openapi.json, its pages at /docs
# and /redoc.


class ProductIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new product."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, examples=["Mug"])]
    # A string, as prices are sent back: msgspec has no bounds for Decimal, a pattern
    # says "non-negative, at most two decimal places" and shows in the OpenAPI document.
    price: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,8}(\.[0-9]{1,2})?$", examples=["9.90"])]
    stock: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0


class Created(msgspec.Struct):
    id: int


ProductSummary = model_schema(Product, include={"id", "name", "price"}, name="ProductSummary")
ProductDetail = model_schema(Product, include={"id", "name", "price", "stock"}, name="ProductDetail")


@app.get("/api/products", tags=["products"], response_model=list[ProductSummary])
async def list_products(q: Annotated[str | None, Query(max_length=100, description="Part of the name")] = None):
    """The active products, by name."""
    products = Product.objects.filter(active=True).order_by("name")
    if q:
        products = products.filter(name__icontains=q)
    return await products


@app.get("/api/catalogue", tags=["products"], response_model=Page[ProductSummary],
         responses={404: {"description": "A page past the last"}})
async def catalogue(
    request,
    page: Annotated[int, Query(ge=1, le=2**31 - 1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 10,
):
    """The active products, a page at a time, with links to the next and previous pages."""
    # The paginator reads page and page_size itself; declaring them documents and checks them.
    return await paginate_page_number(request, Product.objects.filter(active=True).order_by("name", "id"), page_size=10)


@app.get("/api/products/{id}", tags=["products"], response_model=ProductDetail,
         responses={404: {"description": "No such product"}})
async def get_product(id: Annotated[int, Path(ge=1, le=2**31 - 1)]):
    """One product."""
    return await get_object_or_404(Product, id=id)


@app.post("/api/products", tags=["products"], status_code=201, response_model=Created)
async def create_product(product: ProductIn):
    """Adds a product."""
    new = Product(name=product.name, price=Decimal(product.price), stock=product.stock)
    await new.save()
    return new


bearer = HTTPBearer(description="The spec's AuthMiddleware tokens (try `secret-token`)")


async def admin_user(request, token: str = Depends(bearer)):
    """The user the AuthMiddleware found for the bearer token."""
    return request.user


class AdminUser(msgspec.Struct):
    id: int
    name: str


class WhoAmI(msgspec.Struct):
    user: AdminUser


@app.get("/api/admin/whoami", tags=["admin"], response_model=WhoAmI, responses={401: {"description": "No or a bad token"}})
async def whoami(user=Depends(admin_user)):
    """Who the bearer token belongs to."""
    return {"user": user}


INDEX = """<!doctype html>
<html><head><meta charset="utf-8"><title>hyperdjango example shop</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;line-height:1.5}
code{background:#f3f3f3;padding:.1rem .3rem}</style></head>
<body><h1>hyperdjango example shop</h1>
<p>This page is served by the example app. Things to try:</p>
<ul>
<li><a href="/api/products">GET /api/products</a> — the products as JSON</li>
<li><a href="/api/products/1">GET /api/products/1</a> — one product (<a href="/api/products/99">99</a> is a 404,
<a href="/api/products/abc">abc</a> a 422: the id is not a number)</li>
<li><a href="/docs">/docs</a> and <a href="/redoc">/redoc</a> — the API's OpenAPI document
(<a href="/openapi.json">/openapi.json</a>), browsable</li>
<li><code>curl -X POST localhost:8000/api/products -d '{"name": "Mug", "price": "9.90"}'</code> — create one</li>
<li><code>curl -H 'Authorization: Bearer secret-token' localhost:8000/api/admin/whoami</code> — the spec's
AuthMiddleware (without the header: 401)</li>
<li><a href="/accounts/login/">/accounts/login/</a> — log in (make a user with
<code>hyper createsuperuser examples.shop</code>), then <a href="/accounts/profile/">your profile</a>;
<code>POST /api/products/1/restock</code> needs the <code>examples.change_product</code> permission</li>
<li><a href="/shop/">/shop/</a> — HTML pages: the products, one product, and a form that creates one</li>
<li><a href="/chat/lobby">/chat/lobby</a> — the spec's WebSocket chat: open it in two tabs</li>
<li><a href="/health">/health</a> and <a href="/ready">/ready</a></li>
</ul>
<p>Every response carries <code>x-response-time</code> from the spec's TimingMiddleware.</p>
</body></html>
"""
