"""The benchmark app on FastAPI, written the way a user would write it.

Served by uvicorn (uvloop + httptools) and by Granian (ASGI); see http_bench.py and run.py.
/db, /queries, /updates and /fortunes use asyncpg and Jinja2 (tfb_asyncpg.py) on
``$DATABASE_URL``.
"""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

import tfb_asyncpg
from tfb import query_count

app = FastAPI()


@app.get("/json")
async def json_view():
    return {"message": "Hello, World!"}  # FastAPI's default JSONResponse (stdlib json)


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext_view():
    return "Hello, World!"  # text/plain; charset=utf-8


@app.get("/db")
async def db_view():
    return Response(await tfb_asyncpg.db(), media_type="application/json")


@app.get("/queries")
async def queries_view(queries: str | None = None):
    return Response(await tfb_asyncpg.queries(query_count(queries)), media_type="application/json")


@app.get("/updates")
async def updates_view(queries: str | None = None):
    return Response(await tfb_asyncpg.updates(query_count(queries)), media_type="application/json")


@app.get("/fortunes", response_class=HTMLResponse)
async def fortunes_view():
    return HTMLResponse(await tfb_asyncpg.fortunes())
