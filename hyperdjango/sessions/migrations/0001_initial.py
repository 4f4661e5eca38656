"""hyperdjango.sessions migration 0001_initial: the database session store's table.

- Create model Session (table hyperdjango_sessions), expire_date indexed for
  ``hyper clearsessions``.
"""

from hyperdjango import migrations
from hyperdjango.orm import fields


class Migration(migrations.Migration):
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Session",
            table="hyperdjango_sessions",
            fields=[
                ("session_key", fields.TextField(primary_key=True, max_length=64)),
                ("session_data", fields.JSONField()),
                ("expire_date", fields.DateTimeField(index=True)),
            ],
        ),
    ]
