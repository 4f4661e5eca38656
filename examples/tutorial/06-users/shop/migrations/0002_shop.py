"""shop migration 0002_shop, written by hyper makemigrations on 2026-12-04 16:44 UTC.

- Create model Category (table category)
- Create model Product (table product)
- Delete model Item
"""

from hyperdjango import migrations
from hyperdjango.orm import fields


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Category",
            table="category",
            fields=[
                ("id", fields.IntegerField(primary_key=True, auto=True)),
                ("name", fields.TextField(unique=True, max_length=100)),
            ],
        ),
        migrations.CreateModel(
            name="Product",
            table="product",
            fields=[
                ("id", fields.IntegerField(primary_key=True, auto=True)),
                ("name", fields.TextField(max_length=200)),
                ("price", fields.DecimalField(max_digits=10, decimal_places=2)),
                ("stock", fields.IntegerField(default=0)),
                ("category_id", fields.IntegerField(foreign_key="shop.Category", on_delete="PROTECT")),
                ("created_at", fields.DateTimeField()),
            ],
        ),
        migrations.DeleteModel(
            name="Item",
        ),
    ]
