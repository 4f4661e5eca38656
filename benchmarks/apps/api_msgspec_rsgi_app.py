"""The typed-API benchmark hand-written: msgspec decode/encode on Granian's RSGI, no framework.

The reference a framework's typed handler is measured against. Run:
granian --interface rsgi api_msgspec_rsgi_app:app
"""

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


DECODER = msgspec.json.Decoder(Order)
ENCODER = msgspec.json.Encoder()
JSON = [("content-type", "application/json")]


async def app(scope, proto):
    if scope.path != "/orders" or scope.method != "POST":
        proto.response_bytes(404, JSON, b'{"detail":"Not Found"}')
        return
    try:
        order = DECODER.decode(await proto())
    except msgspec.ValidationError as e:
        proto.response_bytes(422, JSON, ENCODER.encode({"detail": [{"msg": str(e)}]}))
        return
    receipt = Receipt(
        customer=order.customer,
        currency=order.currency,
        lines=len(order.items),
        units=sum(i.quantity for i in order.items),
        total=sum(i.quantity * i.price for i in order.items),
    )
    proto.response_bytes(200, JSON, ENCODER.encode(receipt))
