"""``make_cache``: a cache on each backend, under a fresh key prefix.

Parametrised over the in-memory cache, Redis, the database cache on SQLite and
PostgreSQL, and the two-tier cache in front of Redis and of PostgreSQL. Every
cache made is cleared (its prefix only) and closed after the test.
"""

from __future__ import annotations

import uuid

import pytest

from hyperdjango.cache.handler import create_cache

CACHE_BACKENDS = ["locmem", "redis", "sqlite", "postgres", "tiered-redis", "tiered-postgres"]


@pytest.fixture(params=CACHE_BACKENDS)
def cache_backend(request) -> str:
    return request.param


def backend_config(request, backend: str, prefix: str) -> dict:
    """The ``CACHES`` entry (without the test's own parameters) for ``backend``."""
    if backend == "locmem":
        return {"BACKEND": "locmem", "LOCATION": prefix}
    if backend == "redis":
        return {"BACKEND": "redis", "LOCATION": request.getfixturevalue("redis_url")}
    if backend in ("sqlite", "postgres"):
        url = request.getfixturevalue({"sqlite": "sqlite_url", "postgres": "pg_url"}[backend])
        return {"BACKEND": "database", "OPTIONS": {"DATABASE": url}}
    behind = backend.removeprefix("tiered-")
    return {"BACKEND": "tiered", "OPTIONS": {"BEHIND": backend_config(request, behind, prefix), "LOCAL_TIMEOUT": 30}}


@pytest.fixture
async def make_cache(request, cache_backend):
    """``make_cache(**params)``: a cache on the backend under test; ``params`` are a
    ``CACHES`` entry's (``TIMEOUT``, ``VERSION``, ``OPTIONS``...), merged."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    made = []

    def make(**params):
        config = backend_config(request, cache_backend, prefix)
        options = {**config.get("OPTIONS", {}), **params.pop("OPTIONS", {})}
        config = {**config, "KEY_PREFIX": prefix, **params, "OPTIONS": options}
        cache = create_cache(config)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        await cache.clear()
        await cache.close()


@pytest.fixture
async def cache(make_cache):
    return make_cache()
