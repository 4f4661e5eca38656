"""ORM test fixtures. Each test module declares its models and seeds its own tables
(helpers in ``support/orm.py``); ``db`` (from ``tests/conftest.py``) is parametrised
over SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from hyperdjango.database import connection as _connection


@pytest.fixture
def as_default(db):
    """Makes ``db`` the process default database (what ``Model.objects`` uses) for one test."""
    previous = _connection._default
    _connection.set_default_database(db)
    yield db
    _connection._default = previous
