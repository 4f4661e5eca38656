"""The views the outage tests share (Redis in tests/cache, PostgreSQL in tests/database):
one that needs its session, one that ignores it, one that publishes on a channel layer."""

from __future__ import annotations

from typing import Any


def add_outage_views(app: Any, layer: Any) -> None:
    """``GET /visits`` counts in the session, ``GET /static-page`` never uses it, ``POST /say``
    publishes on ``layer``; the layer connects at startup and closes at shutdown."""

    @app.on_startup
    async def connect():
        await layer.connect()

    @app.on_shutdown
    async def close():
        await layer.close()

    @app.get("/visits")
    async def visits(request):
        request.session["visits"] = request.session.get("visits", 0) + 1
        return {"visits": request.session["visits"]}

    @app.get("/static-page")
    async def static_page(request):
        return {"page": "about"}

    @app.post("/say")
    async def say(request):
        await layer.channel("room").publish({"text": "hi"})
        return {"ok": True}
