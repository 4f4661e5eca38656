"""``request.user`` from a Django project's login, for hyperdjango views beside it.

A HyperApp that mounts a Django project (docs/django.md) can let its own views
see the user who logged in through Django's login page or admin: the middleware
reads Django's session cookie, verifies it as Django does and loads the user
from Django's ``auth_user`` table::

    app = HyperApp(database="sqlite:///db.sqlite3")       # Django's database
    app.use(DjangoSessionAuthMiddleware(secret_key=DJANGO_SECRET_KEY))
    app.mount("/", django_asgi_app)

Django's rules are kept: the session must be live (``expire_date`` for the
database backend, the cookie age for the signed-cookie one), signed with the
project's ``SECRET_KEY`` (or one of its fallbacks), name an allowed backend, and
carry the hash of the user's current password (``_auth_user_hash``), so a
password change logs the session out; the user must be active. Anything else
is :class:`~hyperdjango.auth.AnonymousUser`, never an error. The session is
read only: Django stays the one that writes it.
"""

from __future__ import annotations

import datetime
import hmac
from collections.abc import Sequence
from typing import Any, Literal

from .. import signing
from .models import AnonymousUser

#: Django's salts: the database session data, the signed-cookie session, the password hash.
DB_SESSION_SALT = "django.contrib.sessions.SessionStore"
COOKIE_SESSION_SALT = "django.contrib.sessions.backends.signed_cookies"
AUTH_HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"

_USER_FIELDS = ("id", "password", "username", "email", "first_name", "last_name",
                "is_active", "is_staff", "is_superuser", "last_login", "date_joined")


class DjangoUser:
    """A row of Django's ``auth_user``, read only: what a hyperdjango view needs to
    know who is there. Permissions stay Django's (``has_perm`` is True for an
    active superuser only; check others in Django or move the user model)."""

    is_anonymous = False
    is_authenticated = True
    # The columns of _USER_FIELDS, set from the row by __init__.
    id: int
    password: str
    username: str
    email: str
    first_name: str
    last_name: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    last_login: Any  # the datetime columns as the database's driver reads them
    date_joined: Any

    def __init__(self, row: Any) -> None:
        for name in _USER_FIELDS:
            setattr(self, name, row[name])
        self.pk = self.id
        self.is_active, self.is_staff, self.is_superuser = bool(self.is_active), bool(self.is_staff), bool(self.is_superuser)

    def get_username(self) -> str:
        return self.username

    async def has_perm(self, perm: str) -> bool:
        return self.is_active and self.is_superuser

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"<DjangoUser {self.username!r}>"


class DjangoSessionAuthMiddleware:
    """Sets ``request.user`` from Django's session cookie: a :class:`DjangoUser` or
    :class:`~hyperdjango.auth.AnonymousUser`.

    ``secret_key`` and ``secret_key_fallbacks`` are the Django project's
    ``SECRET_KEY``/``SECRET_KEY_FALLBACKS``; ``engine`` its ``SESSION_ENGINE``
    (``"db"``: rows of ``session_table``; ``"signed_cookies"``: the cookie itself,
    ``cookie_age`` its ``SESSION_COOKIE_AGE``); ``cookie_name`` its
    ``SESSION_COOKIE_NAME``; ``backends`` its ``AUTHENTICATION_BACKENDS``. The
    tables are read through ``database`` (the app's by default).
    """

    def __init__(
        self,
        *,
        secret_key: str,
        secret_key_fallbacks: Sequence[str] = (),
        engine: Literal["db", "signed_cookies"] = "db",
        cookie_name: str = "sessionid",
        cookie_age: int = 60 * 60 * 24 * 14,
        session_table: str = "django_session",
        user_table: str = "auth_user",
        backends: Sequence[str] = ("django.contrib.auth.backends.ModelBackend",),
        database: Any = None,
    ) -> None:
        if engine not in ("db", "signed_cookies"):
            raise ValueError(f"engine={engine!r}: Django's 'db' or 'signed_cookies' session engine")
        if not secret_key:
            raise ValueError("secret_key: the Django project's SECRET_KEY is needed to verify its sessions")
        for table in (session_table, user_table):
            if not table.replace("_", "").isalnum():
                raise ValueError(f"table name {table!r}: letters, digits and underscores only")
        self.keys = (secret_key, *secret_key_fallbacks)
        self.engine = engine
        self.cookie_name = cookie_name
        self.cookie_age = cookie_age
        self.backends = frozenset(backends)
        self.database = database
        self.session_sql = f"SELECT session_data, expire_date FROM {session_table} WHERE session_key = $1"
        self.user_sql = f"SELECT {', '.join(_USER_FIELDS)} FROM {user_table} WHERE id = $1"

    async def __call__(self, request: Any, next_handler: Any) -> Any:
        request.user = await self.user_for(request)
        return await next_handler(request)

    async def user_for(self, request: Any) -> Any:
        """The logged-in Django user of ``request``'s cookie, or AnonymousUser."""
        cookie = request.cookies.get(self.cookie_name)
        database = self.database if self.database is not None else request.app.database
        session = await self.load_session(cookie, database) if cookie else None
        if not isinstance(session, dict) or session.get("_auth_user_backend") not in self.backends:
            return AnonymousUser()
        try:
            user_id = int(session.get("_auth_user_id", ""))
        except (TypeError, ValueError):
            return AnonymousUser()
        row = await database.query_one(self.user_sql, user_id)
        if row is None or not row["is_active"] or not self.hash_matches(session.get("_auth_user_hash"), row["password"]):
            return AnonymousUser()
        return DjangoUser(row)

    async def load_session(self, cookie: str, database: Any) -> Any:
        """The session's data, or None when it is unknown, expired or not signed by the project."""
        try:
            if self.engine == "signed_cookies":
                return self._loads(cookie, COOKIE_SESSION_SALT, self.cookie_age)
            if not (0 < len(cookie) <= 40 and cookie.isalnum()):  # Django's keys: 32 of [a-z0-9]
                return None
            row = await database.query_one(self.session_sql, cookie)
            if row is None or _as_utc(row["expire_date"]) <= datetime.datetime.now(datetime.UTC):
                return None
            return self._loads(row["session_data"], DB_SESSION_SALT, None)
        except signing.BadSignature:
            return None

    def _loads(self, signed: str, salt: str, max_age: int | None) -> Any:
        return signing.loads(signed, key=self.keys[0], salt=salt, max_age=max_age, fallback_keys=self.keys[1:])

    def hash_matches(self, session_hash: Any, password: str) -> bool:
        """Whether the session was made for the user's current password (any of the keys, as Django 5)."""
        if not isinstance(session_hash, str):
            return False
        return any(
            hmac.compare_digest(session_hash, signing.salted_hmac_digest(AUTH_HASH_SALT, password, key).hex())
            for key in self.keys
        )


def _as_utc(value: Any) -> datetime.datetime:
    """Django's ``expire_date``: an aware datetime (PostgreSQL) or naive UTC (SQLite, as text or decoded)."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)
