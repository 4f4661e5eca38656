"""The typed-API benchmark on FastAPI (pydantic v2), as its docs write it.

Run: uvicorn api_fastapi_app:app   or   granian --interface asgi api_fastapi_app:app
"""

import enum

from fastapi import FastAPI
from pydantic import BaseModel, Field

app = FastAPI()


class Currency(str, enum.Enum):
    EUR = "EUR"
    USD = "USD"
    GBP = "GBP"


class Address(BaseModel):
    street: str = Field(max_length=200)
    city: str = Field(max_length=100)
    postcode: str = Field(max_length=20)
    country: str = Field(min_length=2, max_length=2)


class Item(BaseModel):
    sku: str = Field(pattern="^[A-Z]{3}-[0-9]{3}$")
    name: str = Field(max_length=100)
    quantity: int = Field(ge=1, le=100)
    price: float = Field(gt=0)


class Order(BaseModel):
    customer: str = Field(min_length=1, max_length=100)
    email: str = Field(pattern="^[^@]+@[^@]+$")
    currency: Currency
    priority: int = Field(ge=1, le=5)
    gift: bool
    coupon: str | None
    notes: str = Field(max_length=500)
    address: Address
    tags: list[str] = Field(max_length=10)
    items: list[Item] = Field(min_length=1, max_length=50)


class Receipt(BaseModel):
    customer: str
    currency: Currency
    lines: int
    units: int
    total: float


@app.post("/orders", response_model=Receipt)
async def create_order(order: Order):
    return Receipt(
        customer=order.customer,
        currency=order.currency,
        lines=len(order.items),
        units=sum(i.quantity for i in order.items),
        total=sum(i.quantity * i.price for i in order.items),
    )
