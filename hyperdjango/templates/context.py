"""Context processors: what every template rendered for a request can use.

A context processor is ``processor(request) -> dict``; ``Templates`` merges their
results under the view's own context (the view wins on a clash). A value wrapped in
:class:`Lazy` is computed only if the template reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from ..middleware.csrf import offer_token, token_field

if TYPE_CHECKING:
    from ..requests import Request


class Lazy:
    """A context value computed only if the template reads it, once per render
    (Django's csrf context processor wraps its token in a ``SimpleLazyObject`` for the
    same reason): ``{"weather": Lazy(lambda: forecast(request))}``. Most pages never
    show a CSRF token, and making one costs more than drawing the page. Lazy at the
    top of a render's context; elsewhere, and in a streamed render, it is computed
    before rendering."""

    __slots__ = ("compute",)

    def __init__(self, compute: Callable[[], Any]) -> None:
        self.compute = compute

    def __repr__(self) -> str:
        return f"Lazy({self.compute!r})"


def request_context(request: Request) -> dict[str, Any]:
    """``request`` (method, path, url, params, query, headers, cookies, user),
    ``url_for(name, **params)`` and ``static(path)``."""

    def view() -> dict[str, Any]:
        return {
            "method": request.method,
            "path": request.path,
            "url": request.url,
            "params": request.params,
            "query": dict(request.query.items()),
            "headers": dict(request.headers.items()),
            "cookies": request.cookies,
            "user": getattr(request, "user", None),
        }

    return {"request": Lazy(view), "url_for": request.app.url_for, "static": request.app.static_url}


def csrf_context(request: Request) -> dict[str, Any]:
    """``csrf_token`` and ``csrf_input`` (a hidden ``<input>`` for the form field that
    :class:`~hyperdjango.middleware.csrf.CSRFMiddleware` checks), made only if the
    template reads them. When the rendered page shows either, the middleware sends its
    secret with the response (Django's ``get_token`` rule: only a page that uses the
    token sets the CSRF cookie)."""
    made: list[str] = []  # one token per render, shown by both names

    def token() -> str:
        if not made:
            made.append(offer_token(request))
        return made[0]

    def field() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(token_field(request), token())

    return {"csrf_token": Lazy(token), "csrf_input": Lazy(field)}


default_context_processors = (request_context, csrf_context)
