"""Context processors: what every template rendered for a request can use.

A context processor is ``processor(request) -> dict``; ``Templates`` merges their
results under the view's own context (the view wins on a clash).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from ..middleware.csrf import offer_token, token_field

if TYPE_CHECKING:
    from ..requests import Request


def request_context(request: Request) -> dict[str, Any]:
    """``request`` (method, path, url, params, query, headers, cookies, user, state),
    ``url_for(name, **params)`` and ``static(path)``."""
    view = {
        "method": request.method,
        "path": request.path,
        "url": request.url,
        "params": request.params,
        "query": dict(request.query.items()),
        "headers": dict(request.headers.items()),
        "cookies": request.cookies,
        "user": getattr(request, "user", None),
    }
    return {"request": view, "url_for": request.app.url_for, "static": request.app.static_url}


def csrf_context(request: Request) -> dict[str, Any]:
    """``csrf_token`` and ``csrf_input`` (a hidden ``<input>`` for the form field that
    :class:`~hyperdjango.middleware.csrf.CSRFMiddleware` checks). When the rendered page
    shows either, the middleware sends its secret with the response (Django's
    ``get_token`` rule: only a page that uses the token sets the CSRF cookie)."""
    token = offer_token(request)
    return {
        "csrf_token": token,
        "csrf_input": Markup('<input type="hidden" name="{}" value="{}">').format(token_field(request), token),
    }


default_context_processors = (request_context, csrf_context)
