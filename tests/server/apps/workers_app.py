"""An app for process-level tests: it reports its pid, sleeps on demand, and
records its shutdown hook in the file named by $HYPER_TEST_MARKER."""

import asyncio
import os

from hyperdjango import HyperApp

app = HyperApp(title="process tests")


@app.get("/pid")
async def pid(request):
    return {"pid": os.getpid()}


@app.get("/slow")
async def slow(request):
    await asyncio.sleep(float(request.query.get("seconds", "1")))
    return {"slept": True, "pid": os.getpid()}


@app.on_shutdown
def record_shutdown():
    marker = os.environ.get("HYPER_TEST_MARKER")
    if marker:
        with open(marker, "a") as f:
            f.write(f"shutdown {os.getpid()}\n")
