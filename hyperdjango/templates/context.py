"""Context processors: what every template rendered for a request can use.

A context processor is ``processor(request) -> dict``; ``Templates`` merges their
results under the view's own context (the view wins on a clash).
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

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
    """``csrf_token`` and ``csrf_input`` (a hidden ``<input>``) when the CSRF
    middleware (``hyperdjango.middleware.csrf``) is installed; nothing otherwise."""
    csrf = _csrf_module()
    if csrf is None:
        return {}
    token = csrf.get_token(request)
    field = getattr(csrf, "FORM_FIELD", "csrfmiddlewaretoken")
    return {
        "csrf_token": token,
        "csrf_input": Markup('<input type="hidden" name="{}" value="{}">').format(field, token),
    }


@functools.cache
def _csrf_module() -> ModuleType | None:
    # Looked up once: a failed import searches the path every time.
    try:
        return importlib.import_module("hyperdjango.middleware.csrf")
    except ImportError:
        return None


default_context_processors = (request_context, csrf_context)
