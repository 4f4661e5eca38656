"""The spec's "Background Tasks", "Task Queue Configuration", "Task Stats" and
"Calling Tasks Directly" examples, run as written against a real server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from hyperdjango import HyperApp, Response
from hyperdjango.testing import TestClient


def make_app() -> tuple[HyperApp, list, asyncio.Event, Any]:
    app = HyperApp(database="sqlite://:memory:", task_workers=8, task_queue_size=10000)
    sent: list[tuple[int, str]] = []
    done = asyncio.Event()

    @app.task
    async def send_welcome_email(user_id, email):
        """Runs in a background worker."""
        sent.append((user_id, email))
        done.set()

    @app.post("/api/register")
    async def register(request):
        data = await request.json()
        user_id = 41 + len(sent)
        # Enqueue background task -- returns immediately
        send_welcome_email.delay(user_id=user_id, email=data["email"])
        return Response.json({"id": user_id}, status=201)

    @app.get("/api/admin/task-stats")
    async def task_stats(request):
        stats = app.task_queue.stats
        return Response.json({
            "pending": stats["pending"],
            "processed": stats["processed"],
            "failed": stats["failed"],
            "workers": stats["workers"],
            "running": stats["running"],
        })

    return app, sent, done, send_welcome_email


async def test_a_view_enqueues_a_task_that_runs_in_the_background():
    app, sent, done, _ = make_app()
    async with TestClient(app) as client:
        response = await client.post("/api/register", json={"name": "Alice", "email": "alice@example.com"})
        assert response.status_code == 201
        await asyncio.wait_for(done.wait(), 10)
    assert sent == [(41, "alice@example.com")]


async def test_the_queue_starts_with_the_app_and_reports_stats():
    app, sent, done, _ = make_app()
    assert app.task_queue.pool is None
    async with TestClient(app) as client:
        assert app.task_queue.pool is not None
        await client.post("/api/register", json={"name": "Bob", "email": "bob@example.com"})
        await asyncio.wait_for(done.wait(), 10)
        for _ in range(100):  # the outcome is recorded just after the task returns
            stats = (await client.get("/api/admin/task-stats")).json()
            if stats["processed"] == 1:
                break
            await asyncio.sleep(0.01)
    assert stats == {"pending": 0, "processed": 1, "failed": 0, "workers": 8, "running": 0}
    assert app.task_queue.pool is None  # stopped with the server


async def test_calling_a_task_directly_runs_it_inline():
    app, sent, _, send_welcome_email = make_app()
    await send_welcome_email(user_id=1, email="alice@example.com")
    assert sent == [(1, "alice@example.com")]
    assert app.task_queue.stats["pending"] == 0


def test_the_queue_runs_under_the_threaded_test_client_too():
    app, sent, _, _ = make_app()
    with TestClient(app) as client:
        assert client.post("/api/register", json={"name": "C", "email": "c@example.com"}).status_code == 201
        for _ in range(500):
            if sent:
                break
            time.sleep(0.01)
    assert sent == [(41, "c@example.com")]


async def test_a_view_enqueues_in_its_transaction_and_the_apps_workers_run_it_on_the_database_backend(db_url):
    from hyperdjango.database import atomic

    app = HyperApp(database=db_url, task_workers=2, task_backend="database")
    done = asyncio.Event()
    shipped = []

    @app.task
    async def ship(order_id):
        shipped.append(order_id)
        done.set()

    @app.post("/api/orders")
    async def create_order(request):
        data = await request.json()
        async with atomic(app.database):
            await app.database.execute("INSERT INTO orders (id) VALUES ($1)", data["id"])
            ship.delay(order_id=data["id"])
            if data.get("fail"):
                raise ValueError("payment declined")  # rolls back the order and its job
        return Response.json({"id": data["id"]}, status=201)

    await app.database.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY)")
    await app.database.execute("DELETE FROM orders")
    async with TestClient(app) as client:
        assert (await client.post("/api/orders", json={"id": 1, "fail": True})).status_code == 500
        assert (await client.post("/api/orders", json={"id": 2})).status_code == 201
        await asyncio.wait_for(done.wait(), 10)
    assert shipped == [2]
    assert [job.kwargs for job in await app.task_queue.jobs()] == [{"order_id": 2}]
    await app.database.close()
