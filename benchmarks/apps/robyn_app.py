"""The TechEmpower workloads on Robyn, one process with one worker; /db, /queries, /updates
and /fortunes use asyncpg and Jinja2 (tfb_asyncpg.py) on ``$DATABASE_URL``.

Run: python robyn_app.py PORT
"""

import sys

PORT = int(sys.argv[1])
# Robyn reads its own options from the command line when the app is made.
sys.argv[1:] = ["--processes", "1", "--workers", "1", "--log-level", "WARN", "--disable-openapi"]

import orjson  # noqa: E402
from robyn import Headers, Request, Response, Robyn  # noqa: E402

import tfb_asyncpg  # noqa: E402
from tfb import query_count  # noqa: E402

app = Robyn(__file__)


def _answer(content_type: str, body: bytes | str) -> Response:
    return Response(status_code=200, headers=Headers({"Content-Type": content_type}), description=body)


@app.get("/plaintext")
async def plaintext(request: Request) -> Response:
    return _answer("text/plain; charset=utf-8", b"Hello, World!")


@app.get("/json")
async def json(request: Request) -> Response:
    return _answer("application/json", orjson.dumps({"message": "Hello, World!"}))


@app.get("/db")
async def db(request: Request) -> Response:
    return _answer("application/json", await tfb_asyncpg.db())


@app.get("/queries")
async def queries(request: Request) -> Response:
    count = query_count(request.query_params.get("queries", None))
    return _answer("application/json", await tfb_asyncpg.queries(count))


@app.get("/updates")
async def updates(request: Request) -> Response:
    count = query_count(request.query_params.get("queries", None))
    return _answer("application/json", await tfb_asyncpg.updates(count))


@app.get("/fortunes")
async def fortunes(request: Request) -> Response:
    return _answer("text/html; charset=utf-8", await tfb_asyncpg.fortunes())


if __name__ == "__main__":
    app.start(host="127.0.0.1", port=PORT, _check_port=False)
