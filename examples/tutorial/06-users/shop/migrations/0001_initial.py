"""shop migration 0001_initial, written by hyper startproject.

- Create model Item (table item)
"""

from hyperdjango import migrations
from hyperdjango.orm import fields


class Migration(migrations.Migration):
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Item",
            table="item",
            fields=[
                ("id", fields.IntegerField(primary_key=True, auto=True)),
                ("name", fields.TextField(max_length=200)),
                ("created_at", fields.DateTimeField()),
            ],
        ),
    ]
