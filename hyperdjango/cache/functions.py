"""``@cached``: an async function's results, kept in a cache by their arguments."""

from __future__ import annotations

import functools
import hashlib
import inspect
import math
import random
import time
from collections.abc import Callable
from typing import Any

from .handler import cache_of
from .backends.base import DEFAULT_TIMEOUT, MISSING, BaseCache


def _default_key(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    arguments = hashlib.md5(repr((args, sorted(kwargs.items()))).encode(), usedforsecurity=False).hexdigest()
    return f"hyperdjango.cached.{func.__module__}.{func.__qualname__}.{arguments}"


def cached(
    timeout: Any = DEFAULT_TIMEOUT,
    *,
    cache: str | BaseCache = "default",
    key: Callable[..., str] | None = None,
    early_refresh: float | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@cached(60)`` over an ``async def``: its result for the same arguments comes
    from the cache (``caches[cache]``, or ``cache`` itself when it is a cache) for
    ``timeout`` seconds.

    >>> import asyncio
    >>> from hyperdjango.cache import cached
    >>> calls = []
    >>> @cached(60)
    ... async def price(product_id):
    ...     calls.append(product_id)
    ...     return product_id * 10
    >>> async def main():
    ...     return [await price(1), await price(1), await price(2)]
    >>> asyncio.run(main()), calls
    ([10, 10, 20], [1, 2])

    The key is the function's module and name and a hash of ``repr()`` of the
    arguments (give ``key=lambda *args, **kwargs: "..."`` when reprs are not
    stable). Concurrent calls that miss compute once in the process (single
    flight). ``early_refresh`` (a factor, 1.0 is typical) enables probabilistic
    early refresh: as an entry nears its expiry, a caller now and then
    recomputes it before it expires (more likely the nearer and the slower the
    computation), so a popular entry never expires under load. The decorated
    function has ``await f.invalidate(*args, **kwargs)`` and ``f.key(*args, **kwargs)``.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"@cached decorates async functions; {func.__qualname__} is not one")

        def key_of(*args: Any, **kwargs: Any) -> str:
            return key(*args, **kwargs) if key is not None else _default_key(func, args, kwargs)

        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            store = cache_of(cache)
            made = key_of(*args, **kwargs)
            if early_refresh is None:
                return await store.get_or_set(made, lambda: func(*args, **kwargs), timeout)
            return await _early(store, made, func, args, kwargs)

        async def _early(store: Any, made: str, func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
            # XFetch (Vattani et al., "Optimal probabilistic cache stampede prevention"):
            # entries carry how long they took to compute and when they expire.
            entry = await store.get(made, MISSING)
            if entry is not MISSING:
                value, spent, expires = entry
                if expires is None or time.time() - spent * early_refresh * math.log(1.0 - random.random()) < expires:
                    return value
                if store.flights.in_flight(store.make_key(made)):
                    return value  # someone is refreshing it already

            async def compute() -> Any:
                started = time.monotonic()
                value = await func(*args, **kwargs)
                spent = time.monotonic() - started
                seconds = store.default_timeout if timeout is DEFAULT_TIMEOUT else timeout
                expires = None if seconds is None else time.time() + seconds
                await store.set(made, (value, spent, expires), timeout)
                return value

            return await store.flights.run(store.make_key(made), compute)

        async def invalidate(*args: Any, **kwargs: Any) -> bool:
            return await cache_of(cache).delete(key_of(*args, **kwargs))

        wrapper.invalidate = invalidate  # type: ignore[attr-defined]
        wrapper.key = key_of  # type: ignore[attr-defined]
        return wrapper

    return decorate
