"""The database session store's table (``hyperdjango_sessions``)."""

from __future__ import annotations

import datetime

from ..orm import Field, Model


class Session(Model):
    """One stored session: its key, its JSON data and when it expires.

    ``hyper clearsessions`` deletes the expired rows (by the ``expire_date`` index).
    """

    class Meta:
        table = "hyperdjango_sessions"

    session_key: str = Field(primary_key=True, max_length=64)
    session_data: dict = Field(default_factory=dict)
    expire_date: datetime.datetime = Field(index=True)
