"""WebSocket endpoints several test modules serve."""

from __future__ import annotations

from hyperdjango import HyperApp
from hyperdjango.testing import TestClient


def add_echo(app: HyperApp, path: str = "/ws/echo") -> None:
    """A handler that sends every message back as it came (text as text, binary as binary)."""

    @app.websocket(path)
    async def echo(ws, request):
        async for msg in ws:
            if msg.type == "text":
                await ws.send_text(msg.text)
            else:
                await ws.send_bytes(msg.data)


def ws_url(client: TestClient, path: str) -> str:
    """The ``ws://`` address of ``path`` on a running ``TestClient``."""
    return "ws" + client.base_url.removeprefix("http") + path
