"""The models of the shop. Change them, then ``hyper makemigrations shop.main``."""

from datetime import datetime
from decimal import Decimal

from hyperdjango import Field, Model


class Category(Model):
    """A shelf of the shop: teas, cups, pots."""

    class Meta:
        ordering = ["name"]

    name: str = Field(max_length=100, unique=True)


class Product(Model):
    """Something for sale."""

    class Meta:
        ordering = ["name"]

    name: str = Field(max_length=200)
    price: Decimal = Field(max_digits=10, decimal_places=2, ge=0)
    stock: int = Field(default=0, ge=0)
    category_id: int = Field(foreign_key=Category, on_delete="PROTECT", related_name="products")
    created_at: datetime = Field(auto_now_add=True)
