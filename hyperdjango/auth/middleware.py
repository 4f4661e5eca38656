"""AuthenticationMiddleware: ``request.user``, loaded once per request."""

from __future__ import annotations

from typing import Any

from ..settings import ImproperlyConfigured


class AuthenticationMiddleware:
    """Sets ``request.user`` before the view: the session's user (one query, only
    when the session names one) or :class:`~hyperdjango.auth.AnonymousUser`.

    ``token_auth=True`` (the default) also accepts ``Authorization: Bearer <token>``
    (see :mod:`hyperdjango.auth.tokens`); the view sees ``request.user`` alike.
    Needs :class:`~hyperdjango.sessions.SessionMiddleware` outside it.
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
            request.user = await get_user(request)
        return await next_handler(request)
