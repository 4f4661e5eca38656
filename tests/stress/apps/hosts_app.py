"""The app of the several-hosts test, one copy per host: jobs and channels shared
through the PostgreSQL database $HOSTS_DATABASE, or the channels through the Redis
server $HOSTS_REDIS when set. $HOSTS_NAME names the host in what it records.

``POST /enqueue/{n}`` enqueues ``record(n)`` and answers once the job is
committed; ``record`` writes a row per run (``host_runs``); the periodic ``tick``
writes one per run (``host_ticks``); ``/ws/chat?name=`` is the spec's chat room,
``GET /room`` its presence and history as this process sees them."""

from __future__ import annotations

import datetime
import os

from hyperdjango import HyperApp
from hyperdjango.channels import PgChannelLayer, RedisChannelLayer
from hyperdjango.tasks.database import DatabaseBackend

HOST = os.environ.get("HOSTS_NAME", "unset")
DATABASE = os.environ.get("HOSTS_DATABASE", "postgres://localhost/unset")  # set by the test
#: Short, so that the jobs of a killed host run again soon.
LEASE = 2.0
#: How soon the presence of a killed host's users is swept.
SWEEP = 1.0

app = HyperApp(title="hosts", database=DATABASE, task_backend=DatabaseBackend(lease=LEASE, poll_interval=0.5), task_workers=4)
if os.environ.get("HOSTS_REDIS"):
    layer = RedisChannelLayer(os.environ["HOSTS_REDIS"], presence_check_interval=SWEEP)
else:
    layer = PgChannelLayer(DATABASE, presence_check_interval=SWEEP)
room = layer.channel("chat:hosts")


@app.on_startup
async def connect_layer():
    await layer.connect()


@app.on_shutdown
async def close_layer():
    await layer.close()


@app.task(name="hosts.record")
async def record(n: int) -> int:
    await app.database.execute("INSERT INTO host_runs (n, host) VALUES ($1, $2)", n, HOST)
    return n


@app.periodic(every=datetime.timedelta(seconds=1), name="hosts.tick")
async def tick() -> None:
    await app.database.execute("INSERT INTO host_ticks (host) VALUES ($1)", HOST)


@app.post("/enqueue/{n:int}")
async def enqueue(request, n: int):
    await record.delay(n).enqueued()
    return {"enqueued": n}


@app.get("/room")
async def room_state(request):
    return {"presence": sorted(p["user_id"] for p in room.presence()), "history": [m["text"] for m in room.history(1000)]}


@app.websocket("/ws/chat")
async def chat(ws, request):
    name = request.query.get("name", "guest")
    room.join(user_id=name)
    subscription = room.subscribe(ws.send_json)
    try:
        async for message in ws:
            await room.publish({"user": name, "text": message.text})
    finally:
        room.unsubscribe(subscription)
        room.leave(name)
