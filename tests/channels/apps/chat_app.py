"""The spec's chat handler on a cross-process channel layer, for the process tests.

``CHANNELS_URL`` picks the layer: a ``postgres://`` URL → PgChannelLayer, a
``redis://`` URL → RedisChannelLayer (keys under ``CHANNELS_PREFIX``).
"""

import os
from types import SimpleNamespace

from hyperdjango import HyperApp
from hyperdjango.channels import PgChannelLayer, RedisChannelLayer

url = os.environ.get("CHANNELS_URL", "postgres://localhost/unset")  # set by the test; imported by collection too
if url.startswith("redis"):
    layer = RedisChannelLayer(url, prefix=os.environ.get("CHANNELS_PREFIX", "hyperdjango:channels"))
else:
    layer = PgChannelLayer(database_url=url)
app = HyperApp()


@app.on_startup
async def connect_layer():
    await layer.connect()


@app.on_shutdown
async def close_layer():
    await layer.close()


async def get_user(request):
    name = request.query.get("name", "guest")
    return SimpleNamespace(id=name.lower(), name=name)


@app.websocket("/ws/chat/{room}")
async def chat_handler(ws, request):
    room = request.params["room"]
    channel = layer.channel(f"chat:{room}")
    user = await get_user(request)

    # Join presence
    channel.join(user_id=str(user.id), metadata={"name": user.name})

    # Subscribe to room messages
    async def forward(msg):
        await ws.send_json(msg)

    sub_id = channel.subscribe(forward)

    try:
        async for msg in ws:
            data = msg.json()
            await channel.publish({
                "type": "message",
                "user": user.name,
                "text": data["text"],
            })
    finally:
        channel.unsubscribe(sub_id)
        channel.leave(user_id=str(user.id))


@app.get("/")
async def index(request):
    return {"pid": os.getpid()}


@app.get("/rooms/{room}")
async def room_info(request):
    channel = layer.channel(f"chat:{request.params['room']}")
    return {
        "presence": channel.presence(),
        "history": channel.history(limit=50),
        "stats": layer.stats(),
        "sender": layer.sender,
    }
