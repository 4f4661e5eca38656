"""The fortunes page as a raw ASGI app (no framework): asyncpg and Jinja2 (compiled,
cached, autoescape). Served by Granian in fortunes_bench.py; ``$DATABASE_URL``."""

import os
from pathlib import Path

import asyncpg
import jinja2

TEMPLATE = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
).get_template("fortunes.html")
EXTRA = (0, "Additional fortune added at request time.")
HEADERS = [(b"content-type", b"text/html; charset=utf-8")]
pool = None


async def app(scope, receive, send):
    global pool
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=4, max_size=4)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT id, message FROM fortune")
    fortunes = [(r["id"], r["message"]) for r in rows]
    fortunes.append(EXTRA)
    fortunes.sort(key=lambda f: f[1])
    body = TEMPLATE.render(fortunes=[{"id": i, "message": m} for i, m in fortunes]).encode()
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": body})
