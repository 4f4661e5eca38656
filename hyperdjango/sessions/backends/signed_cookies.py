"""Sessions kept in the cookie itself, signed (not encrypted) with the secret key.

The cookie is Django's (``signing.dumps`` with its salt, compressed), so a
session cookie set by a Django project on the same key stays valid. Nothing is
stored server-side: a flushed session cannot be revoked before it expires, and
the data is readable by the client. Keep it small (browsers cap cookies at 4 KiB).
"""

from __future__ import annotations

from typing import Any

from ... import signing
from ..base import SessionStore

SALT = "django.contrib.sessions.backends.signed_cookies"


class SignedCookieStore(SessionStore):
    """The cookie value is the signed, timestamped data; ``max_age`` bounds its age."""

    def __init__(self, max_age: int) -> None:
        self.max_age = max_age

    async def load(self, session_key: str) -> dict[str, Any] | None:
        try:
            data = signing.loads(session_key, salt=SALT, max_age=self.max_age)
        except signing.BadSignature:  # tampered, expired, or signed with a retired key
            return None
        return data if isinstance(data, dict) else None

    async def save(self, session_key: str | None, data: dict[str, Any], expiry_age: int) -> str:
        return signing.dumps(data, salt=SALT, compress=True)

    async def delete(self, session_key: str) -> None:
        """Nothing to delete: the client drops the cookie."""
