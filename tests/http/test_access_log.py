"""The access log and request ids: one line per request, the id in the response and in
every log record of the request."""

from __future__ import annotations

import json
import logging
import re

import pytest

from hyperdjango import HyperApp
from hyperdjango.exceptions import HTTPException
from hyperdjango.middleware.access_log import AccessLogMiddleware
from hyperdjango.middleware.request_id import RequestIdFilter, RequestIdMiddleware
from hyperdjango.responses import StreamingResponse
from hyperdjango.testing import TestClient

view_log = logging.getLogger("tests.view")


def make_app(format: str) -> HyperApp:
    app = HyperApp(title="access")
    app.use(RequestIdMiddleware())
    app.use(AccessLogMiddleware(format))

    @app.get("/hello")
    async def hello(request):
        view_log.warning("inside the view")
        return "hello"

    @app.get("/missing")
    async def missing(request):
        raise HTTPException(404)

    @app.get("/boom")
    async def boom(request):
        raise RuntimeError("boom")

    @app.get("/stream")
    async def stream(request):
        async def chunks():
            yield b"a"
            yield b"b"

        return StreamingResponse(chunks())

    return app


@pytest.fixture
def records(caplog):
    caplog.set_level(logging.INFO)
    ids = RequestIdFilter()
    caplog.handler.addFilter(ids)
    yield caplog
    caplog.handler.removeFilter(ids)


def access(records) -> list[logging.LogRecord]:
    return [r for r in records.records if r.name == "hyperdjango.access"]


def test_common_format_is_one_line_per_request(records):
    with TestClient(make_app("common")) as client:
        client.get("/hello?x=1")
        client.get("/missing")
        client.get("/boom")
        assert client.get("/stream").text == "ab"
    lines = [r.getMessage() for r in access(records)]
    assert re.fullmatch(r'127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET /hello\?x=1 HTTP/1\.1" 200 5', lines[0]), lines[0]
    assert lines[1].endswith('"GET /missing HTTP/1.1" 404 22')
    assert ' "GET /boom HTTP/1.1" 500 ' in lines[2]
    assert lines[3].endswith('"GET /stream HTTP/1.1" 200 -')  # size unknown when the line is written


def test_combined_format_adds_referer_and_a_user_agent_that_cannot_forge_a_line(records):
    with TestClient(make_app("combined")) as client:
        client.get("/hello", headers={"referer": "https://example.com/", "user-agent": 'evil" 200 0 "x'})
    [line] = [r.getMessage() for r in access(records)]
    assert line.endswith('200 5 "https://example.com/" "evil\\x22 200 0 \\x22x"')


def test_json_format_has_the_fields_and_the_request_id(records):
    with TestClient(make_app("json")) as client:
        response = client.get("/hello", headers={"x-request-id": "abc-123"})
    [record] = access(records)
    entry = json.loads(record.getMessage())
    assert entry["method"] == "GET" and entry["path"] == "/hello" and entry["status"] == 200
    assert entry["request_id"] == "abc-123" == response.headers["x-request-id"]
    assert entry["duration_ms"] >= 0 and record.status == 200


def test_a_request_id_is_made_when_none_or_a_hostile_one_comes_and_reaches_the_views_logs(records):
    with TestClient(make_app("common")) as client:
        made = client.get("/hello").headers["x-request-id"]
        replaced = client.get("/hello", headers={"x-request-id": "a b\tc" + "x" * 200}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made) and re.fullmatch(r"[0-9a-f]{32}", replaced) and made != replaced
    in_view = [r.request_id for r in records.records if r.name == "tests.view"]
    assert in_view == [made, replaced]


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="common, combined, json"):
        AccessLogMiddleware("apache")
