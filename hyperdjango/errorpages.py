"""Error pages: ``templates/404.html`` (and 400, 403, 405, 500) for browsers when the
app has them, and in debug mode a 500 page with the traceback, each frame's local
variables, the request and, for a template error, the template source around the line.

Requests that do not ask for HTML (an API client sending ``Accept: application/json``
or ``*/*``) keep getting JSON.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .responses import Response

if TYPE_CHECKING:
    from .requests import Request

log = logging.getLogger("hyperdjango")

#: Header values the debug page does not show.
HIDDEN_HEADERS = {"authorization", "cookie", "proxy-authorization", "x-api-key", "x-csrftoken"}

#: A local variable's repr is cut to this many characters on the debug page.
REPR_LIMIT = 500


def wants_html(request: Request) -> bool:
    """Whether the client prefers HTML over JSON (a browser navigating)."""
    accept = request.headers.get("accept", "")
    html = accept.find("text/html")
    if html < 0:
        return False
    json_at = accept.find("application/json")
    return json_at < 0 or html < json_at


def template_page(request: Request, status: int, context: dict[str, Any]) -> Response | None:
    """``<status>.html`` from the app's templates for an HTML request, or None
    (not HTML, no such template, or it failed: then it is logged)."""
    if not wants_html(request):
        return None
    from .templates import TemplateError

    name = f"{status}.html"
    templates = request.app.templates
    try:
        return templates.response(request, name, context, status=status)
    except TemplateError as e:
        if e.kind != "template not found" or e.template not in (None, name):
            log.exception("the error page %s failed", name)
        return None


def debug_page(request: Request, exc: BaseException) -> Response:
    """The debug 500 page (HTML): never served unless ``debug=True``."""
    from .templates import TemplateError

    frames = []
    for frame, line in traceback.walk_tb(exc.__traceback__):
        code = frame.f_code
        frames.append(
            {
                "file": code.co_filename,
                "line": line,
                "function": code.co_name,
                "code": _source_line(code.co_filename, line),
                "locals": [(name, _short_repr(value)) for name, value in frame.f_locals.items()],
            }
        )
    template_error = next((e for e in _chain(exc) if isinstance(e, TemplateError)), None)
    context = {
        "title": f"{type(exc).__name__} at {request.path}",
        "exception": f"{type(exc).__name__}: {exc}",
        "frames": frames[::-1],
        "traceback": "".join(traceback.format_exception(exc)),
        "request": {
            "method": request.method,
            "path": request.path,
            "query": request.query_string,
            "headers": [(k, "********" if k.lower() in HIDDEN_HEADERS else v) for k, v in request.headers.items()],
        },
        "template_error": None
        if template_error is None
        else {
            "template": template_error.template,
            "line": template_error.line,
            "column": template_error.column,
            "message": template_error.message,
            "lines": template_error.source_lines,
        },
    }
    html = _builtin().render_to_string("errors/debug500.html", context)
    return Response.html(html, status=500)


@functools.cache
def _builtin() -> Any:
    # hyperdjango's own templates only: the debug page never depends on the app's.
    from .templates import Templates

    return Templates(None)


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _source_line(filename: str, line: int) -> str:
    import linecache

    return linecache.getline(filename, line).strip()


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as e:  # a broken __repr__ must not break the error page
        text = f"<repr failed: {type(e).__name__}>"
    return text if len(text) <= REPR_LIMIT else text[:REPR_LIMIT] + "…"
