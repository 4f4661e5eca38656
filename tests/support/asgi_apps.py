"""Apps the ASGI/WSGI tests serve, importable by server processes
(``hyper run``, uvicorn, granian): ``support.asgi_apps:hyper_app`` and friends."""

from __future__ import annotations

import asyncio

from hyperdjango import HyperApp, Response
from hyperdjango.exceptions import HTTPException

hyper_app = HyperApp(title="conformance", database="sqlite://:memory:", max_body_size=64 * 1024)
started: list[str] = []


@hyper_app.on_startup
async def remember_start() -> None:
    started.append("started")


@hyper_app.use
async def stamp(request, next_handler):
    response = await next_handler(request)
    response.headers["x-middleware"] = "hyper"
    return response


@hyper_app.get("/hello/{name}")
async def hello(request):
    return {"hello": request.params["name"], "query": request.query.get("q"), "started": started}


@hyper_app.post("/echo")
async def echo(request):
    body = await request.body()
    return Response(body, headers={"x-length": str(len(body))}, media_type="application/octet-stream")


@hyper_app.get("/headers")
async def headers(request):
    return {"x-dup": request.headers.getlist("x-dup")}


@hyper_app.get("/stream")
async def stream(request):
    async def chunks():
        for i in range(3):
            await asyncio.sleep(0)
            yield f"chunk{i};"

    return Response.stream(chunks(), media_type="text/plain")


@hyper_app.get("/boom")
async def boom(request):
    raise RuntimeError("boom")


@hyper_app.get("/teapot")
async def teapot(request):
    raise HTTPException(418, "short and stout")


@hyper_app.websocket("/ws")
async def ws_echo(ws, request):
    await ws.accept(ws.subprotocols[0] if ws.subprotocols else None)
    async for msg in ws:
        if msg.text == "close-4001":
            await ws.close(4001, "asked")
            return
        await ws.send_text(f"{ws.subprotocol}:{msg.text}")


async def raw_asgi_app(scope, receive, send):
    """A plain ASGI app: answers with its process id (several workers answer differently)."""
    import os

    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": f"asgi {os.getpid()} {scope['root_path']}".encode()})


def raw_wsgi_app(environ, start_response):
    """A plain WSGI app."""
    start_response("200 OK", [("content-type", "text/plain")])
    return [f"wsgi {environ['SCRIPT_NAME']}".encode()]


@hyper_app.get("/cookie")
def cookie(request):  # a sync view: the thread pool on every server
    response = Response.json({"seen": request.cookies.get("flavour")})
    response.set_cookie("flavour", "ginger", httponly=True)
    return response


@hyper_app.websocket("/ws/closed")
async def ws_refuse(ws, request):
    return  # never accepts: the upgrade is refused with 403
