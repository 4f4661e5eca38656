"""Handlers, requests, responses, WebSockets and channels as a type checker sees them."""

from __future__ import annotations

from typing import Any, assert_type

from hyperdjango import HyperApp, Request, Response, WebSocket
from hyperdjango.channels import Channel, InMemoryChannelLayer
from hyperdjango.websockets import Message

app = HyperApp()
layer = InMemoryChannelLayer()


@app.get("/api/products/{id}")
async def get_product(request: Request) -> Response:
    assert_type(request.params, dict[str, Any])
    assert_type(request.params["id"], Any)
    return Response.json({"id": request.params["id"]}, status=200)


@app.post("/api/products")
async def create_product(request: Request) -> Response:
    return Response.text("created", status=201)


@app.websocket("/ws/chat/{room}")
async def chat(ws: WebSocket, request: Request) -> None:
    channel = layer.channel(f"chat:{request.params['room']}")
    assert_type(channel, Channel)

    async def forward(message: Any) -> None:
        await ws.send_json(message)

    sub_id = channel.subscribe(forward)
    assert_type(sub_id, str)
    try:
        async for message in ws:
            assert_type(message, Message)
            await channel.publish({"text": message.json()["text"]})
    finally:
        channel.unsubscribe(sub_id)


async def decorated_handlers_keep_their_types(request: Request) -> None:
    assert_type(await get_product(request), Response)
    assert_type(Response.redirect("/"), Response)
    assert_type(Response.html("<p>hi</p>"), Response)
    assert_type(Response.empty(), Response)
