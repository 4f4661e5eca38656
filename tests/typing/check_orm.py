"""What a type checker infers for a user's models, managers and QuerySets."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, assert_type

from hyperdjango import Model
from hyperdjango.database import Database, Row
from hyperdjango.orm import Manager, QuerySet


class Product(Model):
    name: str = ""
    stock: int = 0


class TagManager(Manager["Tag"]):
    def popular(self) -> QuerySet[Tag]:
        return self.filter(uses__gt=10)


class Tag(Model):
    objects: ClassVar[TagManager] = TagManager()
    label: str = ""
    uses: int = 0


async def queries() -> None:
    assert_type(Product.objects, Manager[Product])
    qs = Product.objects.filter(stock__gt=0).exclude(name="").order_by("-stock").select_related().distinct()
    assert_type(qs, QuerySet[Product])
    assert_type(qs[:10], QuerySet[Product])
    assert_type(await qs, list[Product])
    assert_type(await qs.all(), list[Product])
    assert_type(await Product.objects.filter(stock=0).all(), list[Product])
    assert_type(await qs[3], Product)
    async for product in qs:
        assert_type(product, Product)
    async for product in Product.objects.filter(stock__gt=0).aiterator(chunk_size=100):
        assert_type(product, Product)

    # get() returns None when nothing matches (the spec's rule), and so does aget().
    assert_type(await Product.objects.get(pk=1), Product | None)
    found = await Product.objects.get(id=1)
    if found is not None:
        assert_type(found.name, str)
        assert_type(found.stock, int)
        assert_type(found.id, Any)
    assert_type(await Product.objects.aget(pk=1), Product | None)
    assert_type(await qs.get(name="tea"), Product | None)
    assert_type(await qs.first(), Product | None)
    # get()/first() are coroutines for create_task, even when they are the driver's future.
    assert_type(asyncio.create_task(Product.objects.get(pk=1)), asyncio.Task[Product | None])
    assert_type(await asyncio.gather(Product.objects.get(pk=1), Product.objects.first()), tuple[Product | None, Product | None])
    assert_type(await qs.latest("stock"), Product | None)
    assert_type(await Product.objects.count(), int)
    assert_type(await qs.acount(), int)
    assert_type(await qs.exists(), bool)
    assert_type(await qs.update(stock=1), int)
    assert_type(await qs.delete(), int)
    assert_type(await Product.objects.create(name="tea"), Product)
    assert_type(await Product.objects.get_or_create(name="tea"), tuple[Product, bool])
    assert_type(await Product.objects.bulk_create([Product(name="cup")]), list[Product])
    upserted = Product.objects.bulk_create([Product(name="cup")], update_conflicts=True, unique_fields=["name"], update_fields=["stock"])
    assert_type(await upserted, list[Product])
    assert_type(await qs.abulk_create([Product(name="cup")], batch_size=10, ignore_conflicts=True), list[Product])
    assert_type(await Product.objects.in_bulk([1, 2]), dict[Any, Product])
    assert_type(await qs.aggregate(), dict[str, Any])

    rows = Product.objects.values("name", "stock")
    assert_type(rows, QuerySet[Product, dict[str, Any]])
    assert_type(await rows, list[dict[str, Any]])
    assert_type(await rows.filter(stock=0).first(), dict[str, Any] | None)
    assert_type(await Product.objects.values_list("name", "stock"), list[tuple[Any, ...]])
    assert_type(await Product.objects.values_list("name", flat=True), list[Any])

    assert_type(await Product.objects.raw("SELECT * FROM product"), list[Product])

    # A custom manager keeps its own methods and its model.
    assert_type(Tag.objects, TagManager)
    assert_type(Tag.objects.popular(), QuerySet[Tag])
    assert_type(await Tag.objects.get(label="tea"), Tag | None)


async def statements(db: Database) -> None:
    # The statement methods return the driver's future, typed as a coroutine: create_task takes it.
    assert_type(await db.query("SELECT 1"), list[Row])
    assert_type(await db.query_one("SELECT 1"), Row | None)
    assert_type(asyncio.create_task(db.query_one("SELECT 1")), asyncio.Task[Row | None])
    assert_type(await db.execute("DELETE FROM t"), int)
