"""Auth test helpers: an app with sessions and auth on a real database, migrated."""

from __future__ import annotations

import pytest

from hyperdjango import HyperApp
from hyperdjango.auth import AuthenticationMiddleware
from hyperdjango.migrations import migrate
from hyperdjango.sessions import SessionMiddleware

SECRET = "test secret key, not for production"


def auth_app(db_url: str, engine: str = "db", **session_options) -> HyperApp:
    """A HyperApp on ``db_url`` with SessionMiddleware(engine) and AuthenticationMiddleware;
    the built-in apps are migrated when it starts."""
    app = HyperApp(database=db_url, secret_key=SECRET)
    app.use(SessionMiddleware(engine=engine, **session_options))
    app.use(AuthenticationMiddleware())

    @app.on_startup
    async def migrated():
        await migrate(app.database, "hyperdjango.sessions", "hyperdjango.auth")

    return app


@pytest.fixture
def make_app(db_url):
    return lambda engine="db", **options: auth_app(db_url, engine, **options)
