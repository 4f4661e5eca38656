"""hyperdjango.sync (asgiref's sync_to_async/async_to_sync), blocking views
that must not block the loop, and hyperdjango.profiling."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from hyperdjango import HyperApp
from hyperdjango.profiling import elapsed_nanos, nanos
from hyperdjango.sync import async_to_sync, sync_to_async
from hyperdjango.testing import TestClient

# -- sync_to_async / async_to_sync basics ------------------------------------------


async def test_sync_to_async_returns_the_function_result():
    def add(a, b=0):
        return a + b

    assert await sync_to_async(add)(1, b=2) == 3


async def test_sync_to_async_propagates_exceptions():
    def fail():
        raise LookupError("missing")

    with pytest.raises(LookupError, match="missing"):
        await sync_to_async(fail)()


async def test_sync_to_async_runs_off_the_loop_thread():
    loop_thread = threading.get_ident()
    for sensitive in (True, False):
        assert await sync_to_async(threading.get_ident, thread_sensitive=sensitive)() != loop_thread


async def test_sync_to_async_works_as_a_decorator():
    @sync_to_async
    def double(x):
        return x * 2

    assert await double(21) == 42


async def test_sync_to_async_sees_context_variables():
    import contextvars

    var = contextvars.ContextVar("var")
    var.set("outer")

    def read():
        return var.get()

    assert await sync_to_async(read)() == "outer"


def test_async_to_sync_runs_a_coroutine_function_from_sync_code():
    async def add(a, b):
        await asyncio.sleep(0)
        return a + b

    assert async_to_sync(add)(2, 3) == 5


def test_async_to_sync_propagates_exceptions():
    async def fail():
        raise KeyError("k")

    with pytest.raises(KeyError):
        async_to_sync(fail)()


async def test_async_to_sync_refuses_to_run_in_the_loop_thread():
    async def noop():
        return None

    with pytest.raises(RuntimeError):
        async_to_sync(noop)()


# -- thread_sensitive -------------------------------------------------------------


async def test_thread_sensitive_calls_share_one_thread():
    first = await sync_to_async(threading.get_ident, thread_sensitive=True)()
    second = await sync_to_async(threading.get_ident, thread_sensitive=True)()
    assert first == second


async def test_thread_sensitive_calls_run_one_at_a_time():
    active = 0
    peak = 0
    lock = threading.Lock()

    def work():
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.02)
        with lock:
            active -= 1

    await asyncio.gather(*(sync_to_async(work, thread_sensitive=True)() for _ in range(4)))
    assert peak == 1


async def test_thread_insensitive_calls_may_run_at_the_same_time():
    barrier = threading.Barrier(3, timeout=5)

    def meet():
        barrier.wait()  # breaks (BrokenBarrierError) unless all three run together
        return True

    results = await asyncio.gather(*(sync_to_async(meet, thread_sensitive=False)() for _ in range(3)))
    assert results == [True, True, True]


def test_thread_sensitive_code_runs_on_the_outer_sync_thread():
    main = threading.get_ident()

    async def inner():
        return await sync_to_async(threading.get_ident, thread_sensitive=True)()

    assert async_to_sync(inner)() == main


def test_thread_insensitive_code_does_not_run_on_the_outer_sync_thread():
    main = threading.get_ident()

    async def inner():
        return await sync_to_async(threading.get_ident, thread_sensitive=False)()

    assert async_to_sync(inner)() != main


def test_thread_sensitive_calls_from_different_views_share_one_thread():
    app = HyperApp()

    @app.get("/a")
    async def a(request):
        return {"t": await sync_to_async(threading.get_ident)()}

    @app.get("/b")
    async def b(request):
        return {"t": await sync_to_async(threading.get_ident)()}

    with TestClient(app) as c:
        assert c.get("/a").json() == c.get("/b").json()


def test_thread_insensitive_call_in_a_view_uses_the_apps_thread_pool():
    app = HyperApp()

    @app.get("/")
    async def view(request):
        return await sync_to_async(lambda: threading.current_thread().name, thread_sensitive=False)()

    with TestClient(app) as c:
        assert c.get("/").text.startswith("hyperdjango-sync")


def test_async_to_sync_inside_a_sync_view_runs_on_the_serving_loop():
    app = HyperApp()
    loops = {}

    async def fetch():
        loops["inner"] = asyncio.get_running_loop()
        return "fetched"

    @app.on_startup
    async def remember():
        loops["serving"] = asyncio.get_running_loop()

    @app.get("/")
    def view(request):
        return async_to_sync(fetch)()

    with TestClient(app) as c:
        assert c.get("/").text == "fetched"
    assert loops["inner"] is loops["serving"]


# -- blocking views do not block the loop --------------------------------------------


async def test_blocking_sync_view_does_not_block_an_async_view():
    app = HyperApp()
    entered = threading.Event()
    release = threading.Event()
    finished = []

    @app.get("/slow")
    def slow(request):
        entered.set()
        released = release.wait(timeout=5)
        return "released" if released else "timed out"

    @app.get("/fast")
    async def fast(request):
        return "fast"

    async with TestClient(app) as c:

        async def fetch(path):
            r = await c.get(path)
            finished.append((path, r.text))

        slow_task = asyncio.create_task(fetch("/slow"))
        assert await asyncio.to_thread(entered.wait, 5)
        await fetch("/fast")
        release.set()
        await slow_task
    assert finished == [("/fast", "fast"), ("/slow", "released")]


async def test_several_blocking_sync_views_run_in_parallel():
    app = HyperApp()
    barrier = threading.Barrier(3, timeout=5)

    @app.get("/meet")
    def meet(request):
        barrier.wait()  # BrokenBarrierError -> 500 unless three views run together
        return "met"

    async with TestClient(app) as c:
        responses = await asyncio.gather(*(c.get("/meet") for _ in range(3)))
    assert [r.text for r in responses] == ["met", "met", "met"]


# -- profiling ---------------------------------------------------------------------


def test_nanos_is_an_integer_that_never_goes_back():
    values = [nanos() for _ in range(1000)]
    assert all(isinstance(v, int) for v in values)
    assert values == sorted(values)


def test_elapsed_nanos_measures_at_least_the_time_slept():
    start = nanos()
    time.sleep(0.01)
    elapsed = elapsed_nanos(start)
    assert isinstance(elapsed, int)
    assert elapsed >= 10_000_000
