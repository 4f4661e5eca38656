"""A two-tier cache over HTTP, for the cross-process tests.

``CACHE_BEHIND`` is the shared cache's URL: ``redis://...`` (Redis pub/sub
invalidation) or ``postgres://...`` (a database cache, NOTIFY invalidation);
``CACHE_PREFIX`` its key prefix. Local copies are trusted for 300 s, so a
change seen sooner was seen through an invalidation message.
"""

import os

from hyperdjango import HyperApp
from hyperdjango.cache import caches

behind_url = os.environ.get("CACHE_BEHIND", "redis://127.0.0.1:6379/0")  # set by the test; imported by collection too
if behind_url.startswith("redis"):
    behind = {"BACKEND": "redis", "LOCATION": behind_url}
    database = "sqlite://:memory:"
else:
    behind = {"BACKEND": "database"}  # the app's database
    database = behind_url
app = HyperApp(database=database, caches={
    "default": {
        "BACKEND": "tiered",
        "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "cross-process"),
        "OPTIONS": {"BEHIND": behind, "LOCAL_TIMEOUT": 300},
    },
})


@app.get("/")
async def ready(request):
    return {"ready": True}


@app.get("/get/{key}")
async def get(request, key: str):
    """The value, and whether this process's local tier holds it (before the read)."""
    cache = caches["default"]
    local = cache.held_locally(key)
    return {"value": await cache.get(key), "local": local}


@app.post("/set/{key}")
async def set_(request, key: str):
    await caches["default"].set(key, request.query["value"])
    return {"ok": True}


@app.post("/delete/{key}")
async def delete(request, key: str):
    return {"deleted": await caches["default"].delete(key)}


@app.post("/incr/{key}")
async def incr(request, key: str):
    await caches["default"].add(key, 0)
    return {"value": await caches["default"].incr(key)}
