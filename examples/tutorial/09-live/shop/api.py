"""The shop's JSON API: typed handlers, validated by msgspec, described by OpenAPI at
/openapi.json (browsable at /docs and /redoc)."""

from decimal import Decimal
from typing import Annotated

import msgspec

from hyperdjango import HTTPException
from hyperdjango.auth import login_required, permission_required
from hyperdjango.database import atomic
from hyperdjango.orm import F
from hyperdjango.params import Path, Query
from hyperdjango.schemas import model_schema
from hyperdjango.shortcuts import get_object_or_404

from .main import app
from .models import Category, Order, Product
from .live import publish_stock
from .tasks import send_confirmation

#: What the API shows of a product: the model's own fields, typed for OpenAPI.
ProductOut = model_schema(Product, include={"id", "name", "price", "stock", "category_id"}, name="ProductOut")


class ProductIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new product."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    # Prices travel as strings, as they are sent back: exact, and checked by the pattern.
    price: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,8}(\.[0-9]{1,2})?$", examples=["6.50"])]
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    stock: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0


@app.get("/api/products", tags=["products"], response_model=list[ProductOut])
async def list_products(q: Annotated[str | None, Query(max_length=100, description="Part of the name")] = None):
    """The products, by name; ``q`` keeps those whose name contains it."""
    products = Product.objects.all()
    if q:
        products = products.filter(name__icontains=q)
    return await products


@app.get("/api/products/{id}", tags=["products"], response_model=ProductOut, responses={404: {"description": "No such product"}})
async def get_product(id: Annotated[int, Path(ge=1, le=2**31 - 1)]):
    """One product."""
    return await get_object_or_404(Product, id=id)


@app.post("/api/products", tags=["products"], status_code=201, response_model=ProductOut,
          responses={401: {"description": "Not logged in"}, 403: {"description": "Not allowed to add products"}})
@permission_required("shop.add_product")
async def create_product(request, product: ProductIn):
    """Adds a product, and its category if it is new."""
    shelf, _ = await Category.objects.get_or_create(name=product.category)
    return await Product.objects.create(
        name=product.name, price=Decimal(product.price), stock=product.stock, category_id=shelf.id
    )


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    """An order of one product."""

    product_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=100)]
    email: Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]


OrderOut = model_schema(Order, include={"id", "product_id", "quantity", "confirmed"}, name="OrderOut")


@app.post("/api/orders", tags=["orders"], status_code=201, response_model=OrderOut,
          responses={401: {"description": "Not logged in"}, 409: {"description": "Not enough in stock"}})
@login_required
async def place_order(request, order: OrderIn):
    """Takes the quantity out of stock, records the order, and queues its confirmation."""
    async with atomic(app.database):
        taken = await Product.objects.filter(id=order.product_id, stock__gte=order.quantity).update(
            stock=F("stock") - order.quantity
        )
        if not taken:
            raise HTTPException(409, "not enough in stock")
        placed = await Order.objects.create(product_id=order.product_id, quantity=order.quantity, email=order.email)
        # Queued now, run after the commit: a rolled-back order is never confirmed.
        send_confirmation.delay(placed.id)
    await publish_stock(order.product_id)  # after the commit: live pages show only what happened
    return placed


@app.get("/api/orders/{id}", tags=["orders"], response_model=OrderOut, responses={404: {"description": "No such order"}})
async def get_order(id: Annotated[int, Path(ge=1, le=2**31 - 1)]):
    """One order."""
    return await get_object_or_404(Order, id=id)
