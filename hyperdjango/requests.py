"""The request a view receives."""

from __future__ import annotations

from http.cookies import _unquote as _unquote_cookie  # the stdlib's own cookie unquoting
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header

from . import encoding
from .datastructures import FormData, Headers, QueryParams, State, UploadFile
from .exceptions import HTTPException

if TYPE_CHECKING:
    from ._core import PendingRequest
    from .app import HyperApp
    from .routing import Route


class Address(NamedTuple):
    host: str
    port: int


def is_secure(request: Any, proxy_ssl_header: tuple[str, str] | None) -> bool:
    """Whether a TLS-terminating proxy says the client connected over HTTPS: the
    first value of its ``proxy_ssl_header`` (trusted only when named, as Django's
    ``SECURE_PROXY_SSL_HEADER``) equals the expected one."""
    if proxy_ssl_header is None:
        return False
    name, value = proxy_ssl_header
    return request.headers.get(name, "").split(",")[0].strip().lower() == value.lower()


class Request:
    """An HTTP request whose body has been read in full by the server.

    ``request.params`` holds the converted path parameters
    (``/api/products/{id:int}`` gives ``{"id": 42}``). Middleware may add
    attributes (``request.user = user``) or use ``request.state``.
    """

    # Built on first use: most views read none of them. Until then the class's None
    # answers, so a request starts with five attributes in its dict, not eleven.
    _params: dict[str, Any] | None = None
    _state: State | None = None
    _headers: Headers | None = None
    _query: QueryParams | None = None
    _cookies: dict[str, str] | None = None
    _form: FormData | None = None

    def __init__(self, raw: PendingRequest, app: HyperApp, route: Route | None = None) -> None:
        self._raw = raw
        self.app = app
        self.route = route
        self.method: str = raw.method
        self.path: str = raw.path

    @property
    def params(self) -> dict[str, Any]:
        """The converted path parameters (``{"id": 42}`` for ``/items/{id:int}``)."""
        if self._params is None:
            self._params = self._raw.params
        return self._params

    @params.setter
    def params(self, value: dict[str, Any]) -> None:
        self._params = value

    @property
    def state(self) -> State:
        """An attribute bag for middleware and views (``request.state.user``)."""
        if self._state is None:
            self._state = State()
        return self._state

    @state.setter
    def state(self, value: State) -> None:
        self._state = value

    @property
    def headers(self) -> Headers:
        """Case-insensitive, multi-valued request headers."""
        if self._headers is None:
            self._headers = Headers(self._raw.headers)
        return self._headers

    @property
    def query(self) -> QueryParams:
        """The query string as a multi-dict: ``request.query["page"]``, ``.getlist("tag")``."""
        query = self.query_unchecked
        # No database can store U+0000 in text: refuse it as the client's mistake
        # here rather than as a 500 (or, on SQLite, not at all) where it is used.
        if "%00" in self._raw.query_string and any("\x00" in k or "\x00" in v for k, v in query.multi_items()):
            raise HTTPException(400, "The query string contains a NUL character (%00)")
        return query

    @property
    def query_unchecked(self) -> QueryParams:
        """:attr:`query` without its refusal of NUL characters, for code that checks each
        value itself (typed handlers answer a NUL in a declared parameter with a 422)."""
        if self._query is None:
            self._query = QueryParams(self._raw.query_string)
        return self._query

    query_params = query

    @property
    def query_string(self) -> str:
        """The raw query string, without the ``?``, still percent-encoded."""
        return self._raw.query_string

    @property
    def cookies(self) -> dict[str, str]:
        """The request's cookies by name (every ``Cookie`` header, parsed once)."""
        if self._cookies is None:
            cookies: dict[str, str] = {}
            for header in self.headers.getlist("cookie"):
                cookies.update(parse_cookie(header))
            self._cookies = cookies
        return self._cookies

    @property
    def client(self) -> Address:
        """The peer's (host, port)."""
        return Address(*self._raw.client)

    @property
    def scheme(self) -> str:
        """``"https"`` when the connection is TLS (an ASGI host's ``scope["scheme"]``) or a
        trusted proxy says so (the app's ``secure_proxy_ssl_header``, e.g.
        ``("x-forwarded-proto", "https")``), else ``"http"``. Without that setting no
        header is believed: any client could send one."""
        if getattr(self._raw, "scheme", "http") == "https":
            return "https"
        return "https" if is_secure(self, self.app.settings.secure_proxy_ssl_header) else "http"

    @property
    def url(self) -> str:
        """The full URL as the client asked for it."""
        host = self.headers.get("host", "localhost")
        query = self._raw.query_string
        return f"{self.scheme}://{host}{self._raw.raw_path}" + (f"?{query}" if query else "")

    @property
    def http_version(self) -> str:
        """The request's HTTP version, e.g. ``"1.1"``."""
        return self._raw.http_version

    def url_for(self, name: str, /, **params: Any) -> str:
        """The path of a named route; see :meth:`HyperApp.url_for`."""
        return self.app.url_for(name, **params)

    async def body(self) -> bytes:
        """The raw body."""
        return self._raw.body

    async def text(self) -> str:
        """The body decoded with the charset of ``content-type`` (UTF-8 by default)."""
        _, options = parse_options_header(self.headers.get("content-type", ""))
        charset = options.get(b"charset", b"utf-8").decode("latin-1")
        try:
            return self._raw.body.decode(charset)
        except (LookupError, UnicodeDecodeError) as e:
            raise HTTPException(400, f"The body is not valid {charset}: {e}") from e

    async def json(self) -> Any:
        """The body parsed as JSON; invalid JSON answers 400 with the parse error."""
        try:
            return encoding.loads(self._raw.body)
        except ValueError as e:
            raise HTTPException(400, f"Invalid JSON: {e}") from e

    async def form(self) -> FormData:
        """Fields of an urlencoded or multipart body; files come as :class:`UploadFile`.

        Other content types give an empty form, as in Django's ``request.POST``.
        """
        if self._form is None:
            content_type, options = parse_options_header(self.headers.get("content-type", ""))
            if content_type == b"application/x-www-form-urlencoded":
                # UTF-8, as the WHATWG parser decodes both raw and percent-escaped bytes.
                text = self._raw.body.decode("utf-8", "replace")
                self._form = FormData(parse_qsl(text, keep_blank_values=True))
            elif content_type == b"multipart/form-data":
                boundary = options.get(b"boundary")
                if not boundary:
                    raise HTTPException(400, "multipart/form-data without a boundary")
                self._form = _parse_multipart(self._raw.body, boundary)
            else:
                self._form = FormData()
        return self._form

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


def parse_cookie(header: str) -> dict[str, str]:
    """A ``Cookie`` header as a dict, leniently, as browsers send it and Django parses it.

    SimpleCookie drops every cookie of a header when one of them is not RFC 6265
    (a JSON value or a space set by some script), so it is split by hand here.

    >>> parse_cookie('session=abc; prefs={"a":1}; msg="hi there"')
    {'session': 'abc', 'prefs': '{"a":1}', 'msg': 'hi there'}
    """
    # Header values arrive Latin-1 decoded; browsers send cookie text as UTF-8.
    header = header.encode("latin-1").decode("utf-8", "replace")
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        key, sep, value = chunk.partition("=")
        if not sep:
            key, value = "", key  # a value without a name, as browsers allow
        key, value = key.strip(), value.strip()
        if key or value:
            cookies[key] = _unquote_cookie(value)
    return cookies


def _parse_multipart(body: bytes, boundary: bytes) -> FormData:
    items: list[tuple[str, Any]] = []
    headers: list[tuple[str, str]] = []
    field = bytearray()
    value = bytearray()
    data = bytearray()

    def on_header_field(buf: bytes, start: int, end: int) -> None:
        field.extend(buf[start:end])

    def on_header_value(buf: bytes, start: int, end: int) -> None:
        value.extend(buf[start:end])

    def on_header_end() -> None:
        # Latin-1 keeps the bytes: parse_options_header encodes back to Latin-1,
        # and the name and filename are then decoded as UTF-8 below.
        headers.append((field.decode("latin-1").lower(), value.decode("latin-1")))
        field.clear()
        value.clear()

    def on_part_data(buf: bytes, start: int, end: int) -> None:
        data.extend(buf[start:end])

    def on_part_end() -> None:
        part_headers = Headers(headers)
        _, disposition = parse_options_header(part_headers.get("content-disposition", ""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disposition:
            filename = disposition[b"filename"].decode("utf-8", "replace")
            content_type = part_headers.get("content-type", "application/octet-stream")
            items.append((name, UploadFile(filename, content_type, bytes(data), part_headers)))
        else:
            items.append((name, data.decode("utf-8", "replace")))
        headers.clear()
        data.clear()

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except Exception as e:  # python-multipart raises its own error types
        raise HTTPException(400, f"Malformed multipart body: {e}") from e
    return FormData(items)
