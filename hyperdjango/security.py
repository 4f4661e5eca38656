"""Credentials read from a request, as dependencies that also document themselves in OpenAPI.

>>> from hyperdjango.params import Depends
>>> bearer = HTTPBearer()
>>> async def current_user(token: str = Depends(bearer)):
...     return {"token": token}

A scheme is a callable dependency: it returns the credential, or answers 401
(``auto_error=True``, the default) when there is none; with ``auto_error=False``
it returns None and the provider decides. Every operation that depends on a
scheme lists it under ``security`` in the OpenAPI document, and the scheme
appears under ``components.securitySchemes`` by its ``scheme_name``.
"""

from __future__ import annotations

from typing import Any

from .exceptions import HTTPException
from .requests import Request


class SecurityScheme:
    """Base of the schemes: ``openapi`` is the scheme's OpenAPI object."""

    scheme_name: str
    openapi: dict[str, Any]

    def __init__(self, *, scheme_name: str | None = None, description: str | None = None, auto_error: bool = True) -> None:
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error
        if description:
            self.openapi = {**self.openapi, "description": description}

    def _missing(self, challenge: str) -> None:
        if self.auto_error:
            raise HTTPException(401, "Not authenticated", headers={"www-authenticate": challenge} if challenge else None)


class HTTPBearer(SecurityScheme):
    """``Authorization: Bearer <token>``; returns the token."""

    def __init__(self, *, bearer_format: str | None = None, **options: Any) -> None:
        self.openapi = {"type": "http", "scheme": "bearer", **({"bearerFormat": bearer_format} if bearer_format else {})}
        super().__init__(**options)

    async def __call__(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            self._missing("Bearer")
            return None
        return token.strip()


class _APIKey(SecurityScheme):
    """A key read from one place of the request (``location``), by ``name``; returns the key."""

    location = ""

    def __init__(self, *, name: str, **options: Any) -> None:
        self.name = name
        self.openapi = {"type": "apiKey", "in": self.location, "name": name}
        super().__init__(**options)

    def _read(self, request: Request) -> str | None:
        raise NotImplementedError

    async def __call__(self, request: Request) -> str | None:
        key = self._read(request)
        if not key:
            self._missing("")
        return key or None


class APIKeyHeader(_APIKey):
    """An API key in a header (``X-API-Key`` by default)."""

    location = "header"

    def __init__(self, *, name: str = "X-API-Key", **options: Any) -> None:
        super().__init__(name=name, **options)

    def _read(self, request: Request) -> str | None:
        return request.headers.get(self.name)


class APIKeyQuery(_APIKey):
    """An API key in the query string (``?api_key=...`` by default)."""

    location = "query"

    def __init__(self, *, name: str = "api_key", **options: Any) -> None:
        super().__init__(name=name, **options)

    def _read(self, request: Request) -> str | None:
        return request.query.get(self.name)


class APIKeyCookie(_APIKey):
    """A cookie holding a key or a session id (``sessionid`` by default).

    This is how an API authenticated by the session cookie documents itself.
    """

    location = "cookie"

    def __init__(self, *, name: str = "sessionid", **options: Any) -> None:
        super().__init__(name=name, **options)

    def _read(self, request: Request) -> str | None:
        return request.cookies.get(self.name)
