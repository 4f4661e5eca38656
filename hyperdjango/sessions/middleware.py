"""SessionMiddleware: ``request.session``, loaded once before the view, saved after it."""

from __future__ import annotations

import logging
from typing import Any, Literal

from .base import Session, SessionStore, SessionStoreUnavailable, UnreachableSession

log = logging.getLogger("hyperdjango.sessions")


def store_for(engine: str | SessionStore, cookie_age: int, cache_alias: str) -> SessionStore:
    """The store named by ``engine`` (Django's ``SESSION_ENGINE`` last part)."""
    if isinstance(engine, SessionStore):
        return engine
    if engine in ("signed_cookies", "signed_cookie", "cookie"):
        from .backends.signed_cookies import SignedCookieStore

        return SignedCookieStore(max_age=cookie_age)
    if engine in ("db", "database"):
        from .backends.db import DatabaseStore

        return DatabaseStore()
    if engine == "cache":
        from .backends.cache import CacheStore

        return CacheStore(cache_alias)
    raise ValueError(f"unknown session engine {engine!r}: 'signed_cookies', 'db', 'cache' or a SessionStore")


class SessionMiddleware:
    """Gives every request ``request.session`` (see :class:`~hyperdjango.sessions.base.Session`).

    >>> from hyperdjango import HyperApp
    >>> app = HyperApp(secret_key="change me")
    >>> _ = app.use(SessionMiddleware(engine="signed_cookies"))

    The session is read once, asynchronously, before the view; after the view it
    is saved only when changed (or on every request with
    ``save_every_request=True``), and a flushed or cycled key is deleted. A
    cookie that is tampered with, expired or unknown gives an empty session.
    While the store cannot be reached, the first use of ``request.session`` raises
    ``SessionStoreUnavailable`` (503 with ``Retry-After``), and a view that never
    uses it answers as usual, its cookie left alone.
    Arguments mirror Django's ``SESSION_*`` settings (docs/auth.md maps them).
    """

    requires_secret_key = True

    def __init__(
        self,
        engine: str | SessionStore = "signed_cookies",
        *,
        cookie_name: str = "sessionid",
        cookie_age: int = 60 * 60 * 24 * 14,
        cookie_domain: str | None = None,
        cookie_path: str = "/",
        cookie_secure: bool = False,
        cookie_httponly: bool = True,
        cookie_samesite: Literal["lax", "strict", "none"] | None = "lax",
        save_every_request: bool = False,
        expire_at_browser_close: bool = False,
        cache_alias: str = "default",
    ) -> None:
        self.store = store_for(engine, cookie_age, cache_alias)
        self.cookie_name = cookie_name
        self.cookie_age = cookie_age
        self.cookie_domain = cookie_domain
        self.cookie_path = cookie_path
        self.cookie_secure = cookie_secure
        self.cookie_httponly = cookie_httponly
        self.cookie_samesite = cookie_samesite
        self.save_every_request = save_every_request
        self.expire_at_browser_close = expire_at_browser_close

    async def __call__(self, request: Any, next_handler: Any) -> Any:
        key = request.cookies.get(self.cookie_name) or None
        try:
            data = await self.store.load(key) if key else None
        except SessionStoreUnavailable as exc:
            assert key is not None
            # Raised by the first use of the session: a view without one still answers.
            request.session = UnreachableSession(key, exc, cookie_age=self.cookie_age, expire_at_browser_close=self.expire_at_browser_close)
        else:
            request.session = Session(
                key if data is not None else None,
                data or {},
                cookie_age=self.cookie_age,
                expire_at_browser_close=self.expire_at_browser_close,
            )
        response = await next_handler(request)
        await self.commit(request.session, response, had_cookie=key is not None)
        return response

    async def commit(self, session: Session, response: Any, had_cookie: bool) -> None:
        """Stores what the request changed and sets (or deletes) the cookie."""
        if session.unavailable is not None:
            return  # never loaded, so unchanged: the client keeps its cookie
        for old_key in session.discarded_keys:
            await self.store.delete(old_key)
        if session.accessed:
            response.headers.add_vary("Cookie")
        if not session.data:
            if had_cookie:
                response.delete_cookie(self.cookie_name, path=self.cookie_path, domain=self.cookie_domain)
            return
        if not (session.modified or self.save_every_request) or response.status_code >= 500:
            return
        age = session.get_expiry_age()
        session.session_key = await self.store.save(session.session_key, session.data, age)
        response.set_cookie(
            self.cookie_name,
            session.session_key,
            max_age=None if session.get_expire_at_browser_close() else age,
            path=self.cookie_path,
            domain=self.cookie_domain,
            secure=self.cookie_secure,
            httponly=self.cookie_httponly,
            samesite=self.cookie_samesite,
        )

