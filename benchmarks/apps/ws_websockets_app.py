"""The WebSocket benchmark app on the `websockets` library's asyncio server (uvloop).

Same endpoints as ws_hyperdjango_app.py; fan-out with ``websockets.broadcast``,
the library's way to send one message to many connections.

Run: python ws_websockets_app.py PORT
"""

import asyncio
import sys
from http import HTTPStatus

import uvloop
from websockets.asyncio.server import broadcast, serve

subscribers = set()


async def handler(ws):
    path = ws.request.path
    if path == "/ws/echo":
        async for message in ws:
            await ws.send(message)
    elif path == "/ws/fanout?pub=1":
        async for message in ws:
            broadcast(subscribers, message)
    elif path == "/ws/fanout":
        subscribers.add(ws)
        try:
            await ws.wait_closed()
        finally:
            subscribers.discard(ws)


def ready(connection, request):
    if request.path == "/ready":
        return connection.respond(HTTPStatus.OK, "ok\n")
    return None


async def main(port: int) -> None:
    # No permessage-deflate, as for the other servers (the load client offers none anyway).
    async with serve(handler, "127.0.0.1", port, process_request=ready, compression=None, backlog=4096):
        await asyncio.Future()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
