"""Depends: async and sync providers, per-request caching, yield cleanup, route and router level."""

import threading

import pytest

from hyperdjango import HTTPException, HyperApp, Router
from hyperdjango.params import Depends, Header, Query
from hyperdjango.testing import TestClient


def test_async_and_sync_providers_with_their_own_parameters():
    app = HyperApp(database="sqlite://:memory:")
    threads = []

    async def pagination(limit: int = 10, offset: int = 0):
        return {"limit": limit, "offset": offset}

    def token(x_token: str = Header()):
        threads.append(threading.current_thread().name)
        return x_token

    @app.get("/items")
    async def items(page: dict = Depends(pagination), tok: str = Depends(token)):
        return {"page": page, "token": tok}

    with TestClient(app) as client:
        r = client.get("/items?limit=5", headers={"x-token": "t"})
        assert r.json() == {"page": {"limit": 5, "offset": 0}, "token": "t"}
        assert threads[0].startswith("hyperdjango-sync")  # a sync provider never blocks the loop
        missing = client.get("/items?limit=x")
        assert missing.status_code == 422
        assert {tuple(e["loc"]) for e in missing.json()["detail"]} == {("query", "limit"), ("header", "x-token")}


def test_a_provider_runs_once_per_request_unless_told_otherwise():
    app = HyperApp(database="sqlite://:memory:")
    calls = {"cached": 0, "fresh": 0}

    async def cached():
        calls["cached"] += 1
        return calls["cached"]

    async def fresh():
        calls["fresh"] += 1
        return calls["fresh"]

    async def uses_both(a: int = Depends(cached), b: int = Depends(fresh, use_cache=False)):
        return a, b

    @app.get("/")
    async def view(a: int = Depends(cached), b: int = Depends(fresh, use_cache=False), both=Depends(uses_both)):
        return {"a": a, "b": b, "both": list(both)}

    with TestClient(app) as client:
        assert client.get("/").json() == {"a": 1, "b": 1, "both": [1, 2]}
        assert client.get("/").json() == {"a": 2, "b": 3, "both": [2, 4]}  # a new request, a new cache


def test_yield_dependencies_clean_up_after_the_response_and_on_exceptions():
    app = HyperApp(database="sqlite://:memory:")
    events = []

    async def session():
        events.append("open")
        try:
            yield "session"
        except HTTPException as exc:
            events.append(f"rollback {exc.status_code}")
            raise
        finally:
            events.append("close")

    def sync_resource():
        events.append("sync open")
        yield "resource"
        events.append("sync close")

    @app.get("/ok")
    async def ok(s: str = Depends(session), r: str = Depends(sync_resource)):
        events.append("view")
        return {"s": s, "r": r}

    @app.get("/fails")
    async def fails(s: str = Depends(session)):
        raise HTTPException(409, "conflict")

    @app.get("/crashes")
    async def crashes(s: str = Depends(session)):
        raise RuntimeError("boom")

    with TestClient(app) as client:
        assert client.get("/ok").json() == {"s": "session", "r": "resource"}
        assert events == ["open", "sync open", "view", "sync close", "close"]
        events.clear()
        assert client.get("/fails").status_code == 409
        assert events == ["open", "rollback 409", "close"]
        events.clear()
        assert client.get("/crashes").status_code == 500
        assert events == ["open", "close"]


def test_route_and_router_level_dependencies_guard_every_view():
    app = HyperApp(database="sqlite://:memory:")
    seen = []

    async def require_key(api_key: str | None = Query(None)):
        if api_key != "k":
            raise HTTPException(403, "bad key")

    async def log_call():
        seen.append("logged")

    admin = Router(prefix="/admin", dependencies=[Depends(require_key)], tags=["admin"])

    @admin.get("/stats")
    async def stats(request):
        return {"ok": True}

    app.include_router(admin, dependencies=[Depends(log_call)])

    @app.get("/audited", dependencies=[Depends(log_call)])
    async def audited(request):
        return {"audited": True}

    with TestClient(app) as client:
        assert client.get("/admin/stats").status_code == 403
        assert client.get("/admin/stats?api_key=k").json() == {"ok": True}
        assert client.get("/audited").json() == {"audited": True}
        assert seen == ["logged", "logged", "logged"]
    assert app.routes[0].options["tags"] == ["admin"]


def test_validation_errors_of_a_provider_stop_the_view():
    app = HyperApp(database="sqlite://:memory:")
    called = []

    async def needs_int(n: int):
        called.append("provider")
        return n

    @app.get("/")
    async def view(n: int = Depends(needs_int)):
        called.append("view")
        return {"n": n}

    with TestClient(app) as client:
        assert client.get("/?n=x").status_code == 422
        assert called == []
        assert client.get("/?n=3").json() == {"n": 3}


@pytest.mark.parametrize("path", ["/?n=1", "/"])
def test_the_validation_error_format_can_be_replaced_per_app(path):
    from hyperdjango.validation import RequestValidationError

    app = HyperApp(database="sqlite://:memory:")

    @app.exception_handler(RequestValidationError)
    def errors_by_field(request, exc):
        return {"errors": {".".join(map(str, e["loc"][1:])): e["msg"] for e in exc.errors}}, 400

    @app.get("/")
    async def view(n: int, m: int):
        return {}

    with TestClient(app) as client:
        r = client.get(path)
        assert r.status_code == 400
        assert r.json()["errors"]["m"] == "Field required"


def test_the_http_exception_handler_can_be_replaced():
    app = HyperApp(database="sqlite://:memory:")

    @app.exception_handler(HTTPException)
    def problem(request, exc):
        return {"title": exc.detail, "status": exc.status_code}, exc.status_code

    @app.get("/gone")
    async def gone(request):
        raise HTTPException(410)

    with TestClient(app) as client:
        assert client.get("/gone").json() == {"title": "Gone", "status": 410}


def test_a_decorated_typed_handler_is_called_with_its_original_signature():
    import functools

    app = HyperApp(database="sqlite://:memory:")

    def require_header(view):
        @functools.wraps(view)
        async def wrapper(request, *args, **kwargs):
            if "x-allowed" not in request.headers:
                raise HTTPException(403)
            return await view(request, *args, **kwargs)

        return wrapper

    @app.get("/guarded")
    @require_header
    async def guarded(request, n: int):
        return {"n": n}

    with TestClient(app) as client:
        assert client.get("/guarded?n=2").status_code == 403
        assert client.get("/guarded?n=2", headers={"x-allowed": "1"}).json() == {"n": 2}
        assert client.get("/guarded?n=x", headers={"x-allowed": "1"}).status_code == 422
