"""Exceptions a view raises to answer with an HTTP error."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any


class HTTPException(Exception):
    """Raise anywhere in a request to answer ``status`` with ``{"detail": detail}``.

    >>> from hyperdjango import HTTPException
    >>> e = HTTPException(404, "no such product")
    >>> e.status_code, e.detail
    (404, 'no such product')

    ``detail`` defaults to the status phrase; it may be any JSON value.
    ``headers`` are added to the response (for example ``WWW-Authenticate``).
    """

    def __init__(self, status_code: int, detail: Any = None, headers: Mapping[str, str] | None = None) -> None:
        if detail is None:
            try:
                detail = HTTPStatus(status_code).phrase
            except ValueError:
                detail = "Error"
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers or {})

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"HTTPException(status_code={self.status_code!r}, detail={self.detail!r})"


class ServiceUnavailable(HTTPException):
    """A service the request needs (the cache behind the sessions, a channel layer's server)
    cannot be reached: ``503`` with ``Retry-After``, so clients and proxies retry instead of
    taking it for a bug (a 500).

    >>> e = ServiceUnavailable("the session store cannot be reached")
    >>> e.status_code, e.headers
    (503, {'retry-after': '1'})
    """

    def __init__(self, detail: Any = None, retry_after: int = 1) -> None:
        super().__init__(503, detail, headers={"retry-after": str(retry_after)})
