"""hyperdjango.cache migration 0001_initial: the database cache's table (UNLOGGED on PostgreSQL).

CREATE ... IF NOT EXISTS, so a table made by ``create_table()`` before the
project was migrated adopts this migration as is.
"""

from hyperdjango import migrations
from hyperdjango.cache.schema import create_table, drop_table


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(create_table, drop_table)]
