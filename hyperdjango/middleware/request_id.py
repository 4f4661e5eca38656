"""A request id for every request, in the response and in every log line.

``RequestIdMiddleware`` takes the client's (or the proxy's) ``X-Request-ID`` when
it is a sensible token, or makes one, and sends it back in the response's
``X-Request-ID``. While the request runs, :func:`current_request_id` returns it,
and :class:`RequestIdFilter` puts it on every log record as ``request_id``, so a
format or a JSON handler can show it::

    import logging
    from hyperdjango import HyperApp
    from hyperdjango.middleware.request_id import RequestIdFilter, RequestIdMiddleware

    app = HyperApp()
    app.use(RequestIdMiddleware())
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s [%(request_id)s] %(message)s"))

``hyper run --access-log`` installs both for you.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from typing import Any

HEADER = "x-request-id"

#: What an incoming id may look like (a UUID, a proxy's hex or base64 token...): anything
#: else, which could forge or break log lines, is replaced by a fresh id.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("hyperdjango_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled in this context; None outside a request."""
    return _request_id.get()


class RequestIdMiddleware:
    """Gives each request an id: the incoming ``X-Request-ID`` when it is a token
    of at most 128 safe characters, else a new UUID (hex). It is in
    ``request.state.request_id`` and the response's ``X-Request-ID``."""

    async def __call__(self, request: Any, next_handler: Any) -> Any:
        incoming = request.headers.get(HEADER)
        request_id = incoming if incoming and _ACCEPTED.fullmatch(incoming) else uuid.uuid4().hex
        request.state.request_id = request_id
        # Each request runs in a context of its own: the id does not leak into the next one.
        _request_id.set(request_id)
        response = await next_handler(request)
        response.headers[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Sets ``record.request_id`` (``"-"`` outside a request) on every record it sees;
    add it to a handler so that records of every logger get it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get() or "-"
        return True
