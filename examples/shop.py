"""The example shop: the spec's product routes and middleware.

Run with ``./dev.sh serve`` (or ``hyper migrate examples.shop`` then
``hyper run examples.shop:app``) and open http://127.0.0.1:8000/. Products are
rows of ``db.sqlite3`` in the working directory (``HYPERDJANGO_DATABASE`` may
name another database). The schema comes from ``examples/migrations/``:
``0001_initial`` creates the table, ``0002_seed_teas`` adds three teas.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from hyperdjango import Field, HTTPException, HyperApp, Model, Response
from hyperdjango.profiling import elapsed_nanos, nanos
from hyperdjango.templates import Templates

from examples.chat import mount_chat
from examples.pages import mount_pages

HERE = Path(__file__).parent

app = HyperApp(title="hyperdjango example shop", database=os.environ.get("HYPERDJANGO_DATABASE"))
app.mount_health()
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
app.use(AuthMiddleware())


@app.get("/")
async def index(request):
    return Response.html(INDEX)


# The spec's product routes, as written. A value that does not fit a field (an id of
# "abc", a negative price) raises ValidationError, which the app answers with 400.


@app.get("/api/products")
async def list_products(request):
    products = await Product.objects.filter(active=True).order_by("name").all()
    return Response.json([
        {"id": p.id, "name": p.name, "price": str(p.price)}
        for p in products
    ])


@app.get("/api/products/{id}")
async def get_product(request):
    product = await Product.objects.get(id=request.params["id"])
    if product is None:
        return Response.json({"error": "Not found"}, status=404)
    return Response.json({
        "id": product.id,
        "name": product.name,
        "price": str(product.price),
        "stock": product.stock,
    })


@app.post("/api/products")
async def create_product(request):
    data = await request.json()
    try:
        product = Product(
            name=data["name"],
            price=data["price"],
            stock=data.get("stock", 0),
        )
    except KeyError as e:
        raise HTTPException(400, f"missing field {e.args[0]!r}") from e
    await product.save()
    return Response.json({"id": product.id}, status=201)


@app.get("/api/admin/whoami")
async def whoami(request):
    return {"user": request.user}


INDEX = """<!doctype html>
<html><head><meta charset="utf-8"><title>hyperdjango example shop</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;line-height:1.5}
code{background:#f3f3f3;padding:.1rem .3rem}</style></head>
<body><h1>hyperdjango example shop</h1>
<p>This page is served by the example app. Things to try:</p>
<ul>
<li><a href="/api/products">GET /api/products</a> — the products as JSON</li>
<li><a href="/api/products/1">GET /api/products/1</a> — one product (<a href="/api/products/99">99</a> is a 404,
<a href="/api/products/abc">abc</a> a 400: the id is not a number)</li>
<li><code>curl -X POST localhost:8000/api/products -d '{"name": "Mug", "price": "9.90"}'</code> — create one</li>
<li><code>curl -H 'Authorization: Bearer secret-token' localhost:8000/api/admin/whoami</code> — the spec's
AuthMiddleware (without the header: 401)</li>
<li><a href="/shop/">/shop/</a> — HTML pages: the products, one product, and a form that creates one</li>
<li><a href="/chat/lobby">/chat/lobby</a> — the spec's WebSocket chat: open it in two tabs</li>
<li><a href="/health">/health</a> and <a href="/ready">/ready</a></li>
</ul>
<p>Every response carries <code>x-response-time</code> from the spec's TimingMiddleware.</p>
</body></html>
"""
