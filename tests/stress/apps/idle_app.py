"""An app for the idle-connections test: ``GET /pid``, and keep-alive connections
kept for a minute, so that idle ones stay open while the test measures them.

Run as ``python idle_app.py PORT``: one worker."""

from __future__ import annotations

import os
import sys

from hyperdjango import HyperApp

app = HyperApp(title="idle connections")


@app.get("/pid")
async def pid(request):
    return {"pid": os.getpid()}


if __name__ == "__main__":
    app.run(port=int(sys.argv[1]), keepalive_timeout=60)
