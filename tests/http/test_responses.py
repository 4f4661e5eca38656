"""Responses: every constructor, cookies, streaming, server-sent events, files
and JSON encoding, as a client receives them."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import decimal
import uuid

import httpx
import pytest

from hyperdjango import HyperApp, Response
from hyperdjango.testing import TestClient


def serve_one(view, method="GET", **kwargs):
    app = HyperApp()
    app.route("/r", methods=[method])(view)
    with TestClient(app) as c:
        return c.request(method, "/r", **kwargs)


# -- constructors -------------------------------------------------------------------


def test_json_sets_content_type_and_body():
    async def view(request):
        return Response.json({"ok": True, "n": 1})

    r = serve_one(view)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.content == b'{"ok":true,"n":1}'


def test_json_with_status_and_headers():
    async def view(request):
        return Response.json({"id": 7}, status=201, headers={"location": "/items/7"})

    r = serve_one(view, "POST")
    assert r.status_code == 201
    assert r.headers["location"] == "/items/7"
    assert r.json() == {"id": 7}


def test_json_encodes_non_ascii_as_utf8():
    async def view(request):
        return Response.json({"name": "thé ☕"})

    r = serve_one(view)
    assert r.content == '{"name":"thé ☕"}'.encode()


def test_html_sets_html_content_type_with_charset():
    async def view(request):
        return Response.html("<h1>Thé</h1>")

    r = serve_one(view)
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text == "<h1>Thé</h1>"


def test_text_sets_plain_content_type_with_charset():
    async def view(request):
        return Response.text("plain", status=202)

    r = serve_one(view)
    assert r.status_code == 202
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.text == "plain"


def test_text_responses_do_not_share_their_headers():
    first, second = Response.text("a"), Response.text("b")
    first.headers["x-first"] = "1"
    assert "x-first" not in second.headers
    assert second.headers["content-type"] == "text/plain; charset=utf-8"
    assert (first.body, second.body) == (b"a", b"b")


def test_text_of_a_subclass_runs_its_init():
    class Tagged(Response):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.headers["x-tagged"] = "yes"

    r = Tagged.text("hi", status=201)
    assert isinstance(r, Tagged)
    assert (r.status_code, r.body, r.headers["x-tagged"]) == (201, b"hi", "yes")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"


def test_text_with_headers_keeps_a_content_type_given():
    r = Response.text("x", headers={"content-type": "text/csv"})
    assert r.headers["content-type"] == "text/csv"


def test_text_refuses_a_lone_surrogate():
    with pytest.raises(UnicodeEncodeError):
        Response.text("\ud800")


def test_redirect_is_a_302_with_location():
    async def view(request):
        return Response.redirect("/login?next=/cart")

    r = serve_one(view)
    assert r.status_code == 302
    assert r.headers["location"] == "/login?next=/cart"


def test_redirect_with_explicit_status():
    async def view(request):
        return Response.redirect("https://example.com/new", status=301)

    r = serve_one(view)
    assert r.status_code == 301
    assert r.headers["location"] == "https://example.com/new"


def test_redirect_percent_encodes_non_ascii_location():
    async def view(request):
        return Response.redirect("/café menu")

    r = serve_one(view)
    assert r.headers["location"] == "/caf%C3%A9%20menu"


def test_redirect_is_followed_by_the_client():
    app = HyperApp()

    @app.get("/old")
    async def old(request):
        return Response.redirect(request.url_for("new"))

    @app.get("/new")
    async def new(request):
        return "arrived"

    with TestClient(app) as c:
        r = c.get("/old", follow_redirects=True)
    assert r.text == "arrived"


def test_empty_is_a_204_without_body():
    async def view(request):
        return Response.empty()

    r = serve_one(view, "DELETE")
    assert r.status_code == 204
    assert r.content == b""


def test_empty_with_other_status_and_headers():
    async def view(request):
        return Response.empty(202, headers={"x-queued": "1"})

    r = serve_one(view)
    assert r.status_code == 202
    assert r.headers["x-queued"] == "1"
    assert r.content == b""


def test_plain_response_sets_content_length():
    async def view(request):
        return Response(b"12345")

    r = serve_one(view)
    assert r.headers["content-length"] == "5"


def test_response_headers_are_case_insensitive_and_replace():
    async def view(request):
        response = Response.text("x")
        response.headers["X-Thing"] = "1"
        response.headers["x-thing"] = "2"
        return response

    r = serve_one(view)
    assert r.headers.get_list("x-thing") == ["2"]


def test_response_appended_headers_are_all_sent():
    async def view(request):
        response = Response.text("x")
        response.headers.append("vary", "Accept")
        response.headers.append("vary", "Cookie")
        return response

    r = serve_one(view)
    assert r.headers.get_list("vary") == ["Accept", "Cookie"]


def test_header_with_control_characters_is_a_500_not_a_crash():
    app = HyperApp()

    @app.get("/bad")
    async def bad(request):
        return Response.text("x", headers={"x-bad": "a\r\nb"})

    @app.get("/good")
    async def good(request):
        return "fine"

    with TestClient(app) as c:
        assert c.get("/bad").status_code == 500
        assert c.get("/good").text == "fine"


def test_header_name_with_control_characters_is_a_500_not_a_crash():
    app = HyperApp()

    @app.get("/bad")
    async def bad(request):
        return Response.text("x", headers={"content-type\r\nx-injected": "1"})

    with TestClient(app) as c:
        r = c.get("/bad")
        assert r.status_code == 500
        assert "x-injected" not in r.headers


@pytest.mark.parametrize("content_type", ["application/xml", "application/json", "text/plain; charset=utf-8"])
def test_content_type_given_by_a_view_is_sent_as_given(content_type):
    async def view(request):
        return Response(b"<a/>", headers={"Content-Type": content_type})

    r = serve_one(view)
    assert r.headers.get_list("content-type") == [content_type]


# -- cookies -----------------------------------------------------------------------


def test_set_cookie_sends_set_cookie_with_defaults():
    async def view(request):
        response = Response.text("x")
        response.set_cookie("session", "abc")
        return response

    r = serve_one(view)
    header = r.headers["set-cookie"]
    assert header.startswith("session=abc")
    assert "Path=/" in header
    assert "SameSite=lax" in header
    assert "HttpOnly" in header  # secure by default (Django's default is httponly=False)


def test_set_cookie_for_page_scripts_leaves_httponly_off():
    async def view(request):
        response = Response.text("x")
        response.set_cookie("theme", "dark", httponly=False)
        return response

    assert "HttpOnly" not in serve_one(view).headers["set-cookie"]


def test_set_cookie_with_every_attribute():
    async def view(request):
        response = Response.text("x")
        response.set_cookie(
            "token",
            "t1",
            max_age=3600,
            path="/api",
            domain="example.com",
            secure=True,
            httponly=True,
            samesite="strict",
        )
        return response

    header = serve_one(view).headers["set-cookie"]
    for part in ("token=t1", "Max-Age=3600", "Path=/api", "Domain=example.com", "Secure", "HttpOnly", "SameSite=strict"):
        assert part in header


def test_set_cookie_with_datetime_expires_is_formatted_in_gmt():
    async def view(request):
        response = Response.text("x")
        response.set_cookie("k", "v", expires=datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC))
        return response

    assert "expires=Wed, 02 Jan 2030 03:04:05 GMT" in serve_one(view).headers["set-cookie"]


def test_several_cookies_are_sent_as_several_headers():
    async def view(request):
        response = Response.text("x")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    r = serve_one(view)
    assert [h.split(";")[0] for h in r.headers.get_list("set-cookie")] == ["a=1", "b=2"]


def test_set_cookie_is_stored_by_the_client():
    async def view(request):
        response = Response.text("x")
        response.set_cookie("session", "abc")
        return response

    app = HyperApp()
    app.get("/login")(view)
    with TestClient(app) as c:
        c.get("/login")
        assert c.cookies.get("session") == "abc"


def test_delete_cookie_expires_it():
    async def view(request):
        response = Response.text("x")
        response.delete_cookie("session")
        return response

    header = serve_one(view).headers["set-cookie"]
    assert header.startswith('session=""') or header.startswith("session=;")
    assert "Max-Age=0" in header
    assert "expires=Thu, 01 Jan 1970 00:00:00 GMT" in header


def test_delete_cookie_removes_it_from_the_client():
    app = HyperApp()

    @app.get("/login")
    async def login(request):
        response = Response.text("in")
        response.set_cookie("session", "abc")
        return response

    @app.get("/logout")
    async def logout(request):
        response = Response.text("out")
        response.delete_cookie("session")
        return response

    @app.get("/whoami")
    async def whoami(request):
        return request.cookies

    with TestClient(app) as c:
        c.get("/login")
        assert c.get("/whoami").json() == {"session": "abc"}
        c.get("/logout")
        assert c.get("/whoami").json() == {}


# -- streaming ---------------------------------------------------------------------


def test_stream_of_a_sync_iterable_sends_every_chunk():
    async def view(request):
        return Response.stream(iter([b"one,", "two,", b"three"]), media_type="text/csv")

    r = serve_one(view)
    assert r.status_code == 200
    assert r.content == b"one,two,three"
    assert r.headers["content-type"] == "text/csv"


def test_stream_of_an_async_generator_sends_every_chunk():
    async def chunks():
        for i in range(5):
            await asyncio.sleep(0)
            yield f"{i};"

    async def view(request):
        return Response.stream(chunks())

    assert serve_one(view).text == "0;1;2;3;4;"


def test_stream_is_sent_chunked_without_content_length():
    async def view(request):
        return Response.stream([b"a", b"b"])

    r = serve_one(view)
    assert r.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in r.headers


def test_stream_default_media_type_is_octet_stream():
    async def view(request):
        return Response.stream([b"a"])

    assert serve_one(view).headers["content-type"] == "application/octet-stream"


def test_stream_keeps_status_and_headers():
    async def view(request):
        return Response.stream([b"x"], status=206, headers={"x-part": "1"})

    r = serve_one(view)
    assert (r.status_code, r.headers["x-part"]) == (206, "1")


def test_large_stream_arrives_complete():
    chunk = b"0123456789abcdef" * 4096  # 64 KiB

    def chunks():
        for _ in range(64):  # 4 MiB: more than the engine's in-flight buffer
            yield chunk

    async def view(request):
        return Response.stream(chunks())

    r = serve_one(view)
    assert len(r.content) == 64 * len(chunk)
    assert r.content == chunk * 64


async def test_stream_chunk_reaches_the_client_before_the_next_is_produced():
    app = HyperApp()
    produce_second = asyncio.Event()

    async def chunks():
        yield b"first"
        await produce_second.wait()
        yield b"second"

    @app.get("/live")
    async def live(request):
        return Response.stream(chunks())

    async with TestClient(app) as c:
        async with httpx.AsyncClient(base_url=c.base_url) as client:
            async with client.stream("GET", "/live") as r:
                body = r.aiter_raw()
                first = await asyncio.wait_for(body.__anext__(), timeout=5)
                produce_second.set()
                rest = b"".join([chunk async for chunk in body])
    assert first == b"first"
    assert rest == b"second"


async def test_stream_stops_producing_when_the_client_disconnects():
    app = HyperApp()
    produced = []
    finished = asyncio.Event()

    async def chunks():
        try:
            for i in range(10_000):
                produced.append(i)
                yield b"x" * 65536
                await asyncio.sleep(0)
        finally:
            finished.set()

    @app.get("/endless")
    async def endless(request):
        return Response.stream(chunks())

    async with TestClient(app) as c:
        async with httpx.AsyncClient(base_url=c.base_url) as client:
            async with client.stream("GET", "/endless") as r:
                await r.aiter_raw().__anext__()
        await asyncio.wait_for(finished.wait(), timeout=10)
    assert len(produced) < 10_000


def test_stream_that_fails_midway_is_not_delivered_as_complete():
    app = HyperApp()

    async def chunks():
        yield b"first;"
        raise RuntimeError("generator failed")

    @app.get("/broken")
    async def broken(request):
        return Response.stream(chunks())

    @app.get("/ok")
    async def ok(request):
        return "ok"

    with TestClient(app) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.get("/broken")
        assert c.get("/ok").text == "ok"


async def test_stream_failing_while_the_client_lags_is_not_delivered_as_complete():
    app = HyperApp()
    failed = asyncio.Event()

    async def chunks():
        yield b"z" * (32 * 1024 * 1024)  # more than the sockets hold: the server waits for the client
        for _ in range(16):  # fills the engine's chunk buffer
            yield b"."
        failed.set()
        raise RuntimeError("generator failed")

    @app.get("/broken")
    async def broken(request):
        return Response.stream(chunks())

    async with TestClient(app) as c:
        async with httpx.AsyncClient(base_url=c.base_url, timeout=10) as client:
            async with client.stream("GET", "/broken") as r:
                await asyncio.wait_for(failed.wait(), timeout=5)
                with pytest.raises(httpx.RemoteProtocolError):
                    async for _ in r.aiter_raw():
                        pass


# -- server-sent events ------------------------------------------------------------


def test_sse_sets_event_stream_headers():
    async def view(request):
        return Response.sse(["hi"])

    r = serve_one(view)
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-cache"


def test_sse_string_event_is_one_data_line():
    async def view(request):
        return Response.sse(["hello", "world"])

    assert serve_one(view).text == "data: hello\n\ndata: world\n\n"


def test_sse_dict_event_has_event_id_and_retry_fields():
    async def view(request):
        return Response.sse([{"event": "price", "id": 3, "retry": 1000, "data": "4.50"}])

    assert serve_one(view).text == "event: price\nid: 3\nretry: 1000\ndata: 4.50\n\n"


def test_sse_non_string_data_is_json():
    async def view(request):
        return Response.sse([{"data": {"price": 4.5}}, [1, 2]])

    assert serve_one(view).text == 'data: {"price":4.5}\n\ndata: [1,2]\n\n'


def test_sse_multiline_data_becomes_several_data_lines():
    async def view(request):
        return Response.sse(["line one\nline two"])

    assert serve_one(view).text == "data: line one\ndata: line two\n\n"


def test_sse_from_an_async_generator():
    async def events():
        for i in range(3):
            await asyncio.sleep(0)
            yield {"id": i, "data": f"tick {i}"}

    async def view(request):
        return Response.sse(events())

    assert serve_one(view).text == "".join(f"id: {i}\ndata: tick {i}\n\n" for i in range(3))


# -- files -------------------------------------------------------------------------


def test_file_sends_the_file_content(tmp_path):
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n")

    async def view(request):
        return Response.file(path)

    r = serve_one(view)
    assert r.status_code == 200
    assert r.content == b"a,b\n1,2\n"
    assert r.headers["content-length"] == "8"


def test_file_content_type_is_guessed_from_the_name(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<p>x</p>")

    async def view(request):
        return Response.file(path)

    assert serve_one(view).headers["content-type"] == "text/html; charset=utf-8"


def test_file_of_unknown_type_is_octet_stream(tmp_path):
    path = tmp_path / "blob.unknownext"
    path.write_bytes(b"\x00")

    async def view(request):
        return Response.file(path)

    assert serve_one(view).headers["content-type"] == "application/octet-stream"


def test_file_with_explicit_media_type(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"{}")

    async def view(request):
        return Response.file(path, media_type="application/json")

    assert serve_one(view).headers["content-type"] == "application/json"


def test_file_with_filename_is_an_attachment(tmp_path):
    path = tmp_path / "x.pdf"
    path.write_bytes(b"%PDF")

    async def view(request):
        return Response.file(path, filename="facture été.pdf")

    r = serve_one(view)
    assert r.headers["content-disposition"] == "attachment; filename*=utf-8''facture%20%C3%A9t%C3%A9.pdf"
    assert r.headers["content-type"] == "application/pdf"


def test_file_has_etag_and_last_modified(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("a")

    async def view(request):
        return Response.file(path)

    r = serve_one(view)
    assert r.headers["etag"].startswith('"') and r.headers["etag"].endswith('"')
    assert r.headers["last-modified"].endswith("GMT")


def test_file_with_matching_if_none_match_is_a_304(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("a")
    app = HyperApp()

    @app.get("/f")
    async def view(request):
        return Response.file(path)

    with TestClient(app) as c:
        etag = c.get("/f").headers["etag"]
        r = c.get("/f", headers={"if-none-match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == etag


def test_missing_file_is_a_404(tmp_path):
    async def view(request):
        return Response.file(tmp_path / "missing.txt")

    assert serve_one(view).status_code == 404


def test_large_file_arrives_complete(tmp_path):
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 8192  # 2 MiB
    path.write_bytes(data)

    async def view(request):
        return Response.file(path)

    r = serve_one(view)
    assert r.content == data


# -- JSON encoding -----------------------------------------------------------------


def test_json_encodes_datetime_as_iso_8601():
    async def view(request):
        return {"at": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)}

    assert serve_one(view).json() == {"at": "2024-05-06T07:08:09+00:00"}


def test_json_encodes_date_as_iso_8601():
    async def view(request):
        return Response.json({"day": datetime.date(2024, 1, 2)})

    assert serve_one(view).json() == {"day": "2024-01-02"}


def test_json_encodes_uuid_as_string():
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")

    async def view(request):
        return {"id": value}

    assert serve_one(view).json() == {"id": "12345678-1234-5678-1234-567812345678"}


def test_json_encodes_decimal_as_string_keeping_every_digit():
    async def view(request):
        return {"price": decimal.Decimal("4.50"), "big": decimal.Decimal("12345678901234567890.000000001")}

    assert serve_one(view).json() == {"price": "4.50", "big": "12345678901234567890.000000001"}


def test_json_encodes_objects_with_to_dict():
    class Product:
        def __init__(self, id, name):
            self.id, self.name = id, name

        def to_dict(self):
            return {"id": self.id, "name": self.name}

    async def view(request):
        return [Product(1, "Tea"), Product(2, "Coffee")]

    assert serve_one(view).json() == [{"id": 1, "name": "Tea"}, {"id": 2, "name": "Coffee"}]


def test_json_encodes_nested_to_dict_results():
    class Price:
        def to_dict(self):
            return {"amount": decimal.Decimal("1.10"), "at": datetime.date(2024, 1, 1)}

    async def view(request):
        return {"price": Price()}

    assert serve_one(view).json() == {"price": {"amount": "1.10", "at": "2024-01-01"}}


def test_json_encodes_dataclasses():
    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    async def view(request):
        return {"p": Point(1, 2)}

    assert serve_one(view).json() == {"p": {"x": 1, "y": 2}}


def test_json_encodes_sets_and_tuples_as_lists():
    async def view(request):
        return {"s": {3}, "t": (1, 2)}

    assert serve_one(view).json() == {"s": [3], "t": [1, 2]}


def test_json_with_an_unencodable_value_is_a_500():
    async def view(request):
        return {"x": object()}

    assert serve_one(view).status_code == 500


def test_a_blocking_sync_stream_does_not_block_other_requests():
    import threading
    import time

    app = HyperApp()
    order = []
    release = threading.Event()

    @app.get("/slow-stream")
    async def slow_stream(request):
        def chunks():
            yield b"start "
            release.wait(5)  # blocks its thread, never the loop
            yield b"end"
            order.append("stream")

        return Response.stream(chunks())

    @app.get("/fast")
    async def fast(request):
        order.append("fast")
        release.set()
        return "fast"

    with TestClient(app) as c:
        result = {}
        t = threading.Thread(target=lambda: result.setdefault("r", c.get("/slow-stream")))
        t.start()
        time.sleep(0.2)
        assert c.get("/fast").text == "fast"
        t.join(10)
    assert result["r"].text == "start end"
    assert order == ["fast", "stream"]
