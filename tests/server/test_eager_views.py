"""A view's first step runs eagerly, in the loop callback that took the request
(on 3.11 without a Task until it suspends): asyncio's task semantics still hold
from its first line, through suspension, and exceptions still become 500s
through every middleware."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from hyperdjango import HyperApp
from hyperdjango.testing import TestClient

app = HyperApp(title="eager")
seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="unset")


async def stamping(request, next_handler):
    response = await next_handler(request)
    response.headers["x-outer"] = "seen"
    return response


app.use(stamping)


@app.get("/instant")
async def instant(request):
    task = asyncio.current_task()
    async with asyncio.timeout(5):  # needs a current task: raises outside one
        pass
    return {"is_task": isinstance(task, asyncio.Task), "done": task.done()}


@app.get("/suspends")
async def suspends(request):
    before = asyncio.current_task()
    await asyncio.sleep(0.001)
    after = asyncio.current_task()
    await asyncio.sleep(0)
    return {"same_task": before is after, "is_task": isinstance(after, asyncio.Task), "done": after.done()}


@app.get("/times-out")
async def times_out(request):
    try:
        async with asyncio.timeout(0.01):  # entered in the first step, expires after it
            await asyncio.sleep(5)
    except TimeoutError:
        return {"timed_out": True, "cancelling": asyncio.current_task().cancelling()}
    return {"timed_out": False}


@app.get("/cancels-itself")
async def cancels_itself(request):
    asyncio.current_task().cancel()
    try:
        await asyncio.sleep(5)
    except asyncio.CancelledError:
        return {"cancelled": True}
    return {"cancelled": False}


@app.get("/task-group")
async def task_group(request):
    async def child(n):
        await asyncio.sleep(0)
        return n * 2

    async with asyncio.TaskGroup() as group:  # entered in the first step: its parent is the view's task
        doubled = [group.create_task(child(n)) for n in (1, 2)]
    return {"doubled": [t.result() for t in doubled]}


@app.get("/task-group-fails")
async def task_group_fails(request):
    async def failing():
        await asyncio.sleep(0)
        raise ValueError("child")

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(failing())
            group.create_task(asyncio.sleep(5))  # cancelled when its sibling fails
    except ExceptionGroup as failure:
        return {"failed": [str(e) for e in failure.exceptions]}
    return {"failed": []}


@app.get("/raises-at-once")
async def raises_at_once(request):
    raise RuntimeError("first step")


@app.get("/raises-after-suspending")
async def raises_after_suspending(request):
    await asyncio.sleep(0)
    raise RuntimeError("second step")


@app.get("/context/{value}")
async def context(request):
    previous = seen.get()
    seen.set(request.params["value"])
    await asyncio.sleep(0)
    return {"previous": previous, "now": seen.get()}


@pytest.fixture(scope="module")
def client():
    with TestClient(app) as c:
        yield c


def test_a_view_that_never_suspends_has_a_current_task(client):
    r = client.get("/instant")
    assert r.status_code == 200
    assert r.json() == {"is_task": True, "done": False}


def test_a_view_that_suspends_keeps_one_current_task_throughout(client):
    assert client.get("/suspends").json() == {"same_task": True, "is_task": True, "done": False}


def test_a_timeout_entered_in_the_first_step_cancels_the_view_later(client):
    assert client.get("/times-out").json() == {"timed_out": True, "cancelling": 0}


def test_a_view_that_cancels_itself_in_the_first_step_is_cancelled_at_its_next_await(client):
    assert client.get("/cancels-itself").json() == {"cancelled": True}


def test_a_task_group_entered_in_the_first_step_runs_its_children(client):
    assert client.get("/task-group").json() == {"doubled": [2, 4]}


def test_a_failing_child_cancels_its_siblings_and_the_view_sees_the_error(client):
    assert client.get("/task-group-fails").json() == {"failed": ["child"]}


@pytest.mark.parametrize("path", ["/raises-at-once", "/raises-after-suspending"])
def test_an_exception_is_a_500_through_every_middleware(client, path):
    r = client.get(path)
    assert r.status_code == 500
    assert r.headers["x-outer"] == "seen"


def test_each_request_has_its_own_context_from_the_first_step(client):
    assert client.get("/context/a").json() == {"previous": "unset", "now": "a"}
    assert client.get("/context/b").json() == {"previous": "unset", "now": "b"}


def test_many_concurrent_requests_that_suspend_all_answer(client):
    async def many():
        import httpx

        async with httpx.AsyncClient(base_url=client.base_url) as http:
            return await asyncio.gather(*(http.get("/suspends") for _ in range(50)))

    responses = asyncio.run(many())
    assert [r.status_code for r in responses] == [200] * 50
