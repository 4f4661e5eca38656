"""An ASGI 3 app served on the engine (``AsgiServer``, what ``hyper run
mysite.asgi:application`` uses): lifespan, the body pulled in chunks, response
streaming, disconnects, header fidelity, the scope, WebSocket frames and close codes."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hyperdjango.serving.asgi import AsgiServer
from support.servers import running


async def read_body(receive) -> tuple[bytes, list[dict]]:
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            return b"".join(m.get("body", b"") for m in messages), messages


async def reply(send, status: int = 200, body: bytes = b"", headers=()) -> None:
    await send({"type": "http.response.start", "status": status, "headers": list(headers)})
    await send({"type": "http.response.body", "body": body})


async def raw_request(port: int, head: bytes, body: bytes = b"") -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + body)
    await writer.drain()
    return reader, writer


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


# -- lifespan ---------------------------------------------------------------------


async def test_lifespan_state_reaches_every_request_and_shutdown_runs():
    events = []

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                events.append(message["type"])
                if message["type"] == "lifespan.startup":
                    scope["state"]["pool"] = "ready"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await read_body(receive)
        await reply(send, body=scope["state"]["pool"].encode())

    async with running(AsgiServer(app)) as url, httpx.AsyncClient() as client:
        assert (await client.get(url + "/")).text == "ready"
    assert events == ["lifespan.startup", "lifespan.shutdown"]


async def test_an_app_that_refuses_lifespan_still_serves():
    async def app(scope, receive, send):  # Django's ASGIHandler does this
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await read_body(receive)
        await reply(send, body=b"served")

    async with running(AsgiServer(app)) as url, httpx.AsyncClient() as client:
        assert (await client.get(url + "/")).text == "served"


async def test_a_failed_startup_stops_the_server_from_starting():
    async def app(scope, receive, send):
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(RuntimeError, match="no database"):
        async with running(AsgiServer(app)):
            pass


# -- the request body ---------------------------------------------------------------


async def test_the_body_reaches_the_app_before_the_client_has_sent_it_all():
    first_chunk = asyncio.Event()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        message = await receive()
        first_chunk.set()
        total = len(message["body"])
        while message.get("more_body"):
            message = await receive()
            total += len(message["body"])
        await reply(send, body=str(total).encode())

    async with running(AsgiServer(app)) as url:
        head = b"POST /up HTTP/1.1\r\nhost: x\r\ncontent-length: 200000\r\n\r\n"
        reader, writer = await raw_request(port_of(url), head, b"a" * 1000)
        # The app runs while 199 000 bytes are still on the client's side.
        await asyncio.wait_for(first_chunk.wait(), 10)
        writer.write(b"b" * 199_000)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(4096), 10)
        writer.close()
    assert response.startswith(b"HTTP/1.1 200") and response.endswith(b"200000")


async def test_a_chunked_body_comes_in_several_messages_the_last_without_more_body():
    seen = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body, messages = await read_body(receive)
        seen.extend(messages)
        await reply(send, body=body)

    async def parts():
        for i in range(3):
            yield f"part{i};".encode()
            await asyncio.sleep(0.05)

    async with running(AsgiServer(app)) as url, httpx.AsyncClient() as client:
        response = await client.post(url + "/", content=parts())
    assert response.text == "part0;part1;part2;"
    assert len(seen) >= 2
    assert all(m["more_body"] for m in seen[:-1]) and not seen[-1]["more_body"]


async def test_a_request_without_a_body_gets_one_empty_message():
    seen = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        seen.append(await receive())
        await reply(send)

    async with running(AsgiServer(app)) as url, httpx.AsyncClient() as client:
        assert (await client.get(url + "/")).status_code == 200
    assert seen == [{"type": "http.request", "body": b"", "more_body": False}]


def last_message_app(seen: list):
    """An app that reads the body and keeps the type of the last message it got."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        _, messages = await read_body(receive)
        seen.append(messages[-1]["type"])

    return app


async def test_a_body_over_max_body_size_is_413_and_the_app_sees_a_disconnect():
    seen = []
    app = last_message_app(seen)

    chunk = b"3e8\r\n" + b"x" * 1000 + b"\r\n"
    async with running(AsgiServer(app), max_body_size=4000) as url:
        head = b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
        reader, writer = await raw_request(port_of(url), head, chunk * 10 + b"0\r\n\r\n")
        response = await asyncio.wait_for(reader.read(4096), 10)
        writer.close()
    assert response.startswith(b"HTTP/1.1 413")
    assert b"larger than the limit of 4000 bytes" in response
    assert seen == ["http.disconnect"]


# -- the response -----------------------------------------------------------------


async def test_a_streamed_response_reaches_the_client_while_the_app_is_still_sending():
    client_got_first = asyncio.Event()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first;", "more_body": True})
        await asyncio.wait_for(client_got_first.wait(), 10)
        await send({"type": "http.response.body", "body": b"second", "more_body": False})

    async with running(AsgiServer(app)) as url, httpx.AsyncClient() as client:
        async with client.stream("GET", url + "/") as response:
            chunks = response.aiter_raw()
            assert await chunks.__anext__() == b"first;"
            client_got_first.set()
            assert b"".join([c async for c in chunks]) == b"second"


async def test_an_app_that_fails_before_responding_is_a_500_and_one_that_returns_without_a_response_too():
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        if scope["path"] == "/raise":
            raise RuntimeError("boom")

    async with running(AsgiServer(app)) as url, httpx.AsyncClient() as client:
        assert (await client.get(url + "/raise")).status_code == 500
        assert (await client.get(url + "/silent")).status_code == 500


async def test_a_failure_mid_stream_cuts_the_response_instead_of_ending_it_cleanly():
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("boom")

    async with running(AsgiServer(app)) as url, httpx.AsyncClient() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(url + "/")


async def test_pathsend_lets_the_engine_send_the_file(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(300_000))

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        assert "http.response.pathsend" in scope["extensions"]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/octet-stream")]})
        await send({"type": "http.response.pathsend", "path": str(path)})

    async with running(AsgiServer(app)) as url, httpx.AsyncClient() as client:
        response = await client.get(url + "/")
    assert response.content == path.read_bytes()


# -- disconnects ----------------------------------------------------------------------


async def test_http_disconnect_arrives_when_the_client_goes_away_mid_request():
    got = asyncio.get_running_loop().create_future()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await read_body(receive)
        got.set_result((await receive())["type"])  # waits: Django 5 listens like this

    async with running(AsgiServer(app)) as url:
        _, writer = await raw_request(port_of(url), b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        await asyncio.sleep(0.2)
        assert not got.done()  # nothing while the client waits
        writer.close()
        assert await asyncio.wait_for(got, 10) == "http.disconnect"


async def test_http_disconnect_arrives_once_the_response_is_complete():
    got = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await read_body(receive)
        await reply(send, body=b"done")
        got.append((await receive())["type"])

    async with running(AsgiServer(app)) as url, httpx.AsyncClient() as client:
        assert (await client.get(url + "/")).text == "done"
        await asyncio.sleep(0.1)
    assert got == ["http.disconnect"]


async def test_a_listener_cancelled_while_waiting_leaves_the_next_receive_able_to_see_the_end():
    got = asyncio.get_running_loop().create_future()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await read_body(receive)
        listener = asyncio.ensure_future(receive())  # Django 5 cancels its listener when the view ends
        await asyncio.sleep(0.05)
        listener.cancel()
        waiting = asyncio.ensure_future(receive())
        await asyncio.sleep(0.05)
        await reply(send, body=b"done")
        got.set_result((await asyncio.wait_for(waiting, 5))["type"])

    async with running(AsgiServer(app)) as url, httpx.AsyncClient() as client:
        assert (await client.get(url + "/")).text == "done"
        assert await asyncio.wait_for(got, 5) == "http.disconnect"


async def test_every_task_waiting_in_receive_hears_of_the_client_leaving():
    got: list[str] = []
    both = asyncio.get_running_loop().create_future()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await read_body(receive)
        messages = await asyncio.gather(receive(), receive())
        got.extend(m["type"] for m in messages)
        both.set_result(None)

    async with running(AsgiServer(app)) as url:
        _, writer = await raw_request(port_of(url), b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        await asyncio.sleep(0.2)
        writer.close()
        await asyncio.wait_for(both, 10)
    assert got == ["http.disconnect", "http.disconnect"]


async def test_a_send_after_the_complete_response_is_an_error_not_a_disconnect():
    errors: list[BaseException] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await read_body(receive)
        waiting = asyncio.ensure_future(receive())  # the engine watches for the client meanwhile
        await asyncio.sleep(0)
        await reply(send, body=b"done")
        await waiting
        await asyncio.sleep(0.05)
        try:
            await send({"type": "http.response.body", "body": b"late"})
        except BaseException as exc:
            errors.append(exc)

    async with running(AsgiServer(app)) as url, httpx.AsyncClient() as client:
        assert (await client.get(url + "/")).text == "done"
        await asyncio.sleep(0.2)
    assert len(errors) == 1 and type(errors[0]) is RuntimeError, errors


# -- the scope ------------------------------------------------------------------------


def recording_app(scopes: list):
    """An app that answers 200 and keeps every HTTP scope."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        scopes.append(scope)
        await reply(send)

    return app


async def test_headers_are_bytes_as_received_with_duplicates_and_order_kept():
    scopes = []
    app = recording_app(scopes)
    async with running(AsgiServer(app)) as url:
        head = b"GET / HTTP/1.1\r\nHost: x\r\nX-First: 1\r\nX-Dup: a\r\nX-Dup: b\r\nX-Latin: caf\xe9\r\n\r\n"
        reader, writer = await raw_request(port_of(url), head)
        await reader.readuntil(b"\r\n\r\n")
        writer.close()
    assert scopes[0]["headers"] == [(b"host", b"x"), (b"x-first", b"1"), (b"x-dup", b"a"), (b"x-dup", b"b"), (b"x-latin", b"caf\xe9")]


async def test_mixed_case_names_are_lowercased_and_interleaved_repeats_keep_their_value_order():
    # ASGI: the order of each name's values must be kept, the order of names is not
    # important, names should be lowercased (docs/asgi.md: why not the client's case).
    scopes = []
    app = recording_app(scopes)
    async with running(AsgiServer(app)) as url:
        head = (b"GET / HTTP/1.1\r\nHost: x\r\nX-MiXeD-Case: m\r\nAccept: a1\r\nX-Other: o\r\n"
                b"accept: a2\r\nX-MIXED-CASE: M2\r\nACCEPT: a3\r\n\r\n")
        reader, writer = await raw_request(port_of(url), head)
        await reader.readuntil(b"\r\n\r\n")
        writer.close()
    headers = scopes[0]["headers"]
    assert all(name == name.lower() for name, _ in headers)
    assert sorted(headers) == sorted([(b"host", b"x"), (b"x-mixed-case", b"m"), (b"accept", b"a1"), (b"x-other", b"o"),
                                      (b"accept", b"a2"), (b"x-mixed-case", b"M2"), (b"accept", b"a3")])  # every one, once
    assert [v for n, v in headers if n == b"accept"] == [b"a1", b"a2", b"a3"]
    assert [v for n, v in headers if n == b"x-mixed-case"] == [b"m", b"M2"]  # values untouched, in order


async def test_the_scope_names_path_root_path_query_client_and_server():
    scopes = []
    app = recording_app(scopes)
    async with running(AsgiServer(app, root_path="/app")) as url, httpx.AsyncClient() as client:
        await client.get(url + "/caf%C3%A9/x%2Fy?a=1&b=%20")
    scope = scopes[0]
    assert scope["path"] == "/app/café/x/y"
    assert scope["raw_path"] == b"/app/caf%C3%A9/x%2Fy"
    assert scope["root_path"] == "/app"
    assert scope["query_string"] == b"a=1&b=%20"
    assert scope["scheme"] == "http" and scope["http_version"] == "1.1" and scope["method"] == "GET"
    assert scope["client"][0] == "127.0.0.1" and scope["server"] == ("127.0.0.1", port_of(url))


# -- WebSocket --------------------------------------------------------------------------


async def ws_app(scope, receive, send):
    if scope["type"] != "websocket":
        return
    assert (await receive())["type"] == "websocket.connect"
    if scope["path"] == "/refuse":
        await send({"type": "websocket.close"})
        return
    if scope["path"] == "/deny":
        await send({"type": "websocket.http.response.start", "status": 401, "headers": [(b"x-why", b"login")]})
        await send({"type": "websocket.http.response.body", "body": b"log in first"})
        return
    await send({"type": "websocket.accept", "subprotocol": scope["subprotocols"][-1] if scope["subprotocols"] else None})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            ws_app.closed = message["code"]
            return
        if message.get("text") == "bye":
            await send({"type": "websocket.close", "code": 4003, "reason": "bye"})
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": "echo:" + message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"][::-1]})


async def test_a_websocket_echoes_text_and_bytes_with_the_chosen_subprotocol():
    async with running(AsgiServer(ws_app)) as url:
        async with connect(url.replace("http", "ws") + "/ws", subprotocols=["a", "b"]) as ws:
            assert ws.subprotocol == "b"
            await ws.send("hi")
            assert await ws.recv() == "echo:hi"
            await ws.send(b"\x01\x02")
            assert await ws.recv() == b"\x02\x01"


async def test_close_codes_go_both_ways():
    async with running(AsgiServer(ws_app)) as url:
        async with connect(url.replace("http", "ws") + "/ws") as ws:
            await ws.send("bye")
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4003, "bye")
        ws_app.closed = None
        async with connect(url.replace("http", "ws") + "/ws") as ws:
            await ws.close(4002, "client")
        for _ in range(100):
            if ws_app.closed:
                break
            await asyncio.sleep(0.02)
        assert ws_app.closed == 4002


async def test_a_close_before_accept_is_403_and_an_http_response_refuses_with_its_own_status():
    async with running(AsgiServer(ws_app)) as url:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url.replace("http", "ws") + "/refuse"):
                pass
        assert refused.value.response.status_code == 403
        with pytest.raises(InvalidStatus) as denied:
            async with connect(url.replace("http", "ws") + "/deny"):
                pass
        assert denied.value.response.status_code == 401
        assert denied.value.response.headers["x-why"] == "login"
        assert denied.value.response.body == b"log in first"


# -- hostile clients ------------------------------------------------------------------------


async def test_a_body_that_stalls_is_408_and_the_app_sees_a_disconnect():
    seen = []
    app = last_message_app(seen)

    async with running(AsgiServer(app), header_timeout=0.3) as url:
        head = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n"
        reader, writer = await raw_request(port_of(url), head, b"only ten b")
        response = await asyncio.wait_for(reader.read(4096), 10)
        writer.close()
    assert response.startswith(b"HTTP/1.1 408")
    assert seen == ["http.disconnect"]


async def test_a_declared_length_over_the_limit_is_413_before_the_app_runs():
    calls = []

    async def app(scope, receive, send):
        calls.append(scope["type"])

    async with running(AsgiServer(app, lifespan=False), max_body_size=1000) as url:
        head = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5000000000\r\n\r\n"
        reader, writer = await raw_request(port_of(url), head)
        response = await asyncio.wait_for(reader.read(4096), 10)
        writer.close()
    assert response.startswith(b"HTTP/1.1 413")
    assert calls == []
