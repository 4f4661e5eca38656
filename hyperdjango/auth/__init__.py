"""Users, passwords, login and permissions: Django's ``contrib.auth``, async.

>>> from hyperdjango import HyperApp
>>> from hyperdjango.sessions import SessionMiddleware
>>> from hyperdjango.auth import AuthenticationMiddleware
>>> app = HyperApp(secret_key="change me")
>>> _ = app.use(SessionMiddleware(engine="db"))
>>> _ = app.use(AuthenticationMiddleware())

In a view: ``user = await authenticate(request, username=..., password=...)``,
``await login(request, user)``, ``await logout(request)``; ``request.user`` is
the user or :class:`AnonymousUser`; ``await request.user.has_perm("shop.change_product")``.
See docs/auth.md.
"""

from __future__ import annotations

import datetime
import hmac
import logging
from typing import Any

from ..middleware.csrf import rotate_token
from ..signing import salted_hmac_digest
from .backends import ModelBackend
from .decorators import login_required, permission_required, staff_required
from .middleware import AuthenticationMiddleware, UnreachableUser, UserStoreUnavailable
from .models import AbstractBaseUser, AbstractUser, AnonymousUser, Group, Permission, PermissionsMixin, User
from .tokens import Token, create_token

__all__ = [
    "AbstractBaseUser",
    "AbstractUser",
    "AnonymousUser",
    "AuthenticationMiddleware",
    "Group",
    "ModelBackend",
    "Permission",
    "PermissionsMixin",
    "Token",
    "UnreachableUser",
    "User",
    "UserStoreUnavailable",
    "authenticate",
    "create_token",
    "get_user",
    "get_user_model",
    "login",
    "login_required",
    "logout",
    "permission_required",
    "set_backends",
    "set_user_model",
    "staff_required",
    "update_session_auth_hash",
]

log = logging.getLogger("hyperdjango.auth")

#: The session keys login() writes, Django's names.
SESSION_KEY = "_auth_user_id"
BACKEND_SESSION_KEY = "_auth_user_backend"
HASH_SESSION_KEY = "_auth_user_hash"

_user_model: type = User
_backends: list[Any] = [ModelBackend()]


def get_user_model() -> Any:
    """The user model in use (Django's ``get_user_model()``)."""
    return _user_model


def set_user_model(model: type) -> None:
    """Uses ``model`` (a subclass of AbstractBaseUser) as the user model (``AUTH_USER_MODEL``)."""
    global _user_model
    _user_model = model


def set_backends(backends: list[Any]) -> None:
    """The authentication backends, tried in order (``AUTHENTICATION_BACKENDS``)."""
    global _backends, _backends_by_path
    _backends = list(backends)
    _backends_by_path = {_backend_path(b): b for b in reversed(_backends)}


def _backend_path(backend: Any) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


#: Each backend by the dotted path login() stores in the session (derived from _backends;
#: the first of equal paths wins, as a scan would find it).
_backends_by_path: dict[str, Any] = {_backend_path(b): b for b in _backends}


def _session_auth_hash(user: Any) -> str:
    """Changes when the password changes, so other sessions of that user end (Django's rule)."""
    return salted_hmac_digest("hyperdjango.auth.session_auth_hash", user.password or "", _secret()).hex()


def _secret() -> str:
    from ..settings import current

    return current().require_secret_key()


async def authenticate(request: Any = None, **credentials: Any) -> Any:
    """The user the credentials identify, from the first backend that knows; else None."""
    for backend in _backends:
        try:
            user = await backend.authenticate(request, **credentials)
        except TypeError:  # this backend does not take these credentials
            continue
        if user is not None:
            user.backend = _backend_path(backend)
            return user
    log.info("failed login for %r", credentials.get("username"))
    return None


async def login(request: Any, user: Any, backend: str | None = None) -> None:
    """Logs ``user`` in: a new session key (against fixation), the user's id in the
    session, ``request.user`` set and ``last_login`` saved."""
    session = request.session
    if SESSION_KEY in session and str(session[SESSION_KEY]) != str(user.pk):
        session.flush()  # another user's session: start from nothing
    else:
        session.cycle_key()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = backend or getattr(user, "backend", None) or _backend_path(_backends[0])
    session[HASH_SESSION_KEY] = _session_auth_hash(user)
    request.user = user
    rotate_token(request)  # a CSRF token seen before login is worth nothing after it
    if hasattr(user, "last_login"):
        user.last_login = datetime.datetime.now(datetime.UTC)
        await user.save(update_fields=["last_login"])


async def logout(request: Any) -> None:
    """Ends the session (data and key) and makes ``request.user`` anonymous."""
    request.session.flush()
    request.user = AnonymousUser()


async def get_user(request: Any) -> Any:
    """The user of the request's session, or AnonymousUser; a session whose
    password hash no longer matches (password changed) counts as logged out."""
    session = getattr(request, "session", None)
    if session is None or SESSION_KEY not in session:
        return AnonymousUser()
    backend_path = session.get(BACKEND_SESSION_KEY)
    backend = _backends_by_path.get(backend_path) if isinstance(backend_path, str) else None
    if backend is None:
        return AnonymousUser()
    user = await backend.get_user(session[SESSION_KEY])
    if user is None:
        return AnonymousUser()
    if not hmac.compare_digest(str(session.get(HASH_SESSION_KEY, "")), _session_auth_hash(user)):
        session.flush()
        return AnonymousUser()
    return user


async def update_session_auth_hash(request: Any, user: Any) -> None:
    """Keeps the current session logged in after ``user`` changed its password."""
    request.session.cycle_key()
    if str(request.session.get(SESSION_KEY)) == str(user.pk):
        request.session[HASH_SESSION_KEY] = _session_auth_hash(user)
