"""API tokens: ``Authorization: Bearer <token>``, stored hashed, revocable, expiring.

    token, row = await create_token(user, name="ci", expires_in=timedelta(days=30))

The token is shown once (``hyper createtoken USER`` prints it); only its
SHA-256 is stored, so a leaked database does not leak usable tokens. A token
has 256 random bits, so a plain hash is enough (no slow hash needed).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import Any

from ..orm import Field, Model

#: Tokens start with this, so secret scanners and people recognise them.
PREFIX = "hd_"


class Token(Model):
    """One API token of a user (``user_id`` of the user model in use)."""

    class Meta:
        table = "hyperdjango_auth_tokens"

    key_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(index=True)
    name: str = Field(max_length=100, default="")
    created: datetime.datetime = Field(auto_now_add=True)
    expires: datetime.datetime | None = None
    last_used: datetime.datetime | None = None
    revoked: bool = False

    async def revoke(self) -> None:
        """The token stops working at once."""
        self.revoked = True
        await self.save(update_fields=["revoked"])


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def create_token(user: Any, name: str = "", expires_in: datetime.timedelta | None = None) -> tuple[str, Token]:
    """A new token for ``user``: ``(the token, its row)``; the token is not stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = await Token.objects.create(
        key_hash=hash_token(token),
        user_id=user.pk,
        name=name,
        expires=None if expires_in is None else _now() + expires_in,
    )
    return token, row


async def user_for_token(token: str) -> Any:
    """The active user of a live token, or None (unknown, revoked, expired)."""
    from . import get_user_model

    if not token.startswith(PREFIX):
        return None
    row = await Token.objects.filter(key_hash=hash_token(token), revoked=False).first()
    if row is None or (row.expires is not None and row.expires <= _now()):
        return None
    return await get_user_model().objects.filter(pk=row.user_id, is_active=True).first()
