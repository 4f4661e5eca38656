"""Each test run gets a fresh SQLite database, migrated, before the app is imported."""

import asyncio
import os
import tempfile

os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='shop-test-')}/test.sqlite3"

from hyperdjango.migrations.executor import migrate  # noqa: E402

from shop.main import app  # noqa: E402

asyncio.run(migrate(app.database, "shop"))
