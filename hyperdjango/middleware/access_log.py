"""An access log: one line per request through the ``hyperdjango.access`` logger.

Off unless asked for (``hyper run --access-log [common|combined|json]``, or
``app.use(AccessLogMiddleware("json"))``): a log line per request costs a few
microseconds that a benchmark should not pay.

- ``common``: the Common Log Format (``127.0.0.1 - - [04/Dec/2026:16:00:00 +0000] "GET /a?b HTTP/1.1" 200 12``)
- ``combined``: ``common`` plus the quoted ``Referer`` and ``User-Agent``
- ``json``: one JSON object per line, with the duration and the request id

Every record also carries the fields as attributes (``record.status``,
``record.duration_ms``...), for a handler of your own.
"""

from __future__ import annotations

import datetime
import logging
import sys
import time
from typing import Any

from .. import encoding
from ..responses import FileResponse, StreamingResponse
from .request_id import current_request_id

log = logging.getLogger("hyperdjango.access")

FORMATS = ("common", "combined", "json")


class AccessLogMiddleware:
    """Logs each request once its response is ready (a 500 when the view raised)."""

    def __init__(self, format: str = "common") -> None:
        if format not in FORMATS:
            raise ValueError(f"access log format {format!r}: use one of {', '.join(FORMATS)}")
        self.format = format

    async def __call__(self, request: Any, next_handler: Any) -> Any:
        started = time.perf_counter()
        status = 500
        length: str | None = None
        try:
            response = await next_handler(request)
            status = response.status_code
            # A streamed or file body is sent after this: its size only when a header says it.
            sent_later = isinstance(response, (StreamingResponse, FileResponse))
            length = response.headers.get("content-length") if sent_later else str(len(response.body))
            return response
        finally:
            if log.isEnabledFor(logging.INFO):
                self._log(request, status, length, time.perf_counter() - started)

    def _log(self, request: Any, status: int, length: str | None, seconds: float) -> None:
        query = request.query_string
        fields = {
            "client": request.client.host if request.client else "-",
            "method": request.method,
            "path": request._raw.raw_path + (f"?{query}" if query else ""),
            "protocol": f"HTTP/{request.http_version}",
            "status": status,
            "bytes": int(length) if length else None,
            "duration_ms": round(seconds * 1000, 3),
            "request_id": current_request_id(),
            "referer": request.headers.get("referer"),
            "user_agent": request.headers.get("user-agent"),
        }
        log.info(self._line(fields), extra=fields)

    def _line(self, f: dict[str, Any]) -> str:
        if self.format == "json":
            stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
            return encoding.dumps({"time": stamp, **f}).decode()
        stamp = datetime.datetime.now(datetime.UTC).strftime("%d/%b/%Y:%H:%M:%S %z")
        line = (f'{f["client"]} - - [{stamp}] "{_quoted(f["method"])} {_quoted(f["path"])} {f["protocol"]}" '
                f'{f["status"]} {f["bytes"] if f["bytes"] is not None else "-"}')
        if self.format == "combined":
            line += f' "{_quoted(f["referer"] or "-")}" "{_quoted(f["user_agent"] or "-")}"'
        return line


def _quoted(text: str) -> str:
    """Escapes what could end a quoted field or forge a line of the log."""
    return "".join(c if c.isprintable() and c not in '"\\' else f"\\x{ord(c):02x}" for c in text)


def enable_access_log(app: Any, format: str = "common") -> None:
    """What ``hyper run --access-log FORMAT`` does: request ids and the access log
    around everything else, access lines on stdout, and the request id in the
    format of every other log line (``... [request id]: message``)."""
    from .request_id import RequestIdFilter, RequestIdMiddleware

    app.middleware[:0] = [RequestIdMiddleware(), AccessLogMiddleware(format)]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RequestIdFilter())
    lines = logging.StreamHandler(sys.stdout)
    lines.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(lines)
    log.setLevel(logging.INFO)
    log.propagate = False
