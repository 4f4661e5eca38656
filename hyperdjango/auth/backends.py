"""Authentication backends: who a username and password (or anything else) are.

A backend is any object with ``async authenticate(request, **credentials)``
returning a user or None, and ``async get_user(user_id)``. :class:`ModelBackend`
checks the user model's password; a project lists its own with
:func:`hyperdjango.auth.set_backends` (Django's ``AUTHENTICATION_BACKENDS``).
"""

from __future__ import annotations

from typing import Any

from . import hashers


class ModelBackend:
    """Username and password against the user model; inactive users are refused."""

    async def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any) -> Any:
        from . import get_user_model

        model = get_user_model()
        if username is None:
            username = kwargs.get(model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = await model.objects.filter(**{model.USERNAME_FIELD: model.normalize_username(username)}).first()
        if user is None:
            # Hash anyway so that an unknown username takes as long as a wrong
            # password (Django's defence against user enumeration by timing).
            await hashers.make_password(password)
            return None
        if await user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def user_can_authenticate(self, user: Any) -> bool:
        return getattr(user, "is_active", True)

    async def get_user(self, user_id: Any) -> Any:
        from . import get_user_model

        # get(): no ordering and no extra clones (first() would add both), as Django's get_user.
        user = await get_user_model().objects.get(pk=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
