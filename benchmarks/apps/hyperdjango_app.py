"""The benchmark app on hyperdjango, written the way a user would write it.

Run: python hyperdjango_app.py PORT   (one worker, app.run, uvloop when installed)
"""

import sys

from hyperdjango import HyperApp, Response

app = HyperApp(title="bench")


@app.get("/json")
async def json_view(request):
    return {"message": "Hello, World!"}  # a dict becomes a JSON response (orjson)


@app.get("/plaintext")
async def plaintext_view(request):
    return Response.text("Hello, World!")  # text/plain; charset=utf-8


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8000, workers=1)
