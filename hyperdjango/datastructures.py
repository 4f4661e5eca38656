"""Containers for HTTP data: headers, query strings, form data, uploaded files, state."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl

T = TypeVar("T")


class MultiDict(Mapping[str, Any]):
    """An immutable mapping where a key may have several values.

    ``md[key]`` and ``md.get(key)`` give the last value (as Django's
    ``QueryDict`` does); ``md.getlist(key)`` gives all of them.

    >>> md = MultiDict([("a", "1"), ("a", "2"), ("b", "3")])
    >>> md["a"], md.getlist("a"), len(md)
    ('2', ['1', '2'], 2)
    """

    __slots__ = ("_items", "_dict")

    def __init__(self, items: Iterable[tuple[str, Any]] | Mapping[str, Any] = ()) -> None:
        if isinstance(items, Mapping):
            items = list(items.items())
        self._items: list[tuple[str, Any]] = list(items)
        self._dict: dict[str, Any] = dict(self._items)

    def __getitem__(self, key: str) -> Any:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def getlist(self, key: str) -> list[Any]:
        """Every value of ``key`` in order; ``[]`` when absent."""
        return [v for k, v in self._items if k == key]

    def multi_items(self) -> list[tuple[str, Any]]:
        """Every (key, value) pair in order, repeats included."""
        return list(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return sorted(self._items) == sorted(other._items)
        return dict(self) == other

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"


class QueryParams(MultiDict):
    """The parsed query string of a request.

    >>> q = QueryParams("tag=a&tag=b&page=2")
    >>> q["page"], q.getlist("tag")
    ('2', ['a', 'b'])
    """

    __slots__ = ()

    def __init__(self, query: str | Iterable[tuple[str, Any]] | Mapping[str, Any] = "") -> None:
        if isinstance(query, str):
            query = parse_qsl(query, keep_blank_values=True)
        super().__init__(query)


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued, read-only request headers.

    >>> h = Headers([("Accept", "a"), ("accept", "b")])
    >>> h["ACCEPT"], h.getlist("accept")
    ('a, b', ['a', 'b'])
    """

    __slots__ = ("_list",)

    def __init__(self, raw: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        # dict first: isinstance against the Mapping ABC is slow, and this runs per response.
        if isinstance(raw, dict) or isinstance(raw, Mapping):
            raw = raw.items()
        self._list: list[tuple[str, str]] = [(k.lower(), v) for k, v in raw]

    @classmethod
    def _of_lowercase(cls, pairs: list[tuple[str, str]]) -> Self:
        """Headers holding ``pairs`` as they are (names already lower-case): no copy, no checks."""
        new = cls.__new__(cls)
        new._list = pairs
        return new

    def __getitem__(self, key: str) -> str:
        values = self.getlist(key)
        if not values:
            raise KeyError(key)
        return ", ".join(values)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        key = key.lower()
        for k, _ in self._list:
            if k == key:
                return True
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for k, _ in self._list))

    def __len__(self) -> int:
        return len(dict.fromkeys(k for k, _ in self._list))

    def getlist(self, key: str) -> list[str]:
        """Every value of a header, in order."""
        key = key.lower()
        return [v for k, v in self._list if k == key]

    def raw(self) -> list[tuple[str, str]]:
        """The (lower-case name, value) pairs as received."""
        return list(self._list)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class MutableHeaders(Headers, MutableMapping[str, str]):
    """Response headers: setting a name replaces every value it had; ``append`` adds one.

    >>> h = MutableHeaders({"content-type": "text/plain"})
    >>> h["X-Id"] = "1"; h.append("set-cookie", "a=1"); h.append("set-cookie", "b=2")
    >>> h["x-id"], h.getlist("set-cookie")
    ('1', ['a=1', 'b=2'])
    """

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        key = key.lower()
        self._list = [(k, v) for k, v in self._list if k != key]
        self._list.append((key, str(value)))

    def __delitem__(self, key: str) -> None:
        key = key.lower()
        if key not in self:
            raise KeyError(key)
        self._list = [(k, v) for k, v in self._list if k != key]

    def append(self, key: str, value: str) -> None:
        """Adds a value without removing the others (``Set-Cookie``, ``Vary``)."""
        self._list.append((key.lower(), str(value)))

    def setdefault(self, key: str, default: str = "") -> str:
        """The value of ``key``, first set to ``default`` when the header is absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def add_vary(self, *names: str) -> None:
        """Adds ``names`` to ``Vary`` unless there already (Django's ``patch_vary_headers``).

        >>> h = MutableHeaders({"vary": "Accept"})
        >>> h.add_vary("Cookie", "accept")
        >>> h["vary"]
        'Accept, Cookie'
        """
        present = [v.strip() for v in self.get("vary", "").split(",") if v.strip()]
        lowered = {v.lower() for v in present}
        for name in names:
            if name.lower() not in lowered:
                present.append(name)
                lowered.add(name.lower())
        self["vary"] = ", ".join(present)


class UploadFile:
    """A file from a multipart form, held in memory (bodies are capped by ``max_body_size``)."""

    __slots__ = ("filename", "content_type", "headers", "_data")

    def __init__(self, filename: str, content_type: str, data: bytes, headers: Headers | None = None) -> None:
        self.filename = filename
        self.content_type = content_type
        self.headers = headers or Headers()
        self._data = data

    @property
    def size(self) -> int:
        """The file's size in bytes."""
        return len(self._data)

    async def read(self) -> bytes:
        """The whole content."""
        return self._data

    def __repr__(self) -> str:
        return f"UploadFile(filename={self.filename!r}, content_type={self.content_type!r}, size={self.size})"


class FormData(MultiDict):
    """Fields of an urlencoded or multipart form; files are :class:`UploadFile` values."""

    __slots__ = ()


class State:
    """An attribute bag: ``request.state.user = ...`` in middleware, read later in views.

    >>> s = State(); s.user = "alice"; s.user
    'alice'
    """

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.__dict__.update(values or {})

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"request.state has no attribute {name!r}; set it in a middleware first")

    def __repr__(self) -> str:
        return f"State({self.__dict__!r})"
