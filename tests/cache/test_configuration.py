"""Configuring caches: Django's ``CACHES`` setting, through the app or without one."""

from __future__ import annotations

import pytest

from hyperdjango import HyperApp
from hyperdjango.cache import InvalidCacheBackendError, cache, caches, configure_caches
from hyperdjango.cache.backends.db import DatabaseCache
from hyperdjango.cache.backends.dummy import DummyCache
from hyperdjango.cache.backends.locmem import LocMemCache
from hyperdjango.cache.backends.redis import RedisCache
from hyperdjango.cache.handler import DEFAULT_CACHES
from hyperdjango.testing import TestClient


@pytest.fixture(autouse=True)
def default_caches():
    yield
    configure_caches(DEFAULT_CACHES)


def test_the_default_cache_is_in_memory_until_configured():
    assert isinstance(caches["default"], LocMemCache)


def test_an_app_configures_named_caches_with_djangos_keys():
    HyperApp(database="sqlite://:memory:", caches={
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/3",
                    "TIMEOUT": 60, "KEY_PREFIX": "shop", "VERSION": 2},
        "pages": {"BACKEND": "database", "LOCATION": "hyperdjango_cache"},
        "nothing": {"BACKEND": "dummy"},
    })
    default = caches["default"]
    assert isinstance(default, RedisCache) and default.url == "redis://127.0.0.1:6379/3"
    assert (default.default_timeout, default.key_prefix, default.version) == (60, "shop", 2)
    assert isinstance(caches["pages"], DatabaseCache) and isinstance(caches["nothing"], DummyCache)
    assert caches["pages"] is caches["pages"]


def test_lowercase_setting_keys_are_accepted():
    configure_caches({"default": {"backend": "locmem", "timeout": None, "key_prefix": "p", "options": {"max_entries": 5}}})
    assert caches["default"].default_timeout is None
    assert caches["default"].key_prefix == "p"
    assert caches["default"]._max_entries == 5


def test_an_unknown_backend_fails_when_configured():
    with pytest.raises(InvalidCacheBackendError, match="nosuch"):
        configure_caches({"default": {"BACKEND": "nosuch.Backend"}})


def test_an_unknown_alias_names_the_configured_ones():
    with pytest.raises(InvalidCacheBackendError, match="'default'"):
        caches["other"]


async def test_cache_is_the_default_cache_even_after_reconfiguring():
    configure_caches({"default": {"BACKEND": "locmem", "LOCATION": "first"}})
    await cache.set("k", 1)
    configure_caches({"default": {"BACKEND": "locmem", "LOCATION": "second"}})
    assert await cache.get("k") is None
    assert await caches["default"].get("k") is None


def test_a_view_uses_the_app_s_cache():
    app = HyperApp(database="sqlite://:memory:", caches={"default": {"BACKEND": "locmem", "LOCATION": "view-test"}})

    @app.get("/count")
    async def count(request):
        await cache.add("visits", 0)
        return {"visits": await cache.incr("visits")}

    with TestClient(app) as client:
        assert client.get("/count").json() == {"visits": 1}
        assert client.get("/count").json() == {"visits": 2}
