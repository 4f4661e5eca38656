"""The shop's JSON API: typed handlers, validated by msgspec, described by OpenAPI at
/openapi.json (browsable at /docs and /redoc)."""

from decimal import Decimal
from typing import Annotated

import msgspec

from hyperdjango.auth import permission_required
from hyperdjango.params import Path, Query
from hyperdjango.schemas import model_schema
from hyperdjango.shortcuts import get_object_or_404

from .main import app
from .models import Category, Product

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
