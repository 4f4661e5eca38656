"""Middleware: the spec's ``(request, next_handler)`` shape, Django's
``Mw(get_response)`` shape (async and sync), order, short-circuit, and
changing the request and the response."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest

from hyperdjango import HTTPException, HyperApp, Response
from hyperdjango.testing import TestClient

# -- the spec's middleware, as written in "Async Middleware" --------------------------

TOKENS = {"good-token": {"id": 1, "name": "alice"}}


async def verify_token(token):
    await asyncio.sleep(0)
    return TOKENS.get(token)


class TimingMiddleware:
    async def __call__(self, request, next_handler):
        from hyperdjango.profiling import nanos, elapsed_nanos

        start = nanos()
        response = await next_handler(request)
        elapsed = elapsed_nanos(start)

        response.headers["x-response-time"] = f"{elapsed / 1_000_000:.2f}ms"
        return response


class AuthMiddleware:
    async def __call__(self, request, next_handler):
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not token:
            return Response.json({"error": "Unauthorized"}, status=401)

        user = await verify_token(token)
        if user is None:
            return Response.json({"error": "Invalid token"}, status=401)

        request.user = user
        return await next_handler(request)


def spec_app():
    app = HyperApp()
    app.use(TimingMiddleware())
    app.use(AuthMiddleware())

    @app.get("/me")
    async def me(request):
        return request.user

    return app


def test_timing_middleware_adds_response_time_header():
    with TestClient(spec_app()) as c:
        r = c.get("/me", headers={"authorization": "Bearer good-token"})
    assert r.status_code == 200
    assert re.fullmatch(r"\d+\.\d{2}ms", r.headers["x-response-time"])


def test_auth_middleware_without_token_answers_401():
    with TestClient(spec_app()) as c:
        r = c.get("/me")
    assert r.status_code == 401
    assert r.json() == {"error": "Unauthorized"}


def test_auth_middleware_with_invalid_token_answers_401():
    with TestClient(spec_app()) as c:
        r = c.get("/me", headers={"authorization": "Bearer wrong"})
    assert r.status_code == 401
    assert r.json() == {"error": "Invalid token"}


def test_auth_middleware_sets_request_user_for_the_view():
    with TestClient(spec_app()) as c:
        r = c.get("/me", headers={"authorization": "Bearer good-token"})
    assert r.json() == {"id": 1, "name": "alice"}


def test_outer_timing_middleware_times_a_short_circuited_response():
    with TestClient(spec_app()) as c:
        r = c.get("/me")
    assert r.status_code == 401
    assert "x-response-time" in r.headers


# -- order and control flow --------------------------------------------------------


def recording(name, log):
    async def mw(request, next_handler):
        log.append(f"{name} in")
        response = await next_handler(request)
        log.append(f"{name} out")
        return response

    return mw


def test_first_added_middleware_is_outermost():
    app = HyperApp()
    log = []
    app.use(recording("a", log))
    app.use(recording("b", log))
    app.use(recording("c", log))

    @app.get("/")
    async def view(request):
        log.append("view")
        return ""

    with TestClient(app) as c:
        c.get("/")
    assert log == ["a in", "b in", "c in", "view", "c out", "b out", "a out"]


def test_short_circuit_skips_inner_middleware_and_view():
    app = HyperApp()
    log = []

    async def gate(request, next_handler):
        log.append("gate")
        return Response.text("closed", status=503)

    app.use(gate)
    app.use(recording("inner", log))

    @app.get("/")
    async def view(request):
        log.append("view")
        return ""

    with TestClient(app) as c:
        r = c.get("/")
    assert (r.status_code, r.text) == (503, "closed")
    assert log == ["gate"]


def test_middleware_can_change_the_request_seen_by_the_view():
    app = HyperApp()

    async def tenant(request, next_handler):
        request.tenant = request.headers.get("x-tenant", "default")
        return await next_handler(request)

    app.use(tenant)

    @app.get("/")
    async def view(request):
        return request.tenant

    with TestClient(app) as c:
        assert c.get("/", headers={"x-tenant": "acme"}).text == "acme"


def test_middleware_can_replace_the_response():
    app = HyperApp()

    async def wrap(request, next_handler):
        response = await next_handler(request)
        return Response.json({"wrapped": response.body.decode(), "status": response.status_code}, status=200)

    app.use(wrap)

    @app.get("/")
    async def view(request):
        return "inner", 201

    with TestClient(app) as c:
        assert c.get("/").json() == {"wrapped": "inner", "status": 201}


def test_middleware_sees_the_view_return_value_as_a_response():
    app = HyperApp()
    seen = []

    async def inspect(request, next_handler):
        response = await next_handler(request)
        seen.append((type(response).__name__, response.status_code, response.headers["content-type"]))
        return response

    app.use(inspect)

    @app.get("/")
    async def view(request):
        return {"a": 1}

    with TestClient(app) as c:
        c.get("/")
    assert seen == [("Response", 200, "application/json")]


def test_middleware_may_return_a_plain_value():
    app = HyperApp()

    async def answer(request, next_handler):
        return {"from": "middleware"}

    app.use(answer)

    @app.get("/")
    async def view(request):
        return ""

    with TestClient(app) as c:
        assert c.get("/").json() == {"from": "middleware"}


def test_middleware_runs_for_404_and_sees_the_404_response():
    app = HyperApp()

    async def tag(request, next_handler):
        response = await next_handler(request)
        response.headers["x-seen"] = str(response.status_code)
        return response

    app.use(tag)

    with TestClient(app) as c:
        r = c.get("/nowhere")
    assert r.status_code == 404
    assert r.headers["x-seen"] == "404"


def test_middleware_sees_http_exception_of_the_view_as_a_response():
    app = HyperApp()

    async def tag(request, next_handler):
        response = await next_handler(request)
        response.headers["x-seen"] = str(response.status_code)
        return response

    app.use(tag)

    @app.get("/")
    async def view(request):
        raise HTTPException(409, "conflict")

    with TestClient(app) as c:
        r = c.get("/")
    assert r.status_code == 409
    assert r.headers["x-seen"] == "409"


def test_middleware_can_do_async_work():
    app = HyperApp()

    async def slow(request, next_handler):
        await asyncio.sleep(0.01)
        request.state.waited = True
        return await next_handler(request)

    app.use(slow)

    @app.get("/")
    async def view(request):
        return {"waited": request.state.waited}

    with TestClient(app) as c:
        assert c.get("/").json() == {"waited": True}


def test_middleware_class_is_instantiated_when_added_as_a_class():
    app = HyperApp()

    class Tag:
        async def __call__(self, request, next_handler):
            response = await next_handler(request)
            response.headers["x-tag"] = "class"
            return response

    app.use(Tag)

    @app.get("/")
    async def view(request):
        return ""

    with TestClient(app) as c:
        assert c.get("/").headers["x-tag"] == "class"


def test_sync_spec_shaped_middleware_is_rejected():
    app = HyperApp()

    def not_async(request, next_handler):
        return next_handler(request)

    app.use(not_async)

    @app.get("/")
    async def view(request):
        return ""

    with pytest.raises(TypeError, match="async"):
        with TestClient(app):
            pass


def test_exception_in_middleware_is_a_500_and_the_server_keeps_serving():
    app = HyperApp()

    async def broken(request, next_handler):
        if request.path == "/boom":
            raise RuntimeError("middleware failed")
        return await next_handler(request)

    app.use(broken)

    @app.get("/{name}")
    async def view(request):
        return "ok"

    with TestClient(app) as c:
        assert c.get("/boom").status_code == 500
        assert c.get("/fine").text == "ok"


def test_http_exception_raised_in_middleware_answers_its_status():
    app = HyperApp()

    async def guard(request, next_handler):
        raise HTTPException(403, "forbidden here", headers={"x-reason": "guard"})

    app.use(guard)

    @app.get("/")
    async def view(request):
        return ""

    with TestClient(app) as c:
        r = c.get("/")
    assert r.status_code == 403
    assert r.json() == {"detail": "forbidden here"}
    assert r.headers["x-reason"] == "guard"


def test_outer_middleware_sees_http_exception_of_inner_middleware_as_a_response():
    app = HyperApp()
    app.use(TimingMiddleware())

    async def guard(request, next_handler):
        raise HTTPException(401, "login first")

    app.use(guard)

    @app.get("/")
    async def view(request):
        return ""

    with TestClient(app) as c:
        r = c.get("/")
    assert r.status_code == 401
    assert "x-response-time" in r.headers


def test_custom_exception_handler_applies_to_exceptions_from_middleware():
    app = HyperApp()

    class Maintenance(Exception):
        pass

    @app.exception_handler(Maintenance)
    async def on_maintenance(request, exc):
        return Response.json({"maintenance": True}, status=503)

    async def gate(request, next_handler):
        raise Maintenance()

    app.use(gate)

    @app.get("/")
    async def view(request):
        return ""

    with TestClient(app) as c:
        r = c.get("/")
    assert r.status_code == 503
    assert r.json() == {"maintenance": True}


# -- Django-shaped middleware ------------------------------------------------------


def test_django_async_middleware_class_wraps_the_view():
    app = HyperApp()

    class AsyncHeader:
        def __init__(self, get_response):
            self.get_response = get_response

        async def __call__(self, request):
            request.state.before = "set"
            response = await self.get_response(request)
            response.headers["x-django"] = "async"
            return response

    app.use(AsyncHeader)

    @app.get("/")
    async def view(request):
        return request.state.before

    with TestClient(app) as c:
        r = c.get("/")
    assert r.text == "set"
    assert r.headers["x-django"] == "async"


def test_django_async_middleware_can_short_circuit():
    app = HyperApp()
    called = []

    class Block:
        def __init__(self, get_response):
            self.get_response = get_response

        async def __call__(self, request):
            return Response.text("blocked", status=403)

    app.use(Block)

    @app.get("/")
    async def view(request):
        called.append(True)
        return ""

    with TestClient(app) as c:
        assert c.get("/").status_code == 403
    assert called == []


def test_django_sync_middleware_class_wraps_the_view():
    app = HyperApp()

    class SyncHeader:
        def __init__(self, get_response):
            self.get_response = get_response

        def __call__(self, request):
            request.state.before = "sync"
            response = self.get_response(request)
            response.headers["x-django"] = "sync"
            return response

    app.use(SyncHeader)

    @app.get("/")
    async def view(request):
        return request.state.before

    with TestClient(app) as c:
        r = c.get("/")
    assert r.text == "sync"
    assert r.headers["x-django"] == "sync"


def test_django_sync_middleware_runs_off_the_loop_and_the_async_view_on_it():
    app = HyperApp()
    threads = {}

    class Record:
        def __init__(self, get_response):
            self.get_response = get_response

        def __call__(self, request):
            threads["middleware"] = threading.get_ident()
            return self.get_response(request)

    async def loop_thread(request, next_handler):
        threads["loop"] = threading.get_ident()
        return await next_handler(request)

    app.use(loop_thread)
    app.use(Record)

    @app.get("/")
    async def view(request):
        threads["view"] = threading.get_ident()
        return ""

    with TestClient(app) as c:
        assert c.get("/").status_code == 200
    assert threads["middleware"] != threads["loop"]
    assert threads["view"] == threads["loop"]


def test_django_sync_function_factory_middleware():
    app = HyperApp()

    def simple_middleware(get_response):
        def middleware(request):
            response = get_response(request)
            response.headers["x-factory"] = "yes"
            return response

        return middleware

    app.use(simple_middleware)

    @app.get("/")
    async def view(request):
        return "ok"

    with TestClient(app) as c:
        r = c.get("/")
    assert r.text == "ok"
    assert r.headers["x-factory"] == "yes"


def test_django_async_capable_function_factory_middleware():
    app = HyperApp()

    def both(get_response):
        if asyncio.iscoroutinefunction(get_response):

            async def middleware(request):
                response = await get_response(request)
                response.headers["x-mode"] = "async"
                return response

        else:

            def middleware(request):
                response = get_response(request)
                response.headers["x-mode"] = "sync"
                return response

        return middleware

    both.sync_capable = True
    both.async_capable = True
    app.use(both)

    @app.get("/")
    async def view(request):
        return "ok"

    with TestClient(app) as c:
        assert c.get("/").headers["x-mode"] == "async"


def test_django_and_spec_middleware_mix_in_order():
    app = HyperApp()
    log = []

    class DjangoMw:
        def __init__(self, get_response):
            self.get_response = get_response

        async def __call__(self, request):
            log.append("django in")
            response = await self.get_response(request)
            log.append("django out")
            return response

    app.use(recording("outer", log))
    app.use(DjangoMw)
    app.use(recording("inner", log))

    @app.get("/")
    async def view(request):
        log.append("view")
        return ""

    with TestClient(app) as c:
        c.get("/")
    assert log == ["outer in", "django in", "inner in", "view", "inner out", "django out", "outer out"]


def test_django_sync_middleware_with_a_sync_view():
    app = HyperApp()

    class Upper:
        def __init__(self, get_response):
            self.get_response = get_response

        def __call__(self, request):
            response = self.get_response(request)
            response.body = response.body.upper()
            return response

    app.use(Upper)

    @app.get("/")
    def view(request):
        return "shout"

    with TestClient(app) as c:
        assert c.get("/").text == "SHOUT"


def test_an_inner_middleware_returning_a_dict_gives_the_outer_one_a_response():
    app = HyperApp()
    seen = []

    class Outer:
        async def __call__(self, request, next_handler):
            response = await next_handler(request)
            seen.append(type(response).__name__)
            response.headers["x-outer"] = "1"
            return response

    class Inner:
        async def __call__(self, request, next_handler):
            return {"short": "circuit"}

    app.use(Outer())
    app.use(Inner())

    @app.get("/x")
    async def view(request):
        return "unreached"

    with TestClient(app) as c:
        r = c.get("/x")
    assert r.json() == {"short": "circuit"} and r.headers["x-outer"] == "1"
    assert seen == ["Response"]


def test_unhandled_view_exception_passes_back_through_every_middleware_as_a_500():
    # Django converts the exception inside each layer, so the middleware
    # outside a failing view sees a 500 response and can add its headers.
    app = HyperApp()
    seen = []

    async def outer(request, next_handler):
        response = await next_handler(request)
        seen.append(("outer", response.status_code))
        response.headers["x-outer"] = "yes"
        return response

    async def inner(request, next_handler):
        response = await next_handler(request)
        seen.append(("inner", response.status_code))
        response.headers["x-inner"] = "yes"
        return response

    app.use(outer)
    app.use(inner)

    @app.get("/boom")
    async def boom(request):
        raise RuntimeError("view failed")

    with TestClient(app) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal Server Error"}
    assert r.headers["x-outer"] == "yes" and r.headers["x-inner"] == "yes"
    assert seen == [("inner", 500), ("outer", 500)]


def test_unhandled_middleware_exception_is_a_500_the_outer_middleware_sees():
    app = HyperApp()

    async def outer(request, next_handler):
        response = await next_handler(request)
        response.headers["x-outer"] = str(response.status_code)
        return response

    async def broken(request, next_handler):
        raise RuntimeError("middleware failed")

    app.use(outer)
    app.use(broken)

    @app.get("/")
    async def index(request):
        return {}

    with TestClient(app) as c:
        r = c.get("/")
    assert r.status_code == 500 and r.headers["x-outer"] == "500"
