"""The WebSocket benchmark app on hyperdjango, written the way a user would write it.

/ws/echo sends every text message back; /ws/fanout?pub=1 is the publisher,
whose every message goes to every other /ws/fanout connection. With
``--layer`` the fan-out goes through an InMemoryChannelLayer channel (one
subscription per connection, ``subscribe(ws.send_text)``: fed by the engine)
instead of a loop over the connections; with ``--broadcast`` through
``hyperdjango.websockets.broadcast`` (one engine call per message).

Run: python ws_hyperdjango_app.py PORT [--layer | --broadcast]   (one worker, app.run, uvloop when installed)
"""

import sys

from hyperdjango import HyperApp
from hyperdjango.channels import InMemoryChannelLayer
from hyperdjango.websockets import broadcast

app = HyperApp(title="ws bench")
subscribers = set()
layer = InMemoryChannelLayer(queue_size=10_000)
USE_LAYER = "--layer" in sys.argv
USE_BROADCAST = "--broadcast" in sys.argv


@app.websocket("/ws/echo")
async def echo(ws, request):
    async for msg in ws:
        await ws.send_text(msg.text)


@app.websocket("/ws/fanout")
async def fanout(ws, request):
    channel = layer.channel("fanout")
    if request.query.get("pub") == "1":
        async for msg in ws:
            if USE_LAYER:
                await channel.publish(msg.text)
            elif USE_BROADCAST:
                broadcast(subscribers, msg.text)
            else:
                for subscriber in subscribers:
                    await subscriber.send_text(msg.text)  # queues; never waits
        return
    await ws.accept()
    if USE_LAYER:
        sub_id = channel.subscribe(ws.send_text)
    else:
        subscribers.add(ws)
    try:
        async for _ in ws:
            pass
    finally:
        if USE_LAYER:
            channel.unsubscribe(sub_id)
        else:
            subscribers.discard(ws)


@app.get("/ready")
async def ready(request):
    return {"ok": True}


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), workers=1, backlog=4096)
