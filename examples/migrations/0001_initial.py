"""examples migration 0001_initial, written by hyper makemigrations on 2026-11-21 21:15 UTC.

- Create model Product (table products)
"""

from hyperdjango import migrations
from hyperdjango.orm import fields


class Migration(migrations.Migration):
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Product",
            table="products",
            fields=[
                ("id", fields.IntegerField(primary_key=True, auto=True)),
                ("name", fields.TextField(max_length=200)),
                ("price", fields.DecimalField(max_digits=10, decimal_places=2)),
                ("stock", fields.IntegerField(default=0)),
                ("active", fields.BooleanField(default=True)),
                ("created_at", fields.DateTimeField()),
            ],
        ),
    ]
