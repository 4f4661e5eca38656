"""Each test run gets a fresh SQLite database (or TEST_DATABASE_URL), migrated, before the app is imported."""

import asyncio
import os
import re
import tempfile
from urllib.parse import urlencode

import pytest

# TEST_DATABASE_URL runs them on another database, e.g. an empty PostgreSQL one.
os.environ["HYPERDJANGO_DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='shop-test-')}/test.sqlite3"
os.environ.setdefault("HYPERDJANGO_SECRET_KEY", "a secret for the tests only")

from hyperdjango.auth import Permission, User, create_token  # noqa: E402
from hyperdjango.auth.permissions import create_permissions  # noqa: E402
from hyperdjango.migrations.apps import app_for  # noqa: E402
from hyperdjango.migrations.executor import migrate  # noqa: E402

from shop.main import app  # noqa: E402


async def migrate_all():
    """What ``hyper migrate shop.main`` does: the sessions' and users' tables, the shop's, and
    the shop's permissions (``shop.add_product``...)."""
    await migrate(app.database, "hyperdjango.sessions", "hyperdjango.auth", "shop")
    await create_permissions(app.database, app_for("shop").models)


asyncio.run(migrate_all())

#: The hidden field that CSRFMiddleware checks, as the templates' ``{{ csrf_input }}`` writes it.
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">')


@pytest.fixture
def csrf_token():
    """``csrf_token(client, path)``: opens the page at ``path`` as a browser would, and returns
    the CSRF token its form carries (the client keeps the cookie that goes with it)."""
    def token_of(client, path):
        page = client.get(path)
        assert page.status_code in (200, 400), page.status_code
        return CSRF_INPUT.search(page.text).group(1)
    return token_of


@pytest.fixture
def log_in(csrf_token):
    """``log_in(client, username, password)``: logs in through the login form."""
    def log_in(client, username, password, next=""):
        token = csrf_token(client, "/accounts/login/")
        query = "?" + urlencode({"next": next}) if next else ""
        return client.post(f"/accounts/login/{query}", data={
            "csrfmiddlewaretoken": token, "username": username, "password": password,
        }, follow_redirects=False)
    return log_in


async def user_with_token(username, *perms):
    """A user with these permissions, and an API token for it: the headers of its requests."""
    user = User(username=username, email=f"{username}@example.com")
    await user.save()  # no password: it uses the API only
    for perm in perms:
        app_label, codename = perm.split(".")
        await user.user_permissions.add(await Permission.objects.get(app_label=app_label, codename=codename))
    token, _ = await create_token(user, name="tests")
    return {"authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def stocker():
    """The headers of an API client allowed to add products."""
    return asyncio.run(user_with_token("stocker", "shop.add_product"))


@pytest.fixture(scope="session")
def customer():
    """The headers of an API client with no permissions."""
    return asyncio.run(user_with_token("customer"))
