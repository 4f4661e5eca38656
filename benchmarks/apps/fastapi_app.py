"""The benchmark app on FastAPI, written the way a user would write it.

Served by uvicorn (uvloop + httptools) and by Granian (ASGI); see http_bench.py.
"""

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/json")
async def json_view():
    return {"message": "Hello, World!"}  # FastAPI's default JSONResponse (stdlib json)


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext_view():
    return "Hello, World!"  # text/plain; charset=utf-8
