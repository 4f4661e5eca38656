"""Sessions in the app's database: the ``hyperdjango_sessions`` table.

Created by ``hyper migrate`` (the built-in app ``hyperdjango.sessions``); expired
rows are ignored on load and deleted by ``hyper clearsessions``.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Awaitable
from typing import Any, TypeVar

from ..base import SessionStore
from ..models import Session

T = TypeVar("T")


def new_session_key() -> str:
    """A fresh random key (256 bits), unguessable and URL-safe."""
    return secrets.token_urlsafe(32)


def is_session_key(key: str) -> bool:
    """Whether ``key`` could be one of ours: a client's cookie of any other shape
    is an unknown session without a look-up (and never a cache-key error)."""
    return 0 < len(key) <= 64 and key.replace("-", "").replace("_", "").isalnum() and key.isascii()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class DatabaseStore(SessionStore):
    """Rows of :class:`~hyperdjango.sessions.models.Session` in the default database.

    While the PostgreSQL server cannot be reached, loading, saving and deleting raise
    ``SessionStoreUnavailable`` (503 with ``Retry-After``); the pool connects again by itself.
    """

    def _reach(self, operation: Awaitable[T]) -> Awaitable[T]:
        database = Session._meta.database
        return self.reach(operation, database.is_unreachable, f"the {database.vendor} database")

    async def load(self, session_key: str) -> dict[str, Any] | None:
        if not is_session_key(session_key):
            return None
        row = await self._reach(Session.objects.get(session_key=session_key, expire_date__gt=_now()))
        return None if row is None else dict(row.session_data)

    async def save(self, session_key: str | None, data: dict[str, Any], expiry_age: int) -> str:
        expire_date = _now() + datetime.timedelta(seconds=expiry_age)
        if session_key is not None:
            updated = await self._reach(
                Session.objects.filter(session_key=session_key).update(session_data=data, expire_date=expire_date)
            )
            if updated:
                return session_key
        # A new session always gets a new key: never one the client chose (fixation).
        key = new_session_key()
        await self._reach(Session.objects.create(session_key=key, session_data=data, expire_date=expire_date))
        return key

    async def delete(self, session_key: str) -> None:
        await self._reach(Session.objects.filter(session_key=session_key).delete())

    @staticmethod
    async def clear_expired() -> int:
        """Deletes the expired sessions; returns how many."""
        return await Session.objects.filter(expire_date__lt=_now()).delete()
