"""The ORM benchmark's models for Tortoise ORM (benchmarks/orm_bench.py): the same tables."""

from tortoise import fields
from tortoise.models import Model


class Category(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)

    class Meta:
        table = "bench_category"


class Product(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    price = fields.DecimalField(max_digits=10, decimal_places=2)
    stock = fields.IntField(default=0)
    active = fields.BooleanField(default=True)
    category = fields.ForeignKeyField("models.Category", related_name="products", on_delete=fields.CASCADE)

    class Meta:
        table = "bench_product"
