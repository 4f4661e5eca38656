"""shop migration 0003_order, written by hyper makemigrations on 2026-12-04 16:47 UTC.

- Create model Order (table orders)
"""

from hyperdjango import migrations
from hyperdjango.orm import fields


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0002_shop"),
    ]

    operations = [
        migrations.CreateModel(
            name="Order",
            table="orders",
            fields=[
                ("id", fields.IntegerField(primary_key=True, auto=True)),
                ("product_id", fields.IntegerField(foreign_key="shop.Product", on_delete="PROTECT")),
                ("quantity", fields.IntegerField()),
                ("email", fields.TextField(max_length=254)),
                ("confirmed", fields.BooleanField(default=False)),
                ("created_at", fields.DateTimeField()),
            ],
        ),
    ]
