"""BaseCache: what every backend shares (keys, versions, timeouts, the composite methods).

Mirrors ``django.core.cache.backends.base.BaseCache`` with every method a
coroutine. A backend implements ``_get``/``_set``/``_add``/``_delete``/``_touch``/
``_incr``/``_has``/``clear`` on made keys; ``BaseCache`` turns user keys into
made keys, validates them, resolves timeouts, and builds the ``*_many`` and
``get_or_set`` methods on top (backends override the ``*_many`` ones when they
can do them in one round trip).
"""

from __future__ import annotations

import inspect
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import Any

from .. import flight

#: The timeout that means "the cache's own default" (Django's ``DEFAULT_TIMEOUT``).
DEFAULT_TIMEOUT: Any = object()

#: Memcached's limit on key length, which Django warns about for every backend.
MEMCACHE_MAX_KEY_LENGTH = 250

#: A value no caller can store, meaning "not in the cache".
MISSING: Any = object()


class InvalidCacheBackendError(Exception):
    """The cache configuration names a backend that cannot be loaded, or an unknown alias."""


class CacheKeyWarning(RuntimeWarning):
    """A key that some backends (memcached) would reject; every backend warns, as Django does."""


def default_key_func(key: str, key_prefix: str, version: int) -> str:
    """Django's key function: ``"<prefix>:<version>:<key>"``."""
    return f"{key_prefix}:{version}:{key}"


def get_key_func(key_func: Callable[[str, str, int], str] | str | None) -> Callable[[str, str, int], str]:
    """``KEY_FUNCTION`` as a callable: given as one, as a dotted path, or the default."""
    if key_func is None:
        return default_key_func
    if callable(key_func):
        return key_func
    module, _, name = key_func.rpartition(".")
    return getattr(import_module(module), name)


def memcache_key_warnings(key: str):
    """The reasons a key would fail on memcached (too long, control characters or spaces)."""
    if len(key) > MEMCACHE_MAX_KEY_LENGTH:
        yield f"Cache key will cause errors if used with memcached: {key!r} (longer than {MEMCACHE_MAX_KEY_LENGTH})"
    if any(ord(char) < 33 or ord(char) == 127 for char in key):
        yield f"Cache key contains characters that will cause errors if used with memcached: {key!r}"


class BaseCache:
    """A cache configured by Django's parameters.

    ``params`` are a ``CACHES`` entry without ``BACKEND``: ``TIMEOUT`` (seconds,
    default 300; ``None`` keeps entries forever), ``KEY_PREFIX``, ``VERSION``,
    ``KEY_FUNCTION`` and ``OPTIONS`` (``MAX_ENTRIES``, ``CULL_FREQUENCY`` and the
    backend's own). Lowercase keys are accepted too, as Django's base class does.
    """

    def __init__(self, params: Mapping[str, Any]) -> None:
        timeout = params.get("timeout", params.get("TIMEOUT", 300))
        if timeout is not None:
            try:
                timeout = int(timeout)
            except (ValueError, TypeError):
                timeout = 300
        self.default_timeout: int | None = timeout
        options = dict(params.get("OPTIONS", params.get("options", {})) or {})
        self.options = options
        max_entries = options.pop("MAX_ENTRIES", options.pop("max_entries", 300))
        try:
            self._max_entries = int(max_entries)
        except (ValueError, TypeError):
            self._max_entries = 300
        cull_frequency = options.pop("CULL_FREQUENCY", options.pop("cull_frequency", 3))
        try:
            self._cull_frequency = int(cull_frequency)
        except (ValueError, TypeError):
            self._cull_frequency = 3
        self.key_prefix: str = params.get("KEY_PREFIX", params.get("key_prefix", "")) or ""
        self.version: int = params.get("VERSION", params.get("version", 1)) or 1
        self.key_func = get_key_func(params.get("KEY_FUNCTION", params.get("key_function")))
        #: Computations of missing values running now, by made key (see ``get_or_set``).
        self.flights = flight.SingleFlight()

    # -- keys and timeouts ---------------------------------------------------------

    def get_backend_timeout(self, timeout: Any = DEFAULT_TIMEOUT) -> float | None:
        """The absolute expiry time (``time.time()`` based) of an entry set now, or ``None`` for never."""
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        elif timeout == 0:
            timeout = -1  # already expired, whatever the clock's precision
        return None if timeout is None else time.time() + timeout

    def make_key(self, key: str, version: int | None = None) -> str:
        """The key stored in the backend: ``KEY_FUNCTION(key, KEY_PREFIX, version)``."""
        return self.key_func(key, self.key_prefix, self.version if version is None else version)

    def cleared_prefix(self) -> str:
        """What the stored keys of this cache start with, for a ``clear()`` on a shared
        server ("" when there is no ``KEY_PREFIX``: everything)."""
        if not self.key_prefix:
            return ""
        return f"{self.key_prefix}:" if self.key_func is default_key_func else self.key_prefix

    def validate_key(self, key: str) -> None:
        """Warns (``CacheKeyWarning``) about keys memcached would reject, as Django does."""
        for warning in memcache_key_warnings(key):
            warnings.warn(warning, CacheKeyWarning, stacklevel=3)

    def make_and_validate_key(self, key: str, version: int | None = None) -> str:
        key = self.make_key(key, version)
        self.validate_key(key)
        return key

    def unavailable_errors(self) -> tuple[type[BaseException], ...]:
        """The exceptions that mean this cache's server cannot be reached (it is down or
        restarting), as opposed to a bad key or value: the operations raise them as they
        come (Django's behaviour); the cache-backed sessions answer 503 for them."""
        return (OSError,)

    def is_unavailable(self, error: BaseException) -> bool:
        """Whether ``error``, raised by an operation of this cache, means its server cannot be
        reached (an instance of :meth:`unavailable_errors` here; a database cache asks its
        ``Database.is_unreachable``). The cache-backed sessions answer 503 when it holds."""
        return isinstance(error, self.unavailable_errors())

    # -- what a backend implements, on made keys -------------------------------------

    async def _get(self, key: str, default: Any) -> Any:
        raise NotImplementedError

    async def _set(self, key: str, value: Any, timeout: Any) -> None:
        raise NotImplementedError

    async def _add(self, key: str, value: Any, timeout: Any) -> bool:
        raise NotImplementedError

    async def _delete(self, key: str) -> bool:
        raise NotImplementedError

    async def _touch(self, key: str, timeout: Any) -> bool:
        raise NotImplementedError

    async def _incr(self, key: str, delta: int) -> int:
        """Adds ``delta`` atomically; ``ValueError`` when the key is missing."""
        raise NotImplementedError

    async def _has(self, key: str) -> bool:
        return await self._get(key, MISSING) is not MISSING

    async def _get_many(self, keys: list[str]) -> dict[str, Any]:
        found = {}
        for key in keys:
            value = await self._get(key, MISSING)
            if value is not MISSING:
                found[key] = value
        return found

    async def _set_many(self, items: dict[str, Any], timeout: Any) -> None:
        for key, value in items.items():
            await self._set(key, value, timeout)

    async def _delete_many(self, keys: list[str]) -> None:
        for key in keys:
            await self._delete(key)

    async def _get_many_with_expiry(self, keys: list[str]) -> dict[str, tuple[Any, float | None]]:
        """``{key: (value, expiry as a Unix time or None)}`` of the keys found: what the
        two-tier cache needs of the shared cache behind it (Redis and the database have it)."""
        raise NotImplementedError

    async def _get_with_expiry(self, key: str) -> tuple[Any, float | None] | None:
        return (await self._get_many_with_expiry([key])).get(key)

    # -- the public API (Django's names, awaitable) -------------------------------------

    async def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        """The value of ``key``, or ``default`` when it is missing or expired."""
        return await self._get(self.make_and_validate_key(key, version), default)

    async def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        """Stores ``value`` for ``timeout`` seconds (``None``: forever; ``0``: expires at once)."""
        await self._set(self.make_and_validate_key(key, version), value, timeout)

    async def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        """Stores ``value`` only if ``key`` is missing; whether it did."""
        return await self._add(self.make_and_validate_key(key, version), value, timeout)

    async def get_or_set(self, key: str, default: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> Any:
        """The value of ``key``; when missing, ``default`` (or what the callable, sync or
        async, returns) is added and returned.

        Concurrent misses for one key in this process compute ``default`` once
        (single flight): the others wait for that computation and get its value.
        """
        made = self.make_and_validate_key(key, version)
        value = await self._get(made, MISSING)
        if value is not MISSING:
            return value

        async def compute() -> Any:
            value = default
            if callable(value):
                value = value()
                if inspect.isawaitable(value):
                    value = await value
            await self._add(made, value, timeout)
            # Read again: another process may have added its value between the get and the add.
            return await self._get(made, value)

        return await self.flights.run(made, compute)

    async def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        """The keys found, with their values (missing keys are left out)."""
        made = {self.make_and_validate_key(key, version): key for key in keys}
        found = await self._get_many(list(made))
        return {made[key]: value for key, value in found.items()}

    async def set_many(self, data: Mapping[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[str]:
        """Stores every pair; returns the keys that failed (always ``[]`` here, as Django's)."""
        await self._set_many({self.make_and_validate_key(key, version): value for key, value in data.items()}, timeout)
        return []

    async def delete(self, key: str, version: int | None = None) -> bool:
        """Removes ``key``; whether it was there."""
        return await self._delete(self.make_and_validate_key(key, version))

    async def delete_many(self, keys: Iterable[str], version: int | None = None) -> None:
        """Removes every key."""
        await self._delete_many([self.make_and_validate_key(key, version) for key in keys])

    async def has_key(self, key: str, version: int | None = None) -> bool:
        """Whether ``key`` is in the cache and not expired."""
        return await self._has(self.make_and_validate_key(key, version))

    async def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        """Gives ``key`` a new timeout; whether it was there."""
        return await self._touch(self.make_and_validate_key(key, version), timeout)

    async def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        """Adds ``delta`` to an integer value atomically and returns the new value;
        ``ValueError`` when the key is missing."""
        made = self.make_and_validate_key(key, version)
        try:
            return await self._incr(made, check_delta(delta))
        except KeyError:
            raise ValueError(f"Key '{key}' not found") from None

    async def decr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        """Subtracts ``delta``; see :meth:`incr`."""
        return await self.incr(key, -delta, version)

    async def incr_version(self, key: str, delta: int = 1, version: int | None = None) -> int:
        """Moves ``key``'s value to version ``version + delta``; returns the new version."""
        version = self.version if version is None else version
        value = await self.get(key, MISSING, version)
        if value is MISSING:
            raise ValueError(f"Key '{key}' not found")
        await self.set(key, value, version=version + delta)
        await self.delete(key, version)
        return version + delta

    async def decr_version(self, key: str, delta: int = 1, version: int | None = None) -> int:
        """Moves ``key``'s value to version ``version - delta``."""
        return await self.incr_version(key, -delta, version)

    async def clear(self) -> None:
        """Removes everything from the cache (every key, whatever its prefix)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Releases connections; the cache connects again when used."""

    # Django's async names, so code ported from Django runs unchanged.
    aget = get
    aset = set
    aadd = add
    aget_or_set = get_or_set
    aget_many = get_many
    aset_many = set_many
    adelete = delete
    adelete_many = delete_many
    ahas_key = has_key
    atouch = touch
    aincr = incr
    adecr = decr
    aincr_version = incr_version
    adecr_version = decr_version
    aclear = clear
    aclose = close

    def __repr__(self) -> str:
        return f"<{type(self).__name__} prefix={self.key_prefix!r} version={self.version}>"


def check_delta(delta: int) -> int:
    """``delta`` as an ``int``; a clear error for anything else (a float would corrupt counters)."""
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise TypeError(f"incr/decr take an int delta, not {type(delta).__name__}")
    return delta
