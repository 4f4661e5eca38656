"""The ORM benchmark's models for Django 5.2 (benchmarks/orm_bench.py): the same tables."""

from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=100)

    class Meta:
        app_label = "bench"
        db_table = "bench_category"
        managed = False


class Product(models.Model):
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="products")

    class Meta:
        app_label = "bench"
        db_table = "bench_product"
        managed = False
