"""Caching, async all the way down, with Django's cache API.

``from hyperdjango.cache import caches, cache``: ``caches["default"]`` and
``caches[alias]`` are the caches configured by ``HyperApp(caches={...})`` (or
:func:`configure_caches`, without an app); ``cache`` is the default one. Every
method of Django's cache API is a coroutine here (``await cache.get("k")``),
natively async on every backend: in memory, Redis (``redis.asyncio``), the
database (PostgreSQL or SQLite) and a two-tier cache (memory in front of
either, invalidated across processes). ``@cache_page``, ``@cached``,
``cache_control`` and ``never_cache`` cache views and functions.

See docs/cache.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .backends.base import (
    DEFAULT_TIMEOUT,
    BaseCache,
    CacheKeyWarning,
    InvalidCacheBackendError,
    InvalidCacheKey,
)
from .handler import DEFAULT_CACHE_ALIAS, CacheHandler, DefaultCacheProxy

#: The caches of this process by alias.
caches = CacheHandler()
#: The default cache (``caches["default"]``).
cache: BaseCache = DefaultCacheProxy(caches)  # type: ignore[assignment]


def configure_caches(settings: Mapping[str, Mapping[str, Any]]) -> None:
    """Configures ``caches`` from Django's ``CACHES`` setting, without an app (scripts, tests).

    >>> configure_caches({"default": {"BACKEND": "locmem", "TIMEOUT": 60}})
    >>> caches["default"].default_timeout
    60
    >>> configure_caches({"default": {"BACKEND": "locmem"}})
    """
    caches.configure(settings)


async def close_caches() -> None:
    """Closes every cache this process has used (``HyperApp`` does it at shutdown)."""
    await caches.close_all()


__all__ = [
    "DEFAULT_CACHE_ALIAS",
    "DEFAULT_TIMEOUT",
    "BaseCache",
    "CacheHandler",
    "CacheKeyWarning",
    "InvalidCacheBackendError",
    "InvalidCacheKey",
    "cache",
    "caches",
    "close_caches",
    "configure_caches",
]
