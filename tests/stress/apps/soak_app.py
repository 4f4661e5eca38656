"""Mixed traffic for the soak test: JSON, ORM writes and reads, background
tasks and a WebSocket echo, on the SQLite database named by $SOAK_DATABASE."""

from __future__ import annotations

import os

from hyperdjango import Field, HyperApp, Model

app = HyperApp(title="soak", database=os.environ.get("SOAK_DATABASE", "sqlite://:memory:"))


class Note(Model):
    class Meta:
        table = "soak_note"

    text: str = Field(max_length=50)


@app.on_startup
async def create_table():
    await app.database.create_tables(Note)


@app.task
async def add(a: int, b: int) -> int:
    return a + b


@app.get("/json")
async def json_view(request):
    return {"hello": "world", "numbers": list(range(10))}


@app.get("/orm")
async def orm_view(request):
    note = await Note.objects.create(text="soak")
    # Only the last rows are kept: the table (and SQLite's page cache) stays the same size.
    await Note.objects.filter(id__lt=note.id - 100).delete()
    return {"count": await Note.objects.count()}


@app.get("/task")
async def task_view(request):
    return {"sum": await add.delay(1, 2).result(timeout=10)}


@app.websocket("/ws/echo")
async def echo(ws, request):
    async for message in ws:
        await ws.send_text(message.text)
