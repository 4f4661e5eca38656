"""The session a view sees as ``request.session``: Django's dict API, no I/O.

The middleware loads the data once, asynchronously, before the view, and saves
it after the response only when it changed. So every method here is
synchronous and never blocks: ``flush()`` and ``cycle_key()`` only record what
the store must do when the response is on its way. When the store could not be
reached, the error is raised at the first use of the data (a 503), not before
the view: a view that never uses its session still answers.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from ..exceptions import ServiceUnavailable

T = TypeVar("T")

#: Where ``set_expiry`` keeps its value inside the data, as Django does.
EXPIRY_KEY = "_session_expiry"


class Session:
    """``request.session``: ``get``, ``[]``, ``pop``, ``setdefault``, ``update``,
    ``flush()``, ``cycle_key()``, ``set_expiry()``, ``modified``, ``accessed``.

    >>> s = Session(None, {}, cookie_age=1209600)
    >>> s["cart"] = [1]
    >>> s.modified, s.get("cart"), s.get_expiry_age()
    (True, [1], 1209600)
    """

    #: Why the data could not be loaded (see :class:`UnreachableSession`); None when it was.
    unavailable: SessionStoreUnavailable | None = None

    def __init__(self, session_key: str | None, data: dict[str, Any], *, cookie_age: int, expire_at_browser_close: bool = False) -> None:
        #: The key of the stored session (None: not stored yet).
        self.session_key = session_key
        self._data = data
        self._cookie_age = cookie_age
        self._expire_at_browser_close = expire_at_browser_close
        #: Changed during this request: saved after the response.
        self.modified = False
        #: Read or written during this request (the response then varies on Cookie).
        self.accessed = False
        #: Keys whose stored sessions must be deleted (flushed or cycled).
        self.discarded_keys: list[str] = []

    # -- the dict API -----------------------------------------------------------------

    def _read(self) -> dict[str, Any]:
        self.accessed = True
        return self._data

    def _write(self) -> dict[str, Any]:
        self.accessed = self.modified = True
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._read()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._write()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._write()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._read()

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())

    def get(self, key: str, default: Any = None) -> Any:
        return self._read().get(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        data = self._read()
        if key in data:
            self.modified = True
        return data.pop(key, *default)

    def setdefault(self, key: str, value: Any) -> Any:
        data = self._read()
        if key not in data:
            self.modified = True
            data[key] = value
        return data[key]

    def update(self, other: dict[str, Any]) -> None:
        self._write().update(other)

    def keys(self) -> Any:
        return self._read().keys()

    def values(self) -> Any:
        return self._read().values()

    def items(self) -> Any:
        return self._read().items()

    def clear(self) -> None:
        """Empties the data; the key stays (``flush()`` also drops the key)."""
        self._write().clear()

    def is_empty(self) -> bool:
        return not self.session_key and not self._data

    # -- keys -------------------------------------------------------------------------

    def flush(self) -> None:
        """Empties the session and forgets its key: the stored session is deleted
        after the response and the cookie removed (``logout`` does this)."""
        self._write().clear()
        self._discard_key()

    def cycle_key(self) -> None:
        """Keeps the data under a new key; the old key stops working (``login``
        does this, against session fixation)."""
        self._write()
        self._discard_key()

    def _discard_key(self) -> None:
        if self.session_key:
            self.discarded_keys.append(self.session_key)
        self.session_key = None

    async def aflush(self) -> None:
        """Django 5's async spelling of :meth:`flush` (which never blocks here)."""
        self.flush()

    async def acycle_key(self) -> None:
        """Django 5's async spelling of :meth:`cycle_key`."""
        self.cycle_key()

    # -- expiry -----------------------------------------------------------------------

    def set_expiry(self, value: int | datetime.datetime | datetime.timedelta | None) -> None:
        """Seconds of inactivity (an int or timedelta), an aware datetime, 0 (when the
        browser closes) or None (back to the default cookie age)."""
        data = self._write()
        if value is None:
            data.pop(EXPIRY_KEY, None)
            return
        if isinstance(value, datetime.timedelta):
            value = int(value.total_seconds())
        elif isinstance(value, datetime.datetime):
            value = max(0, int((value - datetime.datetime.now(datetime.UTC)).total_seconds())) or 1
        data[EXPIRY_KEY] = int(value)

    def get_expiry_age(self) -> int:
        """Seconds the session lives from now."""
        expiry = self._data.get(EXPIRY_KEY)
        return self._cookie_age if not expiry else int(expiry)

    def get_expiry_date(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=self.get_expiry_age())

    def get_expire_at_browser_close(self) -> bool:
        expiry = self._data.get(EXPIRY_KEY)
        return self._expire_at_browser_close if expiry is None else expiry == 0

    @property
    def data(self) -> dict[str, Any]:
        """The data itself, for stores (reading it does not count as access)."""
        return self._data

    def __repr__(self) -> str:
        return f"<Session {self.session_key!r} {len(self._data)} keys{' modified' if self.modified else ''}>"


class UnreachableSession(Session):
    """``request.session`` when its store could not be reached: every use of the data
    raises the store's error (a 503), so a view that never uses its session still answers
    (its own class, so that a loaded session pays no check on each use).

    >>> s = UnreachableSession("key", SessionStoreUnavailable("the session store cannot be reached"), cookie_age=60)
    >>> s.get("cart")
    Traceback (most recent call last):
    hyperdjango.sessions.base.SessionStoreUnavailable: 503: the session store cannot be reached
    """

    def __init__(self, session_key: str, unavailable: SessionStoreUnavailable, *, cookie_age: int, expire_at_browser_close: bool = False) -> None:
        super().__init__(session_key, {}, cookie_age=cookie_age, expire_at_browser_close=expire_at_browser_close)
        self.unavailable = unavailable

    def _unavailable(self) -> Any:
        assert self.unavailable is not None
        raise self.unavailable

    _read = _write = _unavailable

    def is_empty(self) -> bool:
        return self._unavailable()

    def get_expiry_age(self) -> int:
        return self._unavailable()

    def get_expire_at_browser_close(self) -> bool:
        return self._unavailable()


class SessionStoreUnavailable(ServiceUnavailable):
    """The server holding the sessions (the cache's, the database's) cannot be reached (it is
    down or restarting): the request is answered 503 with ``Retry-After``; the next one, once
    the server is back, works again (its client reconnects)."""


class SessionStore:
    """Where sessions live. A backend implements these three coroutines.

    ``load`` returns the data of a live session or None (missing, expired or
    tampered: never an exception for bad input); ``save`` stores the data and
    returns the key to put in the cookie; ``delete`` forgets a key. A store whose
    server cannot be reached raises :class:`SessionStoreUnavailable` (see ``reach``).
    """

    @staticmethod
    async def reach(operation: Awaitable[T], unreachable: Callable[[BaseException], bool], server: str) -> T:
        """``operation``'s result; an error for which ``unreachable`` holds becomes
        ``SessionStoreUnavailable`` naming ``server`` (any other error stays as it is)."""
        try:
            return await operation
        except Exception as exc:
            if unreachable(exc):
                raise SessionStoreUnavailable(f"the session store ({server}) cannot be reached; retry shortly") from exc
            raise

    async def load(self, session_key: str) -> dict[str, Any] | None:
        raise NotImplementedError

    async def save(self, session_key: str | None, data: dict[str, Any], expiry_age: int) -> str:
        raise NotImplementedError

    async def delete(self, session_key: str) -> None:
        raise NotImplementedError
