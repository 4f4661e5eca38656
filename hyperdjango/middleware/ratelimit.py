"""Rate limiting over the cache API: a middleware, a per-view decorator, a router guard.

    limit = RateLimit("5/m", key="ip")              # 5 requests a minute per client address
    @app.post("/login")
    @limit
    async def login_view(request): ...
    app.use(RateLimitMiddleware("1000/h", key="user_or_ip", algorithm="sliding"))

Counters live in a cache of :mod:`hyperdjango.cache` (``cache_alias``): in memory for one
process, Redis or the database to share the count between processes. A refused request
is ``429 Too Many Requests`` with ``Retry-After``; ``limit.stats`` counts what was allowed
and refused.

``algorithm="fixed"`` counts per calendar window (cheap, but allows up to twice the rate
across a window boundary); ``"sliding"`` weighs the previous window's count by how much of
it still overlaps the last ``period`` seconds (the sliding-window-counter approximation).
"""

from __future__ import annotations

import inspect
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..guards import guard_view
from ..responses import Response

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\w*\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"100/m"`` → ``(100, 60)``; ``"10/5m"`` → ``(10, 300)``; units s, m, h, d."""
    match = _RATE.match(rate)
    if match is None:
        raise ValueError(f"rate {rate!r} is not 'N/unit' (e.g. '100/m', '10/5m'; units s, m, h, d)")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _SECONDS[unit]


def client_ip(request: Any) -> str:
    """The peer address. Headers such as X-Forwarded-For are not trusted: a client could
    write them; behind a proxy, pass ``key=`` a function reading the proxy's header."""
    return request.client.host


def _user_or_ip(request: Any) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


KEYS: dict[str, Callable[[Any], str]] = {"ip": client_ip, "user": _user_or_ip, "user_or_ip": _user_or_ip}


@dataclass
class RateLimitStats:
    """How many requests a limit let through and refused."""

    allowed: int = 0
    limited: int = 0


class RateLimit:
    """``rate`` per ``key`` (``"ip"``, ``"user"``/``"user_or_ip"``, or ``key(request) -> str``,
    sync or async); ``scope`` separates limits sharing a cache (default: the rate and key)."""

    def __init__(
        self,
        rate: str,
        *,
        key: str | Callable[[Any], Any] = "ip",
        algorithm: str = "fixed",
        cache_alias: str = "default",
        scope: str | None = None,
        methods: tuple[str, ...] | None = None,
    ) -> None:
        self.limit, self.period = parse_rate(rate)
        if algorithm not in ("fixed", "sliding"):
            raise ValueError(f"algorithm {algorithm!r}: 'fixed' or 'sliding'")
        self.algorithm = algorithm
        self.key_func = KEYS[key] if isinstance(key, str) else key
        self.cache_alias = cache_alias
        key_name = key if isinstance(key, str) else getattr(key, "__qualname__", "key")
        self.scope = scope or f"{rate}:{key_name}:{algorithm}"
        self.methods = None if methods is None else tuple(m.upper() for m in methods)
        self.stats = RateLimitStats()

    async def _identity(self, request: Any) -> str:
        value = self.key_func(request)
        if inspect.isawaitable(value):
            value = await value
        return str(value)

    async def retry_after(self, request: Any) -> float | None:
        """Counts the request; None when it is within the limit, else seconds to wait."""
        from ..cache import caches

        cache = caches[self.cache_alias]
        now = time.time()
        window = math.floor(now / self.period)
        base = f"ratelimit:{self.scope}:{await self._identity(request)}:"
        current_key = base + str(window)
        # add() then incr(): atomic on every backend, and the key expires with its window
        # (plus one more period: the sliding algorithm still reads it then).
        await cache.add(current_key, 0, timeout=2 * self.period)
        count = await cache.incr(current_key)
        window_end = (window + 1) * self.period
        if self.algorithm == "fixed":
            return None if count <= self.limit else window_end - now
        previous = int(await cache.get(base + str(window - 1), 0) or 0)
        overlap = 1 - (now - window * self.period) / self.period  # share of the previous window still inside
        if previous * overlap + count <= self.limit:
            return None
        if count > self.limit or previous == 0:
            return window_end - now
        # The previous window's weight falls linearly: wait until it leaves room for one more.
        needed_overlap = (self.limit - count) / previous
        return max(0.0, (overlap - needed_overlap) * self.period)

    async def check(self, request: Any) -> Response | None:
        """None within the limit; otherwise the 429 response (a router guard's shape)."""
        if self.methods is not None and request.method not in self.methods:
            return None
        wait = await self.retry_after(request)
        if wait is None:
            self.stats.allowed += 1
            return None
        self.stats.limited += 1
        return Response.json({"detail": "Too many requests"}, status=429, headers={"retry-after": str(max(1, math.ceil(wait)))})

    def __call__(self, view: Callable[..., Any]) -> Callable[..., Any]:
        """``@RateLimit("5/m")`` on a view."""
        return guard_view(self.check, view)


def rate_limit(rate: str, **options: Any) -> RateLimit:
    """``@rate_limit("5/m", key="ip")``: Django-ratelimit's decorator spelling of :class:`RateLimit`."""
    return RateLimit(rate, **options)


class RateLimitMiddleware:
    """Applies one :class:`RateLimit` to every request (``RateLimitMiddleware("1000/h")``)."""

    def __init__(self, rate: str, **options: Any) -> None:
        self.limit = RateLimit(rate, **options)

    @property
    def stats(self) -> RateLimitStats:
        return self.limit.stats

    async def __call__(self, request: Any, next_handler: Any) -> Any:
        refusal = await self.limit.check(request)
        if refusal is not None:
            return refusal
        return await next_handler(request)
