"""Request smuggling attempts on raw sockets: each is refused with 400 and the
connection closed, so a request hidden behind it is never served."""

from __future__ import annotations

import socket

import pytest

from hyperdjango import HyperApp
from hyperdjango.testing import TestClient

from support.stress import address

app = HyperApp(title="smuggling", max_body_size=1024)
served: list[str] = []


@app.get("/hello")
async def hello(request):
    return "hello"


@app.get("/smuggled")
async def smuggled(request):
    served.append("smuggled")
    return "smuggled"


@app.post("/echo")
async def echo(request):
    return {"body": (await request.body()).decode("latin-1")}


HIDDEN = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"

ATTEMPTS = {
    "content-length and transfer-encoding": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "transfer-encoding and content-length": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    "two different content-lengths": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
    "a content-length list": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 5\r\n\r\nabcde",
    "a signed content-length": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc",
    "a content-length beyond 64 bits": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    "obs-fold": b"GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
    "bare LF line endings": b"GET /hello HTTP/1.1\nHost: x\n\n",
    "one bare LF among CRLFs": b"GET /hello HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n",
    "a bare LF after a body": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /hello HTTP/1.1\nHost: x\n\n",
    "a space before the colon": b"GET /hello HTTP/1.1\r\nHost : x\r\n\r\n",
    "transfer-encoding with a space before the colon": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "an unknown transfer-encoding": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "a content coding before chunked": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "chunked not last": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    "chunked in HTTP/1.0": b"POST /echo HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "an invalid chunk size": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "a negative chunk size": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n",
    "a chunk size overflowing 64 bits": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
    "a chunk without its CRLF": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n",
    "a chunk extension ending in LF": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;a\nabc\r\n0\r\n\r\n",
    "a NUL in a header value": b"GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
}


@pytest.fixture(scope="module")
def server():
    with TestClient(app, header_timeout=2.0) as client:
        yield client


def exchange(base_url: str, data: bytes) -> tuple[bytes, bool]:
    """Sends ``data``; returns what came back and whether the server closed the connection."""
    with socket.create_connection(address(base_url), timeout=3) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            return received, False
        except ConnectionResetError:
            pass
    return received, True


@pytest.mark.parametrize("attempt", list(ATTEMPTS), ids=list(ATTEMPTS))
def test_a_smuggling_attempt_is_refused_with_400_and_the_connection_closed(server, attempt):
    served.clear()
    received, closed = exchange(server.base_url, ATTEMPTS[attempt] + HIDDEN)
    statuses = [line.split(b" ")[1] for line in received.split(b"\r\n") if line.startswith(b"HTTP/1.")]
    assert statuses == [b"400"], received
    assert closed
    assert served == []
    assert server.get("/hello").text == "hello"


def test_the_same_content_length_twice_is_one_length(server):
    # RFC 9112 §6.3: identical values may be taken as one; nothing can be smuggled by it.
    received, _ = exchange(server.base_url, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
    assert received.startswith(b"HTTP/1.1 200") and received.endswith(b'{"body":"abc"}')


def test_pipelined_requests_with_bodies_and_crlf_still_work(server):
    received, _ = exchange(
        server.base_url,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na\nb"
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    assert received.count(b"HTTP/1.1 200") == 3
    assert b'{"body":"a\\nb"}' in received and b'{"body":"ok"}' in received and received.endswith(b"hello")
