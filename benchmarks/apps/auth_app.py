"""The app of benchmarks/auth_bench.py: one cheap view, behind the middleware a variant names.

``AUTH_BENCH_VARIANT``: ``bare`` (no middleware), ``cookie`` (signed-cookie sessions +
AuthenticationMiddleware) or ``db`` (database sessions + AuthenticationMiddleware), on the
SQLite file ``AUTH_BENCH_DATABASE``. ``POST /bench-login`` logs the benchmark user in so
that measured requests carry a real session and load a real user.
"""

from __future__ import annotations

import os

from hyperdjango import HyperApp
from hyperdjango.auth import AuthenticationMiddleware, User, authenticate, login
from hyperdjango.sessions import SessionMiddleware

VARIANT = os.environ.get("AUTH_BENCH_VARIANT", "bare")
app = HyperApp(database=os.environ.get("AUTH_BENCH_DATABASE", "sqlite:///auth_bench.sqlite3"), secret_key="bench only")
if VARIANT != "bare":
    app.use(SessionMiddleware(engine="signed_cookies" if VARIANT == "cookie" else "db"))
    app.use(AuthenticationMiddleware())


@app.get("/json")
async def json_view(request):
    user = getattr(request, "user", None)
    return {"message": "Hello, World!", "user": None if user is None else user.username}


@app.post("/bench-login")
async def bench_login(request):
    if await User.objects.filter(username="bench").first() is None:
        user = User(username="bench")
        await user.set_password("bench passphrase")
        await user.save()
    await login(request, await authenticate(request, username="bench", password="bench passphrase"))
    return {}
