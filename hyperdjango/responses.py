"""Responses: what a view returns, and how other return values become one."""

from __future__ import annotations

import asyncio
import mimetypes
import os
from collections.abc import AsyncIterable, Iterable, Mapping
from datetime import datetime, UTC
from email.utils import format_datetime
from http.cookies import SimpleCookie
from typing import Any, Literal
from urllib.parse import quote

from . import encoding
from .datastructures import MutableHeaders


def with_charset(media_type: str) -> str:
    """A ``text/*`` media type with ``; charset=utf-8`` (unless it names one): the
    charset of a body encoded from a str."""
    if media_type.startswith("text/") and "charset" not in media_type:
        return media_type + "; charset=utf-8"
    return media_type


#: ``with_charset`` of the media types the constructors name, looked up instead of computed.
_CHARSET_OF = {"text/plain": "text/plain; charset=utf-8", "text/html": "text/html; charset=utf-8"}
#: The header of ``Response.text``'s responses (a tuple: shared, never changed).
_TEXT_CONTENT_TYPE = ("content-type", "text/plain; charset=utf-8")


class Response:
    """An HTTP response with a complete body.

    >>> r = Response.json({"ok": True}, status=201)
    >>> r.status_code, r.headers["content-type"], r.body
    (201, 'application/json', b'{"ok":true}')

    ``headers`` is a mutable, case-insensitive mapping; middleware may change
    it (``response.headers["x-response-time"] = "1ms"``).
    """

    media_type: str | None = None
    #: The headers as a MutableHeaders, built the first time ``headers`` is read
    #: or set; until then ``_pairs`` alone holds them.
    _headers: MutableHeaders | None = None

    def __init__(
        self,
        content: bytes | str = b"",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status
        media_type = media_type or self.media_type
        if isinstance(content, str):
            content = content.encode("utf-8")
            if media_type:
                media_type = _CHARSET_OF.get(media_type) or with_charset(media_type)
        self.body: bytes = content
        if headers:
            self.headers = MutableHeaders(headers)
            if media_type and "content-type" not in self.headers:
                self.headers["content-type"] = media_type
        else:
            # The common case, built directly (this runs for every response): a
            # view that returns it without touching its headers never builds a
            # MutableHeaders at all.
            self._pairs: list[tuple[str, str]] = [("content-type", media_type)] if media_type else []

    @property
    def headers(self) -> MutableHeaders:
        """The response headers (a case-insensitive, mutable mapping)."""
        headers = self._headers
        if headers is None:
            headers = self._headers = MutableHeaders._of_lowercase(self._pairs)
        return headers

    @headers.setter
    def headers(self, headers: MutableHeaders) -> None:
        self._headers = headers

    def _header_pairs(self) -> list[tuple[str, str]]:
        """The (lower-case name, value) pairs to send, for the server once the
        response is final: the response's own list, not a copy (read, never change it)."""
        headers = self._headers
        return self._pairs if headers is None else headers._list

    # -- constructors the spec uses -------------------------------------------------

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        """JSON body (datetime, UUID, Decimal and model instances included)."""
        return cls(encoding.dumps(data), status, headers, "application/json")

    @classmethod
    def html(cls, content: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        """An HTML response (``text/html; charset=utf-8``)."""
        return cls(content, status, headers, "text/html")

    @classmethod
    def template(
        cls,
        request: Any,
        name: str,
        context: Mapping[str, Any] | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The app's template ``name`` rendered for ``request`` (see hyperdjango.templates)."""
        return request.app.templates.response(request, name, context, status, headers)

    @classmethod
    def text(cls, content: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        """A plain-text response (``text/plain; charset=utf-8``)."""
        if cls is Response and headers is None and type(content) is str:
            # What ``__init__`` makes of these arguments, set directly: no
            # ``type.__call__`` → ``__init__`` frame, no branches on arguments
            # that are known here (a subclass may override ``__init__``: it gets it).
            response = _new_response(cls)
            response.status_code = status
            response.body = content.encode("utf-8")
            response._pairs = [_TEXT_CONTENT_TYPE]
            return response
        return cls(content, status, headers, "text/plain")

    @classmethod
    def redirect(cls, url: str, status: int = 302, headers: Mapping[str, str] | None = None) -> Response:
        """Redirect to ``url`` (302 by default; 301, 303, 307 and 308 also make sense)."""
        response = cls(b"", status, headers)
        response.headers["location"] = quote(url, safe=":/%#?=@[]!$&'()*+,;")
        return response

    @classmethod
    def empty(cls, status: int = 204, headers: Mapping[str, str] | None = None) -> Response:
        """A response without a body (204 by default)."""
        return cls(b"", status, headers)

    @classmethod
    def stream(
        cls,
        chunks: AsyncIterable[bytes | str] | Iterable[bytes | str],
        status: int = 200,
        media_type: str = "application/octet-stream",
        headers: Mapping[str, str] | None = None,
    ) -> StreamingResponse:
        """A body sent chunk by chunk as an (async) iterator produces it."""
        return StreamingResponse(chunks, status, headers, media_type)

    @classmethod
    def sse(
        cls,
        events: AsyncIterable[Any] | Iterable[Any],
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> StreamingResponse:
        """Server-sent events. Each item is a str (one ``data:`` event), or a dict
        with ``data`` (str or JSON value) and optional ``event``, ``id``, ``retry``."""
        merged = {"cache-control": "no-cache", "x-accel-buffering": "no", **(headers or {})}
        return StreamingResponse(_sse_frames(events), status, merged, "text/event-stream")

    @classmethod
    def file(
        cls,
        path: str | os.PathLike[str],
        filename: str | None = None,
        media_type: str | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> FileResponse:
        """A file read from disk by the server; ``filename`` makes it a download."""
        return FileResponse(path, filename, media_type, status, headers)

    # -- cookies -----------------------------------------------------------------

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = True,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Adds a ``Set-Cookie`` header (Django's and Starlette's signature).

        Secure by default where Django is not: ``HttpOnly`` unless ``httponly=False``
        (a cookie that page scripts must read, such as a CSRF token for JavaScript),
        and ``SameSite=Lax`` unless told otherwise."""
        cookie: SimpleCookie = SimpleCookie()
        cookie[key] = value
        morsel = cookie[key]
        if max_age is not None:
            morsel["max-age"] = max_age
        if expires is not None:
            if isinstance(expires, datetime):
                expires = format_datetime(expires.astimezone(UTC), usegmt=True)
            morsel["expires"] = expires
        if path is not None:
            morsel["path"] = path
        if domain is not None:
            morsel["domain"] = domain
        if secure:
            morsel["secure"] = True
        if httponly:
            morsel["httponly"] = True
        if samesite is not None:
            morsel["samesite"] = samesite
        self.headers.append("set-cookie", morsel.OutputString())

    def delete_cookie(self, key: str, path: str = "/", domain: str | None = None) -> None:
        """Tells the client to drop a cookie."""
        self.set_cookie(key, "", max_age=0, expires="Thu, 01 Jan 1970 00:00:00 GMT", path=path, domain=domain)

    def is_not_modified(self, if_none_match: str | None) -> bool:
        """Whether a conditional GET (``If-None-Match``) can be answered 304: its ``etag`` is listed."""
        if not if_none_match:
            return False
        # Weak comparison (RFC 9110 13.1.2), as a GET's If-None-Match is compared.
        etag = self.headers.get("etag", "").removeprefix("W/")
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or (bool(etag) and etag in tags)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code} {self.headers.get('content-type', '')!r}>"


_new_response = object.__new__  # Response.text's instances, made without calling __init__


class StreamingResponse(Response):
    """A response whose body comes from an iterator; sent with chunked encoding."""

    def __init__(
        self,
        chunks: AsyncIterable[bytes | str] | Iterable[bytes | str],
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = "application/octet-stream",
    ) -> None:
        super().__init__(b"", status, headers, media_type)
        self.chunks = chunks


class FileResponse(Response):
    """A file sent from disk by the server (never read into Python), with ETag and
    Last-Modified; conditional requests get 304 and a ``Range`` 206. With
    ``precompressed``, a ``.br``/``.gz`` file beside it is sent to clients that accept it."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        filename: str | None = None,
        media_type: str | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        precompressed: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        guessed = media_type or mimetypes.guess_type(filename or self.path)[0] or "application/octet-stream"
        if guessed.startswith("text/") and "charset" not in guessed:
            guessed += "; charset=utf-8"
        super().__init__(b"", status, headers, guessed)
        if filename is not None:
            self.headers["content-disposition"] = f"attachment; filename*=utf-8''{quote(filename)}"
        self.precompressed = precompressed


async def _sse_frames(events: AsyncIterable[Any] | Iterable[Any]):
    async for event in aiterate(events):
        yield _sse_frame(event)


def _sse_frame(event: Any) -> bytes:
    if not isinstance(event, Mapping):
        event = {"data": event}
    lines = []
    for field in ("event", "id", "retry"):
        if event.get(field) is not None:
            lines.append(f"{field}: {event[field]}")
    data = event.get("data", "")
    if not isinstance(data, str):
        data = encoding.dumps(data).decode()
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return ("\n".join(lines) + "\n\n").encode()


async def aiterate(items: AsyncIterable[Any] | Iterable[Any]):
    """Iterates a sync or async iterable asynchronously.

    A sync iterator is advanced in the thread pool, so a generator that blocks
    (reading a file, a socket) never blocks the event loop.
    """
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
        return
    loop = asyncio.get_running_loop()
    iterator = iter(items)
    done = object()
    while (item := await loop.run_in_executor(None, next, iterator, done)) is not done:
        yield item


def to_response(value: Any, view_name: str = "view") -> Response:
    """Turns what a view returned into a Response.

    ``Response`` as is; ``dict``/``list`` as JSON; ``str`` as text/plain;
    ``bytes`` as octet-stream; ``(body, status)`` and ``(body, status, headers)``.
    """
    if isinstance(value, Response):
        return value
    if isinstance(value, tuple) and 2 <= len(value) <= 3:
        response = to_response(value[0], view_name)
        response.status_code = int(value[1])
        if len(value) == 3:
            for name, header in dict(value[2]).items():
                response.headers[name] = header
        return response
    if isinstance(value, (dict, list)):
        return Response.json(value)
    if isinstance(value, str):
        return Response.text(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Response(bytes(value), media_type="application/octet-stream")
    raise TypeError(
        f"{view_name} returned {type(value).__name__}; return a Response, dict, list, str, bytes "
        "or a (body, status[, headers]) tuple"
    )

