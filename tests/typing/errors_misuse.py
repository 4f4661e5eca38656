"""Misuses a type checker must report: each line ending in an "error" comment that names
an error code must get that error from mypy, and no other line may get one (test_types.py)."""

from __future__ import annotations

from hyperdjango import HyperApp, Model

app = HyperApp()


class Product(Model):
    name: str = ""


@app.task
async def send_welcome_email(user_id: int, email: str) -> None:
    pass


async def misuse(product: Product) -> None:
    found = await Product.objects.get(pk=1)
    found.name  # error: [union-attr]
    product.objects  # error: [arg-type]
    send_welcome_email.delay(user_id="1", email="a@example.com")  # error: [arg-type]
    send_welcome_email.delay(1)  # error: [call-arg]
    rows: list[Product] = await Product.objects.values("name")  # error: [assignment]
