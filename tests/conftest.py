"""Fixtures every test module may use: real PostgreSQL and SQLite databases.

- ``pg_server``: the PostgreSQL server (see ``tests/support/postgres.py``).
- ``pg_url``: a fresh PostgreSQL database for the test module, dropped afterwards.
- ``sqlite_url``: a fresh SQLite file for the test module, removed afterwards.
- ``db_url``: parametrised over both backends, for backend-agnostic tests.
- ``db``: a connected ``Database`` on ``db_url``, closed after the test.
- ``redis_server`` / ``redis_url``: the Redis server (see ``tests/support/redis.py``).
"""

from __future__ import annotations

import os
import tempfile
import uuid

import pytest

from support.postgres import PgServer, find_or_start_server
from support import redis as redis_support

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def pg_server():
    server = find_or_start_server()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pg_url(pg_server: PgServer):
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture(scope="module")
def sqlite_url():
    path = os.path.join(tempfile.gettempdir(), f"hd_test_{uuid.uuid4().hex[:12]}.sqlite3")
    yield f"sqlite:///{path}"
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


@pytest.fixture(scope="module", params=BACKENDS)
def db_url(request):
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgres": "pg_url"}[request.param])


@pytest.fixture
async def db(db_url):
    from hyperdjango.database import Database

    database = Database(db_url)
    await database.connect()
    yield database
    await database.close()


@pytest.fixture(scope="session")
def redis_server():
    try:
        server = redis_support.find_or_start_server()
    except RuntimeError as exc:
        if os.environ.get("HYPERDJANGO_REQUIRE_REDIS"):
            raise
        pytest.skip(f"no Redis server: {exc}")
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    return redis_server.url


@pytest.fixture
def throwaway_redis():
    """A redis-server of this test's own, which the test may kill and start again."""
    server = redis_support.start_throwaway()
    yield server
    server.stop()
