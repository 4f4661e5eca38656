"""A raw RSGI app (Granian's own interface, no framework): the fastest Python-on-Rust-server
path we know of, the reference of benchmarks/run.py (and http_bench.py's ceiling).
/json and /plaintext need nothing; /db, /queries, /updates and /fortunes use asyncpg and
Jinja2 (tfb_asyncpg.py) on ``$DATABASE_URL``.
"""

import orjson

import tfb_asyncpg
from tfb import query_count

JSON_HEADERS = [("content-type", "application/json")]
TEXT_HEADERS = [("content-type", "text/plain; charset=utf-8")]
HTML_HEADERS = [("content-type", "text/html; charset=utf-8")]


def _queries_param(scope) -> str | None:
    for pair in scope.query_string.split("&"):
        name, _, value = pair.partition("=")
        if name == "queries":
            return value
    return None


async def app(scope, proto):
    path = scope.path
    if path == "/json":
        proto.response_bytes(200, JSON_HEADERS, orjson.dumps({"message": "Hello, World!"}))
    elif path == "/plaintext":
        proto.response_bytes(200, TEXT_HEADERS, b"Hello, World!")
    elif path == "/db":
        proto.response_bytes(200, JSON_HEADERS, await tfb_asyncpg.db())
    elif path == "/queries":
        proto.response_bytes(200, JSON_HEADERS, await tfb_asyncpg.queries(query_count(_queries_param(scope))))
    elif path == "/updates":
        proto.response_bytes(200, JSON_HEADERS, await tfb_asyncpg.updates(query_count(_queries_param(scope))))
    elif path == "/fortunes":
        proto.response_str(200, HTML_HEADERS, await tfb_asyncpg.fortunes())
    else:
        proto.response_bytes(404, TEXT_HEADERS, b"Not Found")
