"""The typed-API benchmark's types as msgspec Structs, shared by the hyperdjango app and the
hand-written RSGI handler (FastAPI's pydantic twins are in api_fastapi_app.py)."""

import enum
from typing import Annotated

import msgspec


class Currency(enum.Enum):
    EUR = "EUR"
    USD = "USD"
    GBP = "GBP"


class Address(msgspec.Struct):
    street: Annotated[str, msgspec.Meta(max_length=200)]
    city: Annotated[str, msgspec.Meta(max_length=100)]
    postcode: Annotated[str, msgspec.Meta(max_length=20)]
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=2)]


class Item(msgspec.Struct):
    sku: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}-[0-9]{3}$")]
    name: Annotated[str, msgspec.Meta(max_length=100)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=100)]
    price: Annotated[float, msgspec.Meta(gt=0)]


class Order(msgspec.Struct):
    customer: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    email: Annotated[str, msgspec.Meta(pattern="^[^@]+@[^@]+$")]
    currency: Currency
    priority: Annotated[int, msgspec.Meta(ge=1, le=5)]
    gift: bool
    coupon: str | None
    notes: Annotated[str, msgspec.Meta(max_length=500)]
    address: Address
    tags: Annotated[list[str], msgspec.Meta(max_length=10)]
    items: Annotated[list[Item], msgspec.Meta(min_length=1, max_length=50)]


class Receipt(msgspec.Struct):
    customer: str
    currency: Currency
    lines: int
    units: int
    total: float


def receipt_for(order: Order) -> Receipt:
    """The answer to an order (what every app of the benchmark computes)."""
    return Receipt(
        customer=order.customer,
        currency=order.currency,
        lines=len(order.items),
        units=sum(i.quantity for i in order.items),
        total=sum(i.quantity * i.price for i in order.items),
    )
