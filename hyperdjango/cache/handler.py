"""``caches``: the configured caches by alias, made on first use (Django's ``CacheHandler``)."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any

from .backends.base import BaseCache, InvalidCacheBackendError

DEFAULT_CACHE_ALIAS = "default"

#: Short names for our backends, and Django's (and django-redis's) dotted paths,
#: so a ``CACHES`` setting copied from a Django project works unchanged.
BACKENDS = {
    "locmem": "hyperdjango.cache.backends.locmem.LocMemCache",
    "memory": "hyperdjango.cache.backends.locmem.LocMemCache",
    "redis": "hyperdjango.cache.backends.redis.RedisCache",
    "database": "hyperdjango.cache.backends.db.DatabaseCache",
    "db": "hyperdjango.cache.backends.db.DatabaseCache",
    "dummy": "hyperdjango.cache.backends.dummy.DummyCache",
    "tiered": "hyperdjango.cache.backends.tiered.TieredCache",
    "django.core.cache.backends.locmem.LocMemCache": "hyperdjango.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.redis.RedisCache": "hyperdjango.cache.backends.redis.RedisCache",
    "django.core.cache.backends.db.DatabaseCache": "hyperdjango.cache.backends.db.DatabaseCache",
    "django.core.cache.backends.dummy.DummyCache": "hyperdjango.cache.backends.dummy.DummyCache",
    "django_redis.cache.RedisCache": "hyperdjango.cache.backends.redis.RedisCache",
}

#: Django's default: one in-memory cache.
DEFAULT_CACHES: dict[str, dict[str, Any]] = {DEFAULT_CACHE_ALIAS: {"BACKEND": "locmem"}}


def backend_class(backend: str | type[BaseCache]) -> Any:
    """The class a ``BACKEND`` setting names: a class, a short name or a dotted path."""
    if isinstance(backend, type):
        return backend
    path = BACKENDS.get(backend, backend)
    module, _, name = path.rpartition(".")
    try:
        return getattr(import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise InvalidCacheBackendError(f"Could not find backend {backend!r}: {exc}") from exc


def create_cache(config: Mapping[str, Any]) -> BaseCache:
    """A cache made from one ``CACHES`` entry (``BACKEND``, ``LOCATION`` and the rest as params)."""
    params = dict(config)
    backend = params.pop("BACKEND", params.pop("backend", None))
    if backend is None:
        raise InvalidCacheBackendError(f"a cache configuration needs a BACKEND: {dict(config)!r}")
    location = params.pop("LOCATION", params.pop("location", ""))
    return backend_class(backend)(location, params)


class CacheHandler:
    """The caches of this process by alias: ``caches["default"]``, ``caches["sessions"]``.

    >>> handler = CacheHandler({"default": {"BACKEND": "locmem", "TIMEOUT": 60}})
    >>> handler["default"].default_timeout
    60
    >>> handler["default"] is handler["default"]
    True

    Configured by ``HyperApp(caches={...})`` or :func:`hyperdjango.cache.configure_caches`
    (Django's ``CACHES`` setting); until then ``default`` is an in-memory cache.
    """

    def __init__(self, settings: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.settings: dict[str, Mapping[str, Any]] = dict(DEFAULT_CACHES if settings is None else settings)
        self._caches: dict[str, BaseCache] = {}

    def configure(self, settings: Mapping[str, Mapping[str, Any]]) -> None:
        """Replaces the configuration; caches are made again on next use.

        Every configuration is checked now (an unknown backend fails here, not
        at the first request). Caches made before are dropped, not closed:
        ``await close_caches()`` first if they hold connections."""
        for config in settings.values():
            backend_class(config.get("BACKEND", config.get("backend", "")))
        self.settings = dict(settings)
        self._caches = {}

    def __getitem__(self, alias: str) -> BaseCache:
        cache = self._caches.get(alias)
        if cache is None:
            config = self.settings.get(alias)
            if config is None:
                raise InvalidCacheBackendError(f"The cache {alias!r} is not configured (configured: {sorted(self.settings)})")
            cache = self._caches[alias] = create_cache(config)
        return cache

    def __contains__(self, alias: object) -> bool:
        return alias in self.settings

    def __iter__(self):
        return iter(self.settings)

    def all(self, initialized_only: bool = False) -> list[BaseCache]:
        """Every configured cache (only those already made, with ``initialized_only``)."""
        if initialized_only:
            return list(self._caches.values())
        return [self[alias] for alias in self.settings]

    async def close_all(self) -> None:
        """Closes the caches made so far (their connections; entries stay)."""
        for cache in list(self._caches.values()):
            await cache.close()


def cache_of(cache: str | BaseCache) -> BaseCache:
    """``cache`` itself, or the cache of that alias in :data:`hyperdjango.cache.caches`."""
    if isinstance(cache, str):
        from . import caches

        return caches[cache]
    return cache


class DefaultCacheProxy:
    """``cache``: ``caches["default"]`` looked up on each use, so reconfiguring is seen."""

    def __init__(self, handler: CacheHandler) -> None:
        self._handler = handler

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handler[DEFAULT_CACHE_ALIAS], name)

    def __repr__(self) -> str:
        return f"<cache proxy to {self._handler[DEFAULT_CACHE_ALIAS]!r}>"
