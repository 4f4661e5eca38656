"""CORSMiddleware: which other origins may call the app from a browser.

Preflight requests (``OPTIONS`` with ``Access-Control-Request-Method``) are
answered here, never reaching a view: 200 with the allowed methods and
headers, or 400 naming what is not allowed. Other requests from an allowed
origin get ``Access-Control-Allow-Origin`` on whatever the app answers,
404, 405 and 500 included (exceptions become responses inside each layer).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..responses import Response

SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


class CORSMiddleware:
    """``allow_origins`` (``["https://app.example.com"]`` or ``["*"]``),
    ``allow_origin_regex``, ``allow_methods``, ``allow_headers``,
    ``allow_credentials``, ``expose_headers``, ``max_age`` (seconds a browser
    may cache a preflight). ``"*"`` with credentials echoes the origin, as the
    CORS spec requires instead of a literal ``*``.
    """

    def __init__(
        self,
        allow_origins: Iterable[str] = (),
        allow_methods: Iterable[str] = ("GET",),
        allow_headers: Iterable[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        expose_headers: Iterable[str] = (),
        max_age: int = 600,
    ) -> None:
        self.allow_origins = frozenset(allow_origins)
        self.allow_all_origins = "*" in self.allow_origins
        methods = [m.upper() for m in allow_methods]
        self.allow_methods = ALL_METHODS if "*" in methods else tuple(methods)
        headers = [h.lower() for h in allow_headers]
        self.allow_all_headers = "*" in headers
        self.allow_headers = tuple(sorted(SAFELISTED_HEADERS | set(headers) - {"*"}))
        self.allow_credentials = allow_credentials
        self.origin_regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        self.expose_headers = tuple(expose_headers)
        self.max_age = max_age

    def origin_allowed(self, origin: str) -> bool:
        if self.allow_all_origins:
            return True
        if self.origin_regex is not None and self.origin_regex.fullmatch(origin):
            return True
        return origin in self.allow_origins

    async def __call__(self, request: Any, next_handler: Any) -> Any:
        origin = request.headers.get("origin")
        if origin is None:
            return await next_handler(request)
        if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
            return self.preflight(request, origin)
        response = await next_handler(request)
        self.add_simple_headers(response, origin)
        return response

    def _allow_origin(self, headers: Any, origin: str) -> None:
        explicit = not self.allow_all_origins or self.allow_credentials
        headers["access-control-allow-origin"] = origin if explicit else "*"
        if explicit:
            headers.add_vary("Origin")
        if self.allow_credentials:
            headers["access-control-allow-credentials"] = "true"

    def preflight(self, request: Any, origin: str) -> Response:
        """The answer to a preflight: 200 when origin, method and headers are allowed, else 400."""
        failures = []
        if not self.origin_allowed(origin):
            failures.append("origin")
        if request.headers["access-control-request-method"].upper() not in self.allow_methods:
            failures.append("method")
        requested = [h.strip().lower() for h in request.headers.get("access-control-request-headers", "").split(",") if h.strip()]
        if not self.allow_all_headers and any(h not in self.allow_headers for h in requested):
            failures.append("headers")
        response = Response.text(f"Disallowed CORS {', '.join(failures)}" if failures else "OK", status=400 if failures else 200)
        headers = response.headers
        headers.add_vary("Origin")
        if failures:
            return response
        self._allow_origin(headers, origin)
        headers["access-control-allow-methods"] = ", ".join(self.allow_methods)
        headers["access-control-allow-headers"] = ", ".join(requested) if self.allow_all_headers and requested else ", ".join(self.allow_headers)
        headers["access-control-max-age"] = str(self.max_age)
        return response

    def add_simple_headers(self, response: Any, origin: str) -> None:
        if not self.origin_allowed(origin):
            return
        self._allow_origin(response.headers, origin)
        if self.expose_headers:
            response.headers["access-control-expose-headers"] = ", ".join(self.expose_headers)

