"""A chat room for the WebSocket fan-out test: every member gets each message
sent by ``POST /broadcast/{n}`` (the engine's ``broadcast()``) and by ``POST
/group/{n}`` (a channel-layer group whose channel the members' send methods
subscribe to). ``GET /stats`` counts members and slow consumers.

Run as ``python fanout_app.py PORT``: one worker, small send queues."""

from __future__ import annotations

import sys
from collections import Counter

from hyperdjango import HyperApp
from hyperdjango.channels import InMemoryChannelLayer
from hyperdjango.websockets import WebSocketDisconnect, broadcast

#: Each message is this long, so that a client that stops reading fills its
#: socket buffers and then its send queue within a few dozen messages.
PAYLOAD = "x" * 1000

app = HyperApp(title="fan-out")
layer = InMemoryChannelLayer()
members: dict[int, object] = {}
counts: Counter = Counter()


@app.on_startup
async def join_group():
    layer.group("everyone").add("chat")


@app.websocket("/ws")
async def member(ws, request):
    await ws.accept()
    members[id(ws)] = ws
    subscription = layer.channel("chat").subscribe(ws.send_text)
    try:
        async for _ in ws:
            pass
    except WebSocketDisconnect as exc:
        counts[f"ended_{exc.code}"] += 1
    finally:
        members.pop(id(ws), None)
        layer.channel("chat").unsubscribe(subscription)


@app.post("/broadcast/{n:int}")
async def fan_out(request, n: int):
    try:
        broadcast(list(members.values()), f"b{n}:{PAYLOAD}", raise_exceptions=True)
    except ExceptionGroup as skipped:
        counts["broadcast_skipped"] += len(skipped.exceptions)
        counts["broadcast_1013"] += sum(e.code == 1013 for e in skipped.exceptions)
    return {"members": len(members)}


@app.post("/group/{n:int}")
async def group_send(request, n: int):
    await layer.group("everyone").publish(f"g{n}:{PAYLOAD}")
    return {"members": len(members)}


@app.get("/stats")
async def stats(request):
    return {"members": len(members), **counts, **{f"layer_{k}": v for k, v in layer.stats().items()}}


if __name__ == "__main__":
    # Pings late: a client that stopped reading must be closed for its full queue (1013),
    # not for missing pongs (1001), however long thousands of connections take to open.
    app.run(port=int(sys.argv[1]), ws_send_queue=8, ws_send_queue_bytes=64 * 1024, ws_ping_interval=300)
