"""A minimal raw RSGI app (Granian's own interface, no framework): the fastest
Python-on-Rust-server path we know of, as a reference ceiling.
"""

import orjson

JSON_HEADERS = [("content-type", "application/json")]
TEXT_HEADERS = [("content-type", "text/plain; charset=utf-8")]


async def app(scope, proto):
    path = scope.path
    if path == "/json":
        proto.response_bytes(200, JSON_HEADERS, orjson.dumps({"message": "Hello, World!"}))
    elif path == "/plaintext":
        proto.response_bytes(200, TEXT_HEADERS, b"Hello, World!")
    else:
        proto.response_bytes(404, TEXT_HEADERS, b"Not Found")
