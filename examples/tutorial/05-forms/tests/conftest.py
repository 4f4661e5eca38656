"""Each test run gets a fresh SQLite database (or TEST_DATABASE_URL), migrated, before the app is imported."""

import asyncio
import os
import tempfile

# TEST_DATABASE_URL runs them on another database, e.g. an empty PostgreSQL one.
os.environ["HYPERDJANGO_DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='shop-test-')}/test.sqlite3"

from hyperdjango.migrations.executor import migrate  # noqa: E402

from shop.main import app  # noqa: E402

asyncio.run(migrate(app.database, "shop"))
