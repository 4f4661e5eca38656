"""A WSGI app served on the engine (``WsgiServer``, what ``hyper run
mysite.wsgi:application`` uses): environ, ``wsgi.input`` streamed with
backpressure, ``start_response`` and ``exc_info``, iterables and ``close()``,
``wsgi.file_wrapper`` and the bounded thread pool."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import threading
import time

import httpx
import pytest

from hyperdjango.serving.wsgi import WsgiServer
from support.servers import running


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def test_the_environ_follows_pep_3333():
    environs = []

    def app(environ, start_response):
        environs.append(environ)
        start_response("200 OK", [("content-type", "text/plain")])
        return [b"ok"]

    async with running(WsgiServer(app, root_path="/site")) as url, httpx.AsyncClient() as client:
        response = await client.post(
            url + "/caf%C3%A9?a=1", content=b"body", headers=[("content-type", "text/x"), ("x-dup", "1"), ("x-dup", "2")],
        )
    assert response.text == "ok"
    environ = environs[0]
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["SCRIPT_NAME"] == "/site"
    assert environ["PATH_INFO"] == "/café".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "a=1"
    assert (environ["CONTENT_TYPE"], environ["CONTENT_LENGTH"]) == ("text/x", "4")
    assert environ["HTTP_X_DUP"] == "1,2"
    assert environ["SERVER_PORT"] == str(port_of(url)) and environ["REMOTE_ADDR"] == "127.0.0.1"
    assert environ["wsgi.url_scheme"] == "http" and environ["wsgi.multithread"] is True
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"


async def test_wsgi_input_is_read_while_the_client_is_still_sending():
    first_read = threading.Event()

    def app(environ, start_response):
        stream = environ["wsgi.input"]
        digest = hashlib.sha256(stream.read(1000))
        first_read.set()
        while chunk := stream.read(64 * 1024):
            digest.update(chunk)
        start_response("200 OK", [])
        return [digest.hexdigest().encode()]

    body = os.urandom(3 * 1024 * 1024)
    async with running(WsgiServer(app), max_body_size=8 * 1024 * 1024) as url:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(url))
        writer.write(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % len(body) + body[:1000])
        await writer.drain()
        # The app reads while almost all of the body is still on the client's side.
        assert await asyncio.get_running_loop().run_in_executor(None, first_read.wait, 10)
        writer.write(body[1000:])
        await writer.drain()
        response = await asyncio.wait_for(reader.readuntil(hashlib.sha256(body).hexdigest().encode()), 20)
        writer.close()
    assert response.startswith(b"HTTP/1.1 200")


async def test_readline_and_iteration_of_wsgi_input():
    def app(environ, start_response):
        stream = environ["wsgi.input"]
        first = stream.readline()
        rest = list(stream)
        start_response("200 OK", [])
        return [repr((first, rest)).encode()]

    async with running(WsgiServer(app)) as url, httpx.AsyncClient() as client:
        response = await client.post(url + "/", content=b"one\ntwo\nthree")
    assert response.text == repr((b"one\n", [b"two\n", b"three"]))


async def test_a_body_over_max_body_size_is_413():
    def app(environ, start_response):
        environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [b"read it all"]

    chunk = b"3e8\r\n" + b"x" * 1000 + b"\r\n"
    async with running(WsgiServer(app), max_body_size=4000) as url:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(url))
        writer.write(b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n" + chunk * 10 + b"0\r\n\r\n")
        response = await asyncio.wait_for(reader.read(4096), 10)
        writer.close()
    assert response.startswith(b"HTTP/1.1 413")


async def test_start_response_with_exc_info_replaces_the_head_before_the_body():
    def app(environ, start_response):
        start_response("200 OK", [("content-type", "text/plain")])
        try:
            raise ValueError("late failure")
        except ValueError:
            start_response("500 Internal Server Error", [("content-type", "text/plain")], sys.exc_info())
        return [b"error page"]

    async with running(WsgiServer(app)) as url, httpx.AsyncClient() as client:
        response = await client.get(url + "/")
    assert (response.status_code, response.text) == (500, "error page")


async def test_start_response_with_exc_info_after_the_head_went_out_reraises_and_cuts_the_response():
    def app(environ, start_response):
        write = start_response("200 OK", [])
        write(b"already sent")
        try:
            raise ValueError("too late")
        except ValueError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        return [b"never"]

    async with running(WsgiServer(app)) as url, httpx.AsyncClient() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(url + "/")


async def test_an_iterable_streams_and_close_is_called():
    closed = threading.Event()

    class Body:
        def __iter__(self):
            yield b"a;"
            yield b""
            yield b"b;"

        def close(self):
            closed.set()

    def app(environ, start_response):
        start_response("200 OK", [("content-type", "text/plain")])
        return Body()

    async with running(WsgiServer(app)) as url, httpx.AsyncClient() as client:
        response = await client.get(url + "/")
    assert response.text == "a;b;"
    assert closed.wait(5)


async def test_a_client_that_reads_slowly_gets_every_chunk_while_the_app_waits_for_room():
    chunk = bytes(range(256)) * 256  # 64 KiB
    chunks = 200  # far more than the stream's buffer and the socket's

    def app(environ, start_response):
        start_response("200 OK", [("content-type", "application/octet-stream")])
        return (chunk for _ in range(chunks))

    async with running(WsgiServer(app)) as url:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(url))
        writer.write(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.5)  # the app fills every buffer meanwhile
        response = await asyncio.wait_for(reader.read(), 30)
        writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in head.lower()
    payload = b"".join(_dechunk(body))
    assert len(payload) == chunks * len(chunk)
    assert hashlib.sha256(payload).digest() == hashlib.sha256(chunk * chunks).digest()


def _dechunk(body: bytes):
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return
        yield body[:size]
        body = body[size + 2 :]


async def test_a_body_as_long_as_its_content_length_goes_out_before_the_iterable_ends():
    release = threading.Event()
    closed = threading.Event()

    class Body:  # Django's HttpResponse is an iterable like this one, not a list
        def __iter__(self):
            yield b"whole"
            release.wait(10)  # the app is slow to finish: the client must not wait for it

        def close(self):
            closed.set()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return Body()

    async with running(WsgiServer(app)) as url, httpx.AsyncClient() as client:
        response = await asyncio.wait_for(client.get(url + "/"), 5)
        release.set()
    assert response.text == "whole" and response.headers["content-length"] == "5"
    assert closed.wait(5)


async def test_more_than_the_declared_content_length_is_dropped_and_the_connection_stays_usable():
    def app(environ, start_response):
        start_response("200 OK", [("content-length", "2")])
        return iter([b"ok", b"surplus"])

    async with running(WsgiServer(app)) as url, httpx.AsyncClient() as client:
        first = await client.get(url + "/")
        second = await client.get(url + "/")  # the same keep-alive connection
    assert (first.text, second.text) == ("ok", "ok")


async def test_an_app_exception_is_a_500():
    def app(environ, start_response):
        raise RuntimeError("boom")

    async with running(WsgiServer(app)) as url, httpx.AsyncClient() as client:
        assert (await client.get(url + "/")).status_code == 500


async def test_file_wrapper_sends_the_file(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(500_000))

    def app(environ, start_response):
        start_response("200 OK", [("content-type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](open(path, "rb"))

    async with running(WsgiServer(app)) as url, httpx.AsyncClient() as client:
        response = await client.get(url + "/")
    assert response.content == path.read_bytes()
    assert response.headers["content-length"] == "500000"


async def test_no_more_than_threads_requests_run_at_once():
    lock = threading.Lock()
    now = [0]
    peak = [0]

    def app(environ, start_response):
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.2)
        with lock:
            now[0] -= 1
        start_response("200 OK", [])
        return [b"ok"]

    async with running(WsgiServer(app, threads=2)) as url, httpx.AsyncClient() as client:
        responses = await asyncio.gather(*(client.get(url + "/") for _ in range(6)))
    assert [r.status_code for r in responses] == [200] * 6
    assert peak[0] == 2


async def test_a_worker_takes_its_request_from_the_engine_while_the_event_loop_is_busy():
    called = threading.Event()

    def app(environ, start_response):
        called.set()
        start_response("200 OK", [])
        return [b"ok"]

    async with running(WsgiServer(app, threads=2)) as url:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(url))
        writer.write(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        await writer.drain()
        # Blocks the loop thread: the request reaches the app without it (no hand-off on the loop).
        assert called.wait(10), "the WSGI app was not called while the loop was blocked"
        response = await asyncio.wait_for(reader.read(4096), 10)
        writer.close()
    assert response.startswith(b"HTTP/1.1 200") and response.endswith(b"ok")


async def test_the_workers_end_when_the_server_stops():
    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]

    def workers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("hyperdjango-wsgi-")]

    # By identity: an earlier test's workers may still be ending while this one starts.
    before = set(workers())
    async with running(WsgiServer(app, threads=3)) as url, httpx.AsyncClient() as client:
        assert (await client.get(url + "/")).text == "ok"
        mine = set(workers()) - before
        assert len(mine) == 3
    deadline = time.monotonic() + 10
    while any(t.is_alive() for t in mine) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not any(t.is_alive() for t in mine)


async def test_a_body_that_stalls_is_408():
    def app(environ, start_response):
        environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [b"never"]

    async with running(WsgiServer(app), header_timeout=0.3) as url:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(url))
        writer.write(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nonly ten b")
        response = await asyncio.wait_for(reader.read(4096), 10)
        writer.close()
    assert response.startswith(b"HTTP/1.1 408")


async def test_a_websocket_upgrade_to_a_wsgi_app_is_refused():
    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"http only"]

    async with running(WsgiServer(app)) as url:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(url))
        writer.write(
            b"GET /ws HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n"
            b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"
        )
        response = await asyncio.wait_for(reader.read(4096), 10)
        writer.close()
    assert response.startswith(b"HTTP/1.1 404")
