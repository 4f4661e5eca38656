"""HyperApp and its database: the default, start-up connection, views using it."""

from __future__ import annotations

import os

from hyperdjango import HyperApp
from hyperdjango.database import Database, default_database
from hyperdjango.testing import TestClient


def test_the_embedded_default_is_sqlite_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = HyperApp()
    assert app.database.url == "sqlite:///db.sqlite3"
    assert default_database() is app.database
    with TestClient(app):
        pass
    assert os.path.exists(tmp_path / "db.sqlite3")


def test_the_last_app_created_sets_the_default(db_url):
    first = HyperApp(database="sqlite://:memory:")
    second = HyperApp(database=db_url)
    assert default_database() is second.database
    assert isinstance(first.database, Database)


def test_views_use_the_app_database(db_url):
    app = HyperApp(database=db_url)

    @app.on_startup
    async def schema():
        await app.database.execute("DROP TABLE IF EXISTS hits")
        await app.database.execute("CREATE TABLE hits (n INTEGER)")

    @app.post("/hit")
    async def hit(request):
        await app.database.execute("INSERT INTO hits VALUES (1)")
        return {"hits": await app.database.query_val("SELECT count(*) FROM hits")}

    with TestClient(app) as client:
        assert client.post("/hit").json() == {"hits": 1}
        assert client.post("/hit").json() == {"hits": 2}
