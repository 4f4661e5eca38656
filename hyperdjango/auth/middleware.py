"""AuthenticationMiddleware: ``request.user``, loaded once per request."""

from __future__ import annotations

from typing import Any

from ..exceptions import ServiceUnavailable
from ..sessions.base import SessionStoreUnavailable
from ..settings import ImproperlyConfigured


class UserStoreUnavailable(ServiceUnavailable):
    """The database holding the users cannot be reached (it is down or restarting) while the
    session, kept elsewhere (a memory or Redis cache), names a user: the request is answered
    503 with ``Retry-After`` at the first use of ``request.user``; once the server is back
    the next request finds its user again (the pool reconnects)."""


class AuthenticationMiddleware:
    """Sets ``request.user`` before the view: the session's user (one query, only
    when the session names one) or :class:`~hyperdjango.auth.AnonymousUser`.

    ``token_auth=True`` (the default) also accepts ``Authorization: Bearer <token>``
    (see :mod:`hyperdjango.auth.tokens`); the view sees ``request.user`` alike.
    Needs :class:`~hyperdjango.sessions.SessionMiddleware` outside it. While the
    session store, or the database of the users, cannot be reached, ``request.user`` is an
    :class:`UnreachableUser` (a 503 at its first use).
    """

    requires_secret_key = True

    def __init__(self, token_auth: bool = True) -> None:
        self.token_auth = token_auth

    async def __call__(self, request: Any, next_handler: Any) -> Any:
        if not hasattr(request, "session"):
            raise ImproperlyConfigured("AuthenticationMiddleware needs SessionMiddleware: app.use() it first")
        try:
            request.user = await self._user(request)
        except SessionStoreUnavailable as exc:
            request.user = UnreachableUser(exc)
        except Exception as exc:
            request.user = UnreachableUser(_user_store_unavailable(exc))
        return await next_handler(request)

    async def _user(self, request: Any) -> Any:
        from . import get_user
        from .models import AnonymousUser

        authorization = request.headers.get("authorization", "")
        if self.token_auth and authorization[:7].lower() == "bearer ":
            from .tokens import user_for_token

            # A bad token is anonymous, never the session's user: the client meant the token.
            user = await user_for_token(authorization[7:].strip())
            return user if user is not None else AnonymousUser()
        return await get_user(request)


def _user_store_unavailable(error: Exception) -> UserStoreUnavailable:
    """``UserStoreUnavailable`` for an error of the users' database that cannot be reached;
    any other error is raised again as it is."""
    from . import get_user_model

    database = get_user_model()._meta.database
    if not database.is_unreachable(error):
        raise error
    unavailable = UserStoreUnavailable(f"the user store (the {database.vendor} database) cannot be reached; retry shortly")
    unavailable.__cause__ = error
    return unavailable


class UnreachableUser:
    """``request.user`` while the session store or the users' database cannot be reached:
    any use of it raises the store's ``SessionStoreUnavailable`` (or ``UserStoreUnavailable``),
    a 503, so a view that never looks at the user still answers.

    >>> from hyperdjango.sessions import SessionStoreUnavailable
    >>> user = UnreachableUser(SessionStoreUnavailable("the session store cannot be reached"))
    >>> user.is_authenticated
    Traceback (most recent call last):
    hyperdjango.sessions.base.SessionStoreUnavailable: 503: the session store cannot be reached
    """

    def __init__(self, error: ServiceUnavailable) -> None:
        self._error = error

    def __getattr__(self, name: str) -> Any:
        raise self._error

    def __bool__(self) -> bool:
        raise self._error

    def __repr__(self) -> str:
        return f"<UnreachableUser: {self._error.detail}>"
