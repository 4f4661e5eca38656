"""examples migration 0002_seed_teas: a data migration adding the shop's first three products.

Written by hand from ``hyper makemigrations examples.shop --empty --name seed_teas``.
It uses SQL rather than ``Product``: a migration must keep working after the
model changes.
"""

import datetime
from decimal import Decimal

from hyperdjango import migrations

TEAS = [("Assam tea", Decimal("4.50"), 12), ("Darjeeling tea", Decimal("7.20"), 3), ("Teapot", Decimal("24.00"), 1)]


async def add_teas(db):
    now = datetime.datetime.now(datetime.UTC)
    for name, price, stock in TEAS:
        await db.execute(
            "INSERT INTO products (name, price, stock, active, created_at) VALUES ($1, $2, $3, $4, $5)",
            name, price, stock, True, now,
        )


async def remove_teas(db):
    for name, _, _ in TEAS:
        await db.execute("DELETE FROM products WHERE name = $1", name)


class Migration(migrations.Migration):
    dependencies = [
        ("examples", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            code=add_teas,
            reverse_code=remove_teas,
        ),
    ]
