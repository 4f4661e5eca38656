"""AuthenticationMiddleware: ``request.user``, loaded once per request."""

from __future__ import annotations

from typing import Any

from ..sessions.base import SessionStoreUnavailable
from ..settings import ImproperlyConfigured


class AuthenticationMiddleware:
    """Sets ``request.user`` before the view: the session's user (one query, only
    when the session names one) or :class:`~hyperdjango.auth.AnonymousUser`.

    ``token_auth=True`` (the default) also accepts ``Authorization: Bearer <token>``
    (see :mod:`hyperdjango.auth.tokens`); the view sees ``request.user`` alike.
    Needs :class:`~hyperdjango.sessions.SessionMiddleware` outside it. While the
    session store cannot be reached, ``request.user`` is an :class:`UnreachableUser`.
    """

    requires_secret_key = True

    def __init__(self, token_auth: bool = True) -> None:
        self.token_auth = token_auth

    async def __call__(self, request: Any, next_handler: Any) -> Any:
        from . import get_user

        if not hasattr(request, "session"):
            raise ImproperlyConfigured("AuthenticationMiddleware needs SessionMiddleware: app.use() it first")
        authorization = request.headers.get("authorization", "")
        if self.token_auth and authorization[:7].lower() == "bearer ":
            from .models import AnonymousUser
            from .tokens import user_for_token

            # A bad token is anonymous, never the session's user: the client meant the token.
            user = await user_for_token(authorization[7:].strip())
            request.user = user if user is not None else AnonymousUser()
        else:
            try:
                request.user = await get_user(request)
            except SessionStoreUnavailable as exc:
                request.user = UnreachableUser(exc)
        return await next_handler(request)


class UnreachableUser:
    """``request.user`` while the session store cannot be reached: any use of it raises
    the store's ``SessionStoreUnavailable`` (a 503), so a view that never looks at the
    user still answers.

    >>> from hyperdjango.sessions import SessionStoreUnavailable
    >>> user = UnreachableUser(SessionStoreUnavailable("the session store cannot be reached"))
    >>> user.is_authenticated
    Traceback (most recent call last):
    hyperdjango.sessions.base.SessionStoreUnavailable: 503: the session store cannot be reached
    """

    def __init__(self, error: SessionStoreUnavailable) -> None:
        self._error = error

    def __getattr__(self, name: str) -> Any:
        raise self._error

    def __bool__(self) -> bool:
        raise self._error

    def __repr__(self) -> str:
        return f"<UnreachableUser: {self._error.detail}>"
