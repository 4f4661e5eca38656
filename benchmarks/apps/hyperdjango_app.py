"""The benchmark app on hyperdjango, written the way a user would write it.

Run: python hyperdjango_app.py PORT [WORKERS]   (app.run, uvloop when installed)

/json and /plaintext need no database; /db, /queries, /updates and /fortunes (the
TechEmpower workloads of run.py) go through the ORM and the templates on ``$DATABASE_URL``.
"""

import asyncio
import os
import sys
from pathlib import Path

from hyperdjango import HyperApp, Model, Response
from hyperdjango.templates import Templates, render

from tfb import EXTRA_FORTUNE, query_count, random_ids, random_number

app = HyperApp(title="bench", database=os.environ.get("DATABASE_URL"))
app.templates = Templates(Path(__file__).parent / "templates")


class World(Model):
    class Meta:
        table = "world"

    randomnumber: int = 0


class Fortune(Model):
    class Meta:
        table = "fortune"

    message: str = ""


@app.get("/json")
async def json_view(request):
    return {"message": "Hello, World!"}  # a dict becomes a JSON response (orjson)


@app.get("/plaintext")
async def plaintext_view(request):
    return Response.text("Hello, World!")  # text/plain; charset=utf-8


@app.get("/db")
async def db_view(request):
    world = await World.objects.get(id=random_ids(1)[0])
    return {"id": world.id, "randomNumber": world.randomnumber}


async def read_worlds(request) -> list[World]:
    ids = random_ids(query_count(request.query.get("queries")))
    return await asyncio.gather(*(World.objects.get(id=i) for i in ids))


@app.get("/queries")
async def queries_view(request):
    return [{"id": w.id, "randomNumber": w.randomnumber} for w in await read_worlds(request)]


@app.get("/updates")
async def updates_view(request):
    worlds = await read_worlds(request)
    for world in worlds:
        world.randomnumber = random_number()
    # Sorted by id: concurrent requests lock rows in one order (no deadlock).
    await World.objects.bulk_update(sorted(worlds, key=lambda w: w.id), ["randomnumber"])
    return [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]


@app.get("/fortunes")
async def fortunes_view(request):
    rows = await Fortune.objects.all()
    rows.append(Fortune(id=0, message=EXTRA_FORTUNE))
    rows.sort(key=lambda f: f.message)
    return await render(request, "fortunes.html", {"fortunes": rows})


if __name__ == "__main__":
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    app.run(host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8000, workers=workers)
