"""Hostile and odd clients on raw sockets against the full Python server."""

from __future__ import annotations

import socket
import time

import pytest

from hyperdjango.testing import TestClient

from support.stress import hello_upload_app

app = hello_upload_app("raw", max_body_size=1024)


@pytest.fixture(scope="module")
def server():
    with TestClient(app, header_timeout=0.5, keepalive_timeout=1.0) as client:
        yield client


def connect(client: TestClient) -> socket.socket:
    host, port = client.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    return sock


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def still_serving(client: TestClient) -> bool:
    return client.get("/hello").text == "hello"


def test_malformed_request_line_gets_400_and_the_server_keeps_serving(server):
    with connect(server) as sock:
        sock.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 400")
    assert still_serving(server)


def test_invalid_header_gets_400(server):
    with connect(server) as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nbad header without colon\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 400")
    assert still_serving(server)


def test_oversized_header_section_gets_431(server):
    with connect(server) as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 431")
    assert still_serving(server)


def test_declared_oversized_body_gets_413_without_sending_it(server):
    with connect(server) as sock:
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n")
        response = read_all(sock)
        assert response.startswith(b"HTTP/1.1 413")
        assert b"1024 bytes" in response
    assert still_serving(server)


def test_chunked_body_over_the_limit_gets_413(server):
    with connect(server) as sock:
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(3):
            sock.sendall(b"200\r\n" + b"x" * 512 + b"\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 413")
    assert still_serving(server)


def test_chunked_body_within_the_limit_is_received_whole(server):
    with connect(server) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
        response = read_all(sock)
        assert response.startswith(b"HTTP/1.1 200")
        assert response.endswith(b'{"size":11}')


def test_slowloris_partial_headers_get_408_and_close(server):
    with connect(server) as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        response = read_all(sock)
        assert response.startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started < 4
    assert still_serving(server)


def test_pipelined_requests_are_answered_in_order(server):
    with connect(server) as sock:
        sock.sendall(
            b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
            b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        response = read_all(sock)
    assert response.count(b"HTTP/1.1 200") == 3
    first, second, third = (response.index(b"hello"), response.index(b'{"size":3}'), response.rindex(b"hello"))
    assert first < second < third


def test_head_gets_headers_and_no_body(server):
    with connect(server) as sock:
        sock.sendall(b"HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        response = read_all(sock)
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"content-length: 5" in head.lower()
    assert body == b""


def test_responses_carry_server_and_date_headers(server):
    response = server.get("/hello")
    assert response.headers["server"] == "hyperdjango"
    assert "date" in response.headers
