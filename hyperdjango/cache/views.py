"""View decorators: ``@cache_page``, ``@cache_control``, ``@never_cache``, ``@vary_on_headers``.

Django's decorators (``django.views.decorators.cache`` and ``.vary``) for
hyperdjango views. Put them under the route decorator::

    @app.get("/products")
    @cache_page(60)
    async def products(request): ...

A decorated view keeps its path parameters (``async def view(request, id: int)``
and views without ``request`` work as before).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from ..datastructures import MutableHeaders
from ..requests import Request
from ..responses import FileResponse, Response, StreamingResponse, to_response
from ..routing import Route
from .backends.base import BaseCache
from .handler import cache_of
from .headers import (
    add_never_cache_headers,
    get_max_age,
    parse_cache_control,
    patch_cache_control,
    patch_response_headers,
    patch_vary_headers,
    set_response_etag,
    vary_headers,
)

#: Headers a 304 keeps from the response it stands for (RFC 9110 15.4.5; Django's list).
_NOT_MODIFIED_HEADERS = ("cache-control", "content-location", "date", "etag", "expires", "last-modified", "vary")

View = Callable[..., Any]


def wrap_view(view: View, around: Callable[[Request, Callable[[], Awaitable[Response]]], Awaitable[Response]]) -> View:
    """A view that runs ``around(request, call_view)``; ``call_view()`` calls ``view`` the way
    its route would (path parameters by name, ``request`` if it takes one) and returns a Response."""
    inner_routes: dict[str, Route] = {}

    async def wrapper(request: Request, **params: Any) -> Response:
        async def call_view() -> Response:
            route = request.route
            assert route is not None  # a view only runs for a matched route
            inner = inner_routes.get(route.pattern)
            if inner is None:
                inner = inner_routes[route.pattern] = Route(route.pattern, view, route.methods)
            return to_response(await inner.call(request), getattr(view, "__qualname__", "view"))

        return await around(request, call_view)

    functools.update_wrapper(wrapper, view)
    # The route must see the wrapper's own signature (it always takes the request), not the view's.
    del wrapper.__wrapped__  # type: ignore[attr-defined]
    return wrapper


def cache_control(**directives: Any) -> Callable[[View], View]:
    """``@cache_control(max_age=3600, public=True)``: patches ``Cache-Control`` of the view's responses."""

    def decorate(view: View) -> View:
        async def around(request: Request, call_view: Callable[[], Awaitable[Response]]) -> Response:
            response = await call_view()
            patch_cache_control(response, **directives)
            return response

        return wrap_view(view, around)

    return decorate


def never_cache(view: View) -> View:
    """``@never_cache``: headers that keep every cache (browsers, proxies, ``@cache_page``) from storing the response."""

    async def around(request: Request, call_view: Callable[[], Awaitable[Response]]) -> Response:
        response = await call_view()
        add_never_cache_headers(response)
        return response

    return wrap_view(view, around)


def vary_on_headers(*headers: str) -> Callable[[View], View]:
    """``@vary_on_headers("Accept-Language")``: adds the names to ``Vary`` (``@cache_page`` then keeps one copy per value)."""

    def decorate(view: View) -> View:
        async def around(request: Request, call_view: Callable[[], Awaitable[Response]]) -> Response:
            response = await call_view()
            patch_vary_headers(response, headers)
            return response

        return wrap_view(view, around)

    return decorate


vary_on_cookie = vary_on_headers("Cookie")
vary_on_cookie.__doc__ = """``@vary_on_cookie``: ``Vary: Cookie`` (one cached copy per cookie header)."""


# -- @cache_page ------------------------------------------------------------------------


def _url_hash(request: Request) -> str:
    return hashlib.md5(request.url.encode(), usedforsecurity=False).hexdigest()


def header_key(request: Request, key_prefix: str) -> str:
    """Where the ``Vary`` header names of a URL's cached page are kept (Django's key)."""
    return f"views.decorators.cache.cache_header.{key_prefix}.{_url_hash(request)}"


def page_key(request: Request, method: str, header_names: list[str], key_prefix: str) -> str:
    """The key of the page cached for ``request``: its URL, method and the values of the varying headers."""
    values = hashlib.md5(usedforsecurity=False)
    for name in header_names:
        for value in request.headers.getlist(name):
            values.update(value.encode())
    return f"views.decorators.cache.cache_page.{key_prefix}.{method}.{_url_hash(request)}.{values.hexdigest()}"


def cacheable(response: Response) -> bool:
    """Whether ``@cache_page`` may store ``response``: a complete 200 that sets no cookie
    and that no ``Cache-Control`` (``private``, ``no-store``, ``no-cache``) or ``Vary: *`` forbids."""
    if response.status_code != 200 or isinstance(response, (StreamingResponse, FileResponse)):
        return False
    if "set-cookie" in response.headers or "*" in vary_headers(response):
        return False
    directives = parse_cache_control(response.headers.get("cache-control", ""))
    return not ({"private", "no-store", "no-cache"} & directives.keys())


def _not_modified(response: Response) -> Response:
    headers = MutableHeaders([(name, value) for name, value in response.headers.raw() if name in _NOT_MODIFIED_HEADERS])
    not_modified = Response(b"", 304)
    not_modified.headers = headers
    return not_modified


def _conditional(request: Request, response: Response) -> Response:
    if response.status_code == 200 and response.is_not_modified(request.headers.get("if-none-match")):
        return _not_modified(response)
    return response


def cache_page(timeout: int | None = None, *, cache: str | BaseCache = "default", key_prefix: str | None = None) -> Callable[[View], View]:
    """``@cache_page(60)``: the view's GET (and HEAD) responses are cached for ``timeout`` seconds
    (``None``: the response's ``max-age``, else the cache's ``TIMEOUT``).

    As Django's: one copy per URL (scheme, host, path and query) and per value
    of the request headers the response's ``Vary`` names; ``Expires`` and
    ``Cache-Control: max-age`` are set on cached responses; ``cache`` is
    the cache (an alias of ``caches``, default ``"default"``, or a cache) and ``key_prefix``
    keeps the keys of several decorated views apart. Stricter than Django's:
    a response with ``Set-Cookie``, ``Cache-Control: private``, ``no-store``
    or ``no-cache``, or ``Vary: *`` is never cached (Django still caches some
    that set cookies). Cached pages carry an ``ETag`` (a hash of the body), and
    a request whose ``If-None-Match`` lists it is answered ``304``.
    """
    prefix = key_prefix or ""

    def decorate(view: View) -> View:
        async def around(request: Request, call_view: Callable[[], Awaitable[Response]]) -> Response:
            if request.method not in ("GET", "HEAD"):
                return await call_view()
            store = cache_of(cache)
            header_names = await store.get(header_key(request, prefix))
            if header_names is not None:
                found = await store.get(page_key(request, "GET", header_names, prefix))
                if found is None and request.method == "HEAD":
                    found = await store.get(page_key(request, "HEAD", header_names, prefix))
                if found is not None:
                    status, headers, body = found
                    response = Response(body, status)
                    response.headers = MutableHeaders(headers)
                    return _conditional(request, response)
            response = await call_view()
            if not cacheable(response):
                return response  # as the view made it: a 304 would drop its Set-Cookie, say
            await _store(request, response, store)
            return _conditional(request, response)

        async def _store(request: Request, response: Response, store: Any) -> None:
            # Django's order: the decorator's timeout, else the response's max-age, else the cache's.
            seconds = timeout
            if seconds is None:
                seconds = get_max_age(response)
                if seconds is None:
                    seconds = store.default_timeout
                elif seconds == 0:
                    return
            if seconds is not None:
                patch_response_headers(response, seconds)
            set_response_etag(response)
            if seconds != 0:
                names = sorted(vary_headers(response))
                await store.set(header_key(request, prefix), names, seconds)
                key = page_key(request, request.method, names, prefix)
                await store.set(key, (response.status_code, response.headers.raw(), response.body), seconds)

        return wrap_view(view, around)

    return decorate
