"""The ORM benchmark's models, as a hyperdjango user writes them (benchmarks/orm_bench.py)."""

from decimal import Decimal

from hyperdjango import Field, Model


class Category(Model):
    class Meta:
        table = "bench_category"

    name: str = Field(max_length=100)


class Product(Model):
    class Meta:
        table = "bench_product"

    name: str = Field(max_length=200)
    price: Decimal = Field(max_digits=10, decimal_places=2)
    stock: int = 0
    active: bool = True
    category_id: int = Field(foreign_key=Category, on_delete="CASCADE", related_name="products")
