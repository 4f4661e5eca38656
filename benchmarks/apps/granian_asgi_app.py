"""A minimal raw ASGI app (no framework): the floor for ASGI on Granian.

JSON is encoded per request with orjson, as hyperdjango does; the plaintext
body is a constant.
"""

import orjson

JSON_HEADERS = [(b"content-type", b"application/json")]
TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]
NOT_FOUND = {"type": "http.response.start", "status": 404, "headers": TEXT_HEADERS}


async def app(scope, receive, send):
    if scope["type"] != "http":  # lifespan: nothing to set up
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        return
    path = scope["path"]
    if path == "/json":
        body = orjson.dumps({"message": "Hello, World!"})
        headers = JSON_HEADERS
    elif path == "/plaintext":
        body = b"Hello, World!"
        headers = TEXT_HEADERS
    else:
        await send(NOT_FOUND)
        await send({"type": "http.response.body", "body": b"Not Found"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
