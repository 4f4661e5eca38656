"""The fortunes page with FastAPI, asyncpg and Jinja2 (compiled, cached, autoescape).
Served by uvicorn in fortunes_bench.py; ``$DATABASE_URL``."""

import os
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import jinja2
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

TEMPLATE = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
).get_template("fortunes.html")
state = {}


@asynccontextmanager
async def lifespan(app):
    state["pool"] = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=4, max_size=4)
    yield
    await state["pool"].close()


app = FastAPI(lifespan=lifespan)


@app.get("/fortunes", response_class=HTMLResponse)
async def fortunes():
    async with state["pool"].acquire() as conn:
        rows = await conn.fetch("SELECT id, message FROM fortune")
    fortunes = [{"id": r["id"], "message": r["message"]} for r in rows]
    fortunes.append({"id": 0, "message": "Additional fortune added at request time."})
    fortunes.sort(key=lambda f: f["message"])
    return HTMLResponse(TEMPLATE.render(fortunes=fortunes))
