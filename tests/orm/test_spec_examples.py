"""The ORM lines of the spec (hyperdjango-async-guide), run as written on both backends."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import pytest

from hyperdjango import Field, HyperApp, Model, Response
from hyperdjango.database import atomic
from hyperdjango.dataloader import DataLoader
from hyperdjango.expressions import Avg, Count, F, Sum
from hyperdjango.orm.exceptions import ValidationError
from hyperdjango.testing import TestClient


class User(Model):
    class Meta:
        table = "spec_users"

    name: str = Field(max_length=100)
    email: str = Field(max_length=200, unique=True)
    active: bool = True


class Product(Model):
    class Meta:
        table = "spec_products"
        ordering = ["name"]

    name: str = Field(max_length=200)
    price: Decimal = Field(max_digits=10, decimal_places=2, ge=0)
    stock: int = Field(default=0, ge=0)
    active: bool = True
    discontinued: bool = False


class Order(Model):
    class Meta:
        table = "spec_orders"

    user_id: int | None = Field(foreign_key=User, on_delete="CASCADE", related_name="orders")
    customer_id: int | None = Field(foreign_key=User, on_delete="SET_NULL", related_name="purchases")
    total: Decimal = Field(max_digits=10, decimal_places=2, default=Decimal("0"))
    amount: Decimal = Field(max_digits=10, decimal_places=2, default=Decimal("0"))
    status: str = Field(default="pending", choices=["pending", "completed", "cancelled"])
    created_at: datetime = Field(auto_now_add=True)


class OrderItem(Model):
    class Meta:
        table = "spec_order_items"

    order_id: int = Field(foreign_key=Order, on_delete="CASCADE", related_name="items")
    product_id: int = Field(foreign_key=Product, on_delete="PROTECT")
    quantity: int = Field(ge=1)
    unit_price: Decimal = Field(max_digits=10, decimal_places=2)


class Notification(Model):
    class Meta:
        table = "spec_notifications"

    user_id: int = Field(foreign_key=User, related_name="notifications")
    text: str = ""
    read: bool = False


class UserPreferences(Model):
    class Meta:
        table = "spec_preferences"

    user_id: int = Field(foreign_key=User, unique=True)
    theme: str = "light"


MODELS = (User, Product, Order, OrderItem, Notification, UserPreferences)


@pytest.fixture
async def spec_db(as_default):
    db = as_default
    await db.drop_tables(*MODELS)
    await db.create_tables(*MODELS)
    yield db
    await db.drop_tables(*MODELS)


async def test_the_async_orm_section_runs_as_written(spec_db):
    await Product.objects.bulk_create([
        Product(name="Assam", price="4.50", stock=3),
        Product(name="Teapot", price="24.00", stock=0),
        Product(name="Kettle", price="30.00", stock=2, discontinued=True),
    ])
    processed = []

    async def process_product(product):
        processed.append(product.name)

    # Fetch all matching records
    users = await User.objects.filter(active=True).all()
    assert users == []

    # Create
    user = User(name="Alice", email="alice@example.com")
    await user.save()
    assert user.id is not None

    # Fetch a single record
    assert (await User.objects.get(id=user.id)).name == "Alice"
    assert await User.objects.get(id=42) is None

    # Count
    total = await User.objects.filter(active=True).count()
    assert total == 1

    # Check existence
    exists = await User.objects.filter(email="alice@example.com").exists()
    assert exists is True

    # Update
    user.name = "Alice Smith"
    await user.save()
    assert (await User.objects.get(id=user.id)).name == "Alice Smith"

    # Delete
    await user.delete()
    assert await User.objects.count() == 0

    # Bulk operations
    await Product.objects.filter(stock=0).update(active=False)
    await Product.objects.filter(discontinued=True).delete()
    assert [(p.name, p.active) for p in await Product.objects.all()] == [("Assam", True), ("Teapot", False)]

    # get_or_create
    user, created = await User.objects.get_or_create(
        email="bob@example.com",
        defaults={"name": "Bob", "active": True},
    )
    assert created and user.name == "Bob"

    # update_or_create
    user, created = await User.objects.update_or_create(
        email="bob@example.com",
        defaults={"name": "Bob Updated"},
    )
    assert not created and (await User.objects.get(email="bob@example.com")).name == "Bob Updated"

    # Aggregation
    await Order.objects.bulk_create([Order(user_id=user.id, amount=a, status=s) for a, s in
                                     [("10.00", "completed"), ("20.00", "completed"), ("5.00", "pending")]])
    stats = await Order.objects.filter(status="completed").aggregate(
        total=Sum("amount"),
        average=Avg("amount"),
        count=Count("id"),
    )
    assert stats == {"total": Decimal("30.00"), "average": Decimal("15"), "count": 2}

    # Async iteration
    async for product in Product.objects.filter(active=True).aiterator():
        await process_product(product)
    assert processed == ["Assam"]


@dataclass
class CartItem:
    product_id: int
    quantity: int
    price: Decimal


@dataclass
class Cart:
    items: list[CartItem] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((i.price * i.quantity for i in self.items), Decimal("0"))


async def _checkout(database, user, cart):
    # The spec's transaction block, verbatim apart from the function around it.
    async with atomic(database):
        order = Order(customer_id=user.id, total=cart.total, status="pending")
        await order.save()

        for item in cart.items:
            order_item = OrderItem(
                order_id=order.id,
                product_id=item.product_id,
                quantity=item.quantity,
                unit_price=item.price,
            )
            await order_item.save()

        await Product.objects.filter(
            id__in=[i.product_id for i in cart.items]
        ).update(stock=F("stock") - 1)
        # If anything fails, the entire transaction rolls back


async def test_the_transactions_example_commits_everything(spec_db):
    user = await User.objects.create(name="Alice", email="a@example.com")
    tea = await Product.objects.create(name="Assam", price="4.50", stock=3)
    pot = await Product.objects.create(name="Teapot", price="24.00", stock=1)
    await _checkout(spec_db, user, Cart([CartItem(tea.id, 2, tea.price), CartItem(pot.id, 1, pot.price)]))
    order = await Order.objects.get(customer_id=user.id)
    assert order.total == Decimal("33.00")
    assert await OrderItem.objects.filter(order_id=order.id).count() == 2
    assert await Product.objects.values_list("stock", flat=True) == [2, 0]


async def test_the_transactions_example_rolls_everything_back(spec_db):
    user = await User.objects.create(name="Alice", email="a@example.com")
    pot = await Product.objects.create(name="Teapot", price="24.00", stock=0)
    # The second item's quantity=0 fails validation on save, after the order and
    # the first item were inserted: both must be rolled back.
    with pytest.raises(ValidationError, match="quantity"):
        await _checkout(spec_db, user, Cart([CartItem(pot.id, 1, pot.price), CartItem(pot.id, 0, pot.price)]))
    assert await Order.objects.count() == 0
    assert await OrderItem.objects.count() == 0
    assert await Product.objects.values_list("stock", flat=True) == [0]


async def test_the_dashboard_gather_example(spec_db):
    user = await User.objects.create(name="Alice", email="a@example.com")
    await UserPreferences.objects.create(user_id=user.id, theme="dark")
    await Notification.objects.bulk_create([Notification(user_id=user.id, text=t, read=r) for t, r in [("a", False), ("b", True), ("c", False)]])
    for i in range(7):
        await Order.objects.create(user_id=user.id, total=Decimal(i), status="completed")

    class request:  # what the spec's AuthMiddleware leaves behind
        user = None

    request.user = user

    user_id = request.user.id

    # Run 4 queries in parallel
    orders, notifications, stats, preferences = await asyncio.gather(
        Order.objects.filter(user_id=user_id).order_by("-created_at")[:5].all(),
        Notification.objects.filter(user_id=user_id, read=False).all(),
        Order.objects.filter(user_id=user_id).aggregate(
            total_spent=Sum("total"),
            order_count=Count("id"),
        ),
        UserPreferences.objects.get(user_id=user_id),
    )

    body = {
        "recent_orders": [o.to_dict() for o in orders],
        "unread_notifications": len(notifications),
        "total_spent": str(stats["total_spent"]),
        "order_count": stats["order_count"],
        "theme": preferences.theme,
    }
    assert [o["total"] for o in body["recent_orders"]] == [Decimal(i).quantize(Decimal("0.01")) for i in (6, 5, 4, 3, 2)]
    assert body["unread_notifications"] == 2
    assert body["total_spent"] == "21.00" and body["order_count"] == 7
    assert body["theme"] == "dark"


async def test_the_dataloader_example_makes_one_query(spec_db):
    for name in ("Ann", "Ben", "Cy"):
        await User.objects.create(name=name, email=f"{name}@example.com")
    batches = []

    async def batch_load_users(user_ids):
        """Load multiple users in a single query."""
        batches.append(list(user_ids))
        users = await User.objects.filter(id__in=user_ids).all()
        user_map = {u.id: u for u in users}
        return [user_map.get(uid) for uid in user_ids]

    user_loader = DataLoader(batch_load_users)

    # Issued together, these three loads are batched into a single SQL query
    user1, user2, user3 = await asyncio.gather(user_loader.load(1), user_loader.load(2), user_loader.load(3))
    # Duplicate IDs are deduplicated
    user1_again = await user_loader.load(1)  # Returns cached result, no extra query

    assert [u.name for u in (user1, user2, user3)] == ["Ann", "Ben", "Cy"]
    assert user1_again is user1
    assert batches == [[1, 2, 3]]


def _product_app(url: str) -> HyperApp:
    app = HyperApp(title="My App", database=url)

    @app.on_startup
    async def tables():
        await app.database.drop_tables(Product)
        await app.database.create_tables(Product)

    @app.get("/api/products")
    async def list_products(request):
        products = await Product.objects.filter(active=True).order_by("name").all()
        return Response.json([
            {"id": p.id, "name": p.name, "price": str(p.price)}
            for p in products
        ])

    @app.get("/api/products/{id}")
    async def get_product(request):
        product = await Product.objects.get(id=request.params["id"])
        if product is None:
            return Response.json({"error": "Not found"}, status=404)
        return Response.json({
            "id": product.id,
            "name": product.name,
            "price": str(product.price),
            "stock": product.stock,
        })

    @app.post("/api/products")
    async def create_product(request):
        data = await request.json()
        product = Product(
            name=data["name"],
            price=data["price"],
            stock=data.get("stock", 0),
        )
        await product.save()
        return Response.json({"id": product.id}, status=201)

    return app


def test_the_async_views_run_as_written(db_url):
    with TestClient(_product_app(db_url)) as client:
        created = client.post("/api/products", json={"name": "Teapot", "price": "24.00", "stock": 2})
        assert created.status_code == 201
        client.post("/api/products", json={"name": "Assam", "price": 4.5})
        pid = created.json()["id"]
        assert client.get(f"/api/products/{pid}").json() == {"id": pid, "name": "Teapot", "price": "24.00", "stock": 2}
        assert [p["name"] for p in client.get("/api/products").json()] == ["Assam", "Teapot"]
        assert client.get("/api/products/999").status_code == 404


def test_a_lookup_value_that_does_not_fit_is_a_400_naming_the_field(db_url):
    with TestClient(_product_app(db_url)) as client:
        r = client.get("/api/products/abc")
        assert r.status_code == 400
        assert r.json() == {"detail": {"id": ["'abc' is not a valid int"]}}


def test_an_invalid_save_is_a_400_naming_every_field(db_url):
    with TestClient(_product_app(db_url)) as client:
        r = client.post("/api/products", json={"name": "x" * 201, "price": "-1", "stock": "many"})
        assert r.status_code == 400
        assert set(r.json()["detail"]) == {"name", "price", "stock"}
        assert client.get("/api/products").json() == []
