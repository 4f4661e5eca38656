"""The per-request fast paths keep their guarantees: a bodiless request skips the
body read (and its timer) but a body still arrives whole and a slow one still
gets 408; lazily built request attributes behave as the eager ones did."""

from __future__ import annotations

import socket
import time

import pytest
from server.test_raw_sockets import read_all

from hyperdjango import HyperApp
from hyperdjango.testing import TestClient

app = HyperApp(title="request-path", max_body_size=1024)


@app.route("/echo", methods=["GET", "POST"])
async def echo(request):
    return {"method": request.method, "body": (await request.body()).decode()}


@app.get("/items/{id:int}")
async def item(request):
    return {"id": request.params["id"], "state": vars(request.state)}


@app.get("/replaced/{id:int}")
async def replaced(request):
    request.params = {"id": "mine"}
    request.state.seen = True
    return {"id": request.params["id"], "seen": request.state.seen}


@pytest.fixture(scope="module")
def server():
    with TestClient(app, header_timeout=0.5, keepalive_timeout=2.0) as client:
        yield client


def exchange(client: TestClient, raw: bytes, wait: float = 0.0) -> bytes:
    """Sends ``raw`` (in two parts around ``wait`` seconds when asked) and reads until the server closes."""
    host, port = client.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        if wait:
            sock.sendall(raw[:-3])
            time.sleep(wait)
            try:
                sock.sendall(raw[-3:])
            except OSError:  # the server may already have answered and closed
                pass
        else:
            sock.sendall(raw)
        return read_all(sock)


def test_a_get_without_a_body_is_answered(server):
    response = exchange(server, b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 200")
    assert response.endswith(b'{"method":"GET","body":""}')


def test_an_empty_declared_body_is_answered(server):
    response = exchange(server, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    assert response.endswith(b'{"method":"POST","body":""}')


def test_a_get_with_a_body_still_gets_it(server):
    response = exchange(server, b"GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
    assert response.endswith(b'{"method":"GET","body":"hello"}')


def test_a_body_that_stalls_gets_408_and_the_connection_closes(server):
    started = time.monotonic()
    response = exchange(
        server,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello",
        wait=1.5,  # three times the header timeout, which also bounds the body
    )
    assert response.startswith(b"HTTP/1.1 408")
    assert b"the request body took too long" in response
    assert b"connection: close" in response.lower()
    assert time.monotonic() - started < 4
    assert server.get("/echo").json() == {"method": "GET", "body": ""}


def test_path_params_and_state_read_lazily(server):
    assert server.get("/items/42").json() == {"id": 42, "state": {}}


def test_path_params_and_state_can_be_replaced(server):
    assert server.get("/replaced/7").json() == {"id": "mine", "seen": True}


def test_a_dict_from_a_bare_app_is_answered_as_response_json_would_be():
    """Without middleware a dict goes out without a Response object: same status, headers and body."""
    bare, wrapped = HyperApp(title="bare"), HyperApp(title="wrapped")

    async def passing(request, next_handler):
        return await next_handler(request)

    wrapped.use(passing)
    for target in (bare, wrapped):
        target.get("/d")(_dict_view)
        target.get("/unserialisable")(_unserialisable_view)
    answers = []
    for target in (bare, wrapped):
        with TestClient(target) as client:
            r = client.get("/d")
            bad = client.get("/unserialisable")
        answers.append((r.status_code, r.headers["content-type"], r.content, bad.status_code))
    assert answers[0] == answers[1] == (200, "application/json", '{"a":[1,"\u00e9"],"b":null}'.encode(), 500)


async def _dict_view(request):
    return {"a": [1, "\u00e9"], "b": None}


async def _unserialisable_view(request):
    return {"a": object()}
