"""Fixtures for the channel-layer tests: the same behaviour on every layer.

``layers(n, **options)`` makes ``n`` connected layers of the parametrised kind
that stand for ``n`` processes: for ``memory`` they are one layer (it has one
process only), for ``postgres`` and ``redis`` they are separate layers (own
connections, own sender ids) on one database or server. Every test gets fresh
channel names (``name``) and, on Redis, its own key prefix.
"""

from __future__ import annotations

import uuid

import pytest

from hyperdjango.channels import InMemoryChannelLayer, PgChannelLayer, RedisChannelLayer

KINDS = ["memory", "postgres", "redis"]


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


@pytest.fixture
def name():
    """A channel-name maker unique to the test."""
    tag = uuid.uuid4().hex[:8]
    return lambda base="room": f"{base}:{tag}"


@pytest.fixture
async def layers(request, kind):
    made = []
    url = request.getfixturevalue({"memory": "name", "postgres": "pg_url", "redis": "redis_url"}[kind])
    prefix = f"hd-test:{uuid.uuid4().hex[:8]}"

    async def make(n: int = 2, **options):
        if kind == "memory":
            layer = InMemoryChannelLayer(**options)
            await layer.connect()
            made.append(layer)
            return [layer] * n
        result = []
        for _ in range(n):
            layer = PgChannelLayer(url, **options) if kind == "postgres" else RedisChannelLayer(url, prefix=prefix, **options)
            await layer.connect()
            made.append(layer)
            result.append(layer)
        return result

    yield make
    for layer in made:
        await layer.close()

