"""The Request a view receives: method, path, url, headers, query, cookies,
client, params, body, text, json, form and multipart, state."""

from __future__ import annotations

import socket

import pytest

from hyperdjango import HyperApp, Response, UploadFile
from hyperdjango.requests import Request
from hyperdjango.testing import TestClient


def echo_app(extract):
    """An app whose every route answers ``await extract(request)``."""
    app = HyperApp()

    @app.route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def echo(request):
        return await extract(request)

    @app.route("/", methods=["GET", "POST"])
    async def root(request):
        return await extract(request)

    return app


# -- request line ------------------------------------------------------------------


def test_method_is_the_request_method():
    async def extract(request):
        return request.method

    with TestClient(echo_app(extract)) as c:
        assert c.patch("/x").text == "PATCH"


def test_the_request_a_view_gets_is_what_request_init_makes():
    """The dispatcher builds it with ``PendingRequest.request``, not ``Request(...)``:
    the same attributes in the same order, and the lazy ones still built on first use."""

    async def extract(request):
        made = Request(request._raw, request.app, request.route)
        same = list(vars(request).items()) == list(vars(made).items())
        unrouted = request._raw.request(Request, request.app, []).route  # its id is past no routes
        return [same, type(request) is Request, unrouted, request.params, request.headers.get("x-a"), sorted(vars(request))]

    with TestClient(echo_app(extract)) as c:
        same, exact, unrouted, params, header, names = c.get("/a/b", headers={"x-a": "1"}).json()
    assert same and exact and unrouted is None
    assert params == {"rest": "a/b"} and header == "1"
    assert names == ["_headers", "_params", "_raw", "app", "method", "path", "route"]


class _OwnNew:
    def __new__(cls):
        return super().__new__(cls)


class _Number(int):
    pass


@pytest.mark.parametrize("cls", [_OwnNew, _Number])
def test_pending_request_refuses_classes_with_their_own_new(cls):
    async def extract(request):
        try:
            request._raw.request(cls, request.app, [])
        except TypeError as e:
            return str(e)
        return "built"

    with TestClient(echo_app(extract)) as c:
        assert "has its own __new__" in c.get("/x").text


def test_path_excludes_the_query_string():
    async def extract(request):
        return request.path

    with TestClient(echo_app(extract)) as c:
        assert c.get("/a/b?c=d").text == "/a/b"


def test_path_is_percent_decoded():
    async def extract(request):
        return request.path

    with TestClient(echo_app(extract)) as c:
        assert c.get("/caf%C3%A9/a%20b").text == "/café/a b"


def test_url_is_the_full_url_the_client_asked_for():
    async def extract(request):
        return request.url

    with TestClient(echo_app(extract)) as c:
        assert c.get("/a/caf%C3%A9?x=1&y=2").text == f"{c.base_url}/a/caf%C3%A9?x=1&y=2"


def test_url_has_no_question_mark_without_query():
    async def extract(request):
        return request.url

    with TestClient(echo_app(extract)) as c:
        assert c.get("/plain").text == f"{c.base_url}/plain"


def test_url_scheme_follows_the_trusted_proxy_header():
    app = HyperApp(database="sqlite://:memory:", secure_proxy_ssl_header=("X-Forwarded-Proto", "https"))

    @app.get("/p")
    async def extract(request):
        return Response.text(request.url)

    with TestClient(app) as c:
        assert c.get("/p", headers={"x-forwarded-proto": "https", "host": "shop.example"}).text == "https://shop.example/p"
        assert c.get("/p", headers={"host": "shop.example"}).text == "http://shop.example/p"


def test_a_client_claiming_https_is_not_believed_without_a_trusted_proxy_header():
    async def extract(request):
        return request.url

    with TestClient(echo_app(extract)) as c:
        r = c.get("/p", headers={"x-forwarded-proto": "https", "host": "shop.example"})
    assert r.text == "http://shop.example/p"


def test_params_hold_the_converted_path_parameters():
    app = HyperApp()

    @app.get("/u/{name}/{id:int}")
    async def view(request):
        return {"params": request.params}

    with TestClient(app) as c:
        assert c.get("/u/bob/12").json() == {"params": {"name": "bob", "id": 12}}


def test_params_are_empty_for_a_route_without_parameters():
    async def extract(request):
        return {"params": request.params}

    with TestClient(echo_app(extract)) as c:
        assert c.get("/").json() == {"params": {}}


def test_http_version_is_reported():
    async def extract(request):
        return request.http_version

    with TestClient(echo_app(extract)) as c:
        assert c.get("/").text == "1.1"


# -- headers -----------------------------------------------------------------------


def test_headers_are_case_insensitive():
    async def extract(request):
        h = request.headers
        return [h["x-token"], h["X-TOKEN"], h.get("X-Token"), "x-token" in h, "X-Token" in h]

    with TestClient(echo_app(extract)) as c:
        assert c.get("/", headers={"X-Token": "abc"}).json() == ["abc", "abc", "abc", True, True]


def test_repeated_headers_are_all_kept():
    async def extract(request):
        return {"list": request.headers.getlist("x-tag"), "joined": request.headers["x-tag"]}

    with TestClient(echo_app(extract)) as c:
        r = c.get("/", headers=[("X-Tag", "a"), ("x-tag", "b")])
    assert r.json() == {"list": ["a", "b"], "joined": "a, b"}


def test_missing_header_get_returns_the_default():
    async def extract(request):
        return {"value": request.headers.get("x-missing", "fallback"), "list": request.headers.getlist("x-missing")}

    with TestClient(echo_app(extract)) as c:
        assert c.get("/").json() == {"value": "fallback", "list": []}


def test_host_header_is_visible():
    async def extract(request):
        return request.headers["host"]

    with TestClient(echo_app(extract)) as c:
        assert c.get("/").text == c.base_url.removeprefix("http://")


def test_latin1_header_value_is_decoded_as_latin1():
    async def extract(request):
        return request.headers["x-name"]

    with TestClient(echo_app(extract)) as c:
        assert c.get("/", headers={"x-name": "Andr\xe9".encode("latin-1")}).text == "André"


# -- query string ------------------------------------------------------------------


def test_query_item_is_a_string():
    async def extract(request):
        return {"page": request.query["page"]}

    with TestClient(echo_app(extract)) as c:
        assert c.get("/?page=2").json() == {"page": "2"}


def test_query_getlist_returns_every_value_in_order():
    async def extract(request):
        return request.query.getlist("tag")

    with TestClient(echo_app(extract)) as c:
        assert c.get("/?tag=b&tag=a&tag=c").json() == ["b", "a", "c"]


def test_query_item_with_repeats_is_the_last_value():
    async def extract(request):
        return request.query["tag"]

    with TestClient(echo_app(extract)) as c:
        assert c.get("/?tag=first&tag=last").text == "last"


def test_query_values_are_percent_decoded():
    async def extract(request):
        return request.query["q"]

    with TestClient(echo_app(extract)) as c:
        assert c.get("/", params={"q": "green tea & café"}).text == "green tea & café"


def test_query_keeps_blank_values():
    async def extract(request):
        return {"empty": request.query["empty"], "keys": sorted(request.query)}

    with TestClient(echo_app(extract)) as c:
        assert c.get("/?empty=&x=1").json() == {"empty": "", "keys": ["empty", "x"]}


def test_query_get_returns_default_for_missing_key():
    async def extract(request):
        return {"v": request.query.get("missing", "d"), "list": request.query.getlist("missing")}

    with TestClient(echo_app(extract)) as c:
        assert c.get("/").json() == {"v": "d", "list": []}


# -- cookies -----------------------------------------------------------------------


def test_cookies_are_parsed_from_the_cookie_header():
    async def extract(request):
        return request.cookies

    with TestClient(echo_app(extract)) as c:
        r = c.get("/", headers={"cookie": "session=abc; theme=dark"})
    assert r.json() == {"session": "abc", "theme": "dark"}


def test_cookie_values_are_unquoted():
    async def extract(request):
        return request.cookies

    with TestClient(echo_app(extract)) as c:
        r = c.get("/", headers={"cookie": 'msg="hello world"; theme=dark'})
    assert r.json() == {"msg": "hello world", "theme": "dark"}


def test_one_malformed_cookie_does_not_hide_the_others():
    async def extract(request):
        return request.cookies

    with TestClient(echo_app(extract)) as c:
        r = c.get("/", headers={"cookie": 'session=abc; prefs={"a":1}; name=John Doe; theme=dark'})
    cookies = r.json()
    assert cookies["session"] == "abc"
    assert cookies["theme"] == "dark"
    assert cookies["name"] == "John Doe"


def test_cookies_from_several_cookie_headers_are_merged():
    async def extract(request):
        return request.cookies

    with TestClient(echo_app(extract)) as c:
        r = c.get("/", headers=[("cookie", "a=1"), ("cookie", "b=2")])
    assert r.json() == {"a": "1", "b": "2"}


def test_utf8_cookie_value_is_decoded():
    async def extract(request):
        return request.cookies

    with TestClient(echo_app(extract)) as c:
        r = c.get("/", headers={"cookie": "city=Zürich".encode()})
    assert r.json() == {"city": "Zürich"}


def test_cookies_are_empty_without_cookie_header():
    async def extract(request):
        return request.cookies

    with TestClient(echo_app(extract)) as c:
        assert c.get("/").json() == {}


# -- client ------------------------------------------------------------------------


def test_client_is_the_peer_address_and_port():
    async def extract(request):
        return [request.client.host, request.client.port]

    with TestClient(echo_app(extract)) as c:
        host, port = c.base_url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            local = sock.getsockname()
    assert data.endswith(f'["127.0.0.1",{local[1]}]'.encode())


# -- body --------------------------------------------------------------------------


def test_body_returns_the_raw_bytes():
    async def extract(request):
        body = await request.body()
        return {"type": type(body).__name__, "hex": body.hex()}

    with TestClient(echo_app(extract)) as c:
        assert c.post("/", content=b"\x00\xffraw").json() == {"type": "bytes", "hex": "00ff726177"}


def test_body_is_empty_bytes_without_a_body():
    async def extract(request):
        return {"body": (await request.body()).decode()}

    with TestClient(echo_app(extract)) as c:
        assert c.get("/").json() == {"body": ""}


def test_body_can_be_read_twice():
    async def extract(request):
        return (await request.body() + b"|" + await request.body()).decode()

    with TestClient(echo_app(extract)) as c:
        assert c.post("/", content=b"once").text == "once|once"


def test_chunked_request_body_is_read_in_full():
    async def extract(request):
        return await request.text()

    def chunks():
        yield b"part one, "
        yield b"part two"

    with TestClient(echo_app(extract)) as c:
        assert c.post("/", content=chunks()).text == "part one, part two"


def test_text_decodes_utf8_by_default():
    async def extract(request):
        return await request.text()

    with TestClient(echo_app(extract)) as c:
        assert c.post("/", content="naïve ☕".encode()).text == "naïve ☕"


def test_text_uses_the_charset_of_content_type():
    async def extract(request):
        return await request.text()

    with TestClient(echo_app(extract)) as c:
        r = c.post("/", content="déjà".encode("latin-1"), headers={"content-type": "text/plain; charset=iso-8859-1"})
    assert r.text == "déjà"


def test_text_with_undecodable_body_is_a_400():
    async def extract(request):
        return await request.text()

    with TestClient(echo_app(extract)) as c:
        r = c.post("/", content=b"\xff\xfe\xfa", headers={"content-type": "text/plain; charset=utf-8"})
    assert r.status_code == 400


# -- json --------------------------------------------------------------------------


def test_json_parses_the_body():
    async def extract(request):
        data = await request.json()
        return {"got": data, "type": type(data).__name__}

    with TestClient(echo_app(extract)) as c:
        r = c.post("/", json={"name": "Tea", "tags": ["green"], "price": 4.5})
    assert r.json() == {"got": {"name": "Tea", "tags": ["green"], "price": 4.5}, "type": "dict"}


def test_json_accepts_a_top_level_list():
    async def extract(request):
        return {"got": await request.json()}

    with TestClient(echo_app(extract)) as c:
        assert c.post("/", json=[1, 2, 3]).json() == {"got": [1, 2, 3]}


def test_json_does_not_need_a_json_content_type():
    async def extract(request):
        return await request.json()

    with TestClient(echo_app(extract)) as c:
        assert c.post("/", content=b'{"a": 1}', headers={"content-type": "text/plain"}).json() == {"a": 1}


# -- forms -------------------------------------------------------------------------


def test_urlencoded_form_fields_are_parsed():
    async def extract(request):
        form = await request.form()
        return {"name": form["name"], "note": form["note"]}

    with TestClient(echo_app(extract)) as c:
        r = c.post("/", data={"name": "Tea & co", "note": "café"})
    assert r.json() == {"name": "Tea & co", "note": "café"}


def test_urlencoded_form_keeps_repeated_fields():
    async def extract(request):
        return (await request.form()).getlist("tag")

    with TestClient(echo_app(extract)) as c:
        assert c.post("/", data={"tag": ["a", "b"]}).json() == ["a", "b"]


def test_urlencoded_form_decodes_utf8_fields():
    async def extract(request):
        return (await request.form())["word"]

    with TestClient(echo_app(extract)) as c:
        r = c.post(
            "/",
            content="word=caf%C3%A9",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert r.text == "café"


def test_urlencoded_form_with_raw_utf8_bytes_is_decoded_as_utf8():
    async def extract(request):
        return (await request.form())["word"]

    with TestClient(echo_app(extract)) as c:
        r = c.post(
            "/",
            content="word=café ☕".encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert r.text == "café ☕"


def test_form_of_another_content_type_is_empty():
    async def extract(request):
        return {"n": len(await request.form())}

    with TestClient(echo_app(extract)) as c:
        assert c.post("/", json={"a": 1}).json() == {"n": 0}


def test_multipart_form_fields_are_parsed():
    async def extract(request):
        form = await request.form()
        return {"title": form["title"], "tags": form.getlist("tag")}

    with TestClient(echo_app(extract)) as c:
        r = c.post(
            "/",
            data={"title": "Thé vert", "tag": ["x", "y"]},
            files={"unused": ("u.txt", b"u", "text/plain")},
        )
    assert r.json() == {"title": "Thé vert", "tags": ["x", "y"]}


def test_multipart_file_is_an_upload_file_with_name_type_and_content():
    async def extract(request):
        upload = (await request.form())["doc"]
        return {
            "is_upload": isinstance(upload, UploadFile),
            "filename": upload.filename,
            "content_type": upload.content_type,
            "size": upload.size,
            "content": (await upload.read()).decode(),
        }

    with TestClient(echo_app(extract)) as c:
        r = c.post("/", files={"doc": ("notes.txt", b"hello file", "text/plain")})
    assert r.json() == {
        "is_upload": True,
        "filename": "notes.txt",
        "content_type": "text/plain",
        "size": 10,
        "content": "hello file",
    }


def test_multipart_non_ascii_filename_is_decoded_as_utf8():
    async def extract(request):
        return [f.filename for f in (await request.form()).getlist("f")]

    with TestClient(echo_app(extract)) as c:
        r = c.post("/", files=[("f", ("thé.txt", b"a", "text/plain")), ("f", ("tea ☕.txt", b"b", "text/plain"))])
    assert r.status_code == 200
    assert r.json() == ["thé.txt", "tea ☕.txt"]


def test_multipart_non_ascii_field_name_is_decoded_as_utf8():
    async def extract(request):
        return {"keys": sorted(await request.form())}

    with TestClient(echo_app(extract)) as c:
        r = c.post("/", data={"prénom": "x"}, files={"pièce": ("a.txt", b"a", "text/plain")})
    assert r.json() == {"keys": ["pièce", "prénom"]}


def test_multipart_binary_file_content_is_kept_exactly():
    payload = bytes(range(256)) * 64 + b"\r\n--not-a-boundary\r\n"

    async def extract(request):
        upload = (await request.form())["blob"]
        return await upload.read()

    with TestClient(echo_app(extract)) as c:
        r = c.post("/", files={"blob": ("b.bin", payload, "application/octet-stream")})
    assert r.content == payload


def test_multipart_several_files_under_one_field():
    async def extract(request):
        return [f.filename for f in (await request.form()).getlist("f")]

    with TestClient(echo_app(extract)) as c:
        r = c.post("/", files=[("f", ("a.txt", b"a", "text/plain")), ("f", ("b.txt", b"b", "text/plain"))])
    assert r.json() == ["a.txt", "b.txt"]


def test_multipart_without_boundary_is_a_400():
    async def extract(request):
        return {"n": len(await request.form())}

    with TestClient(echo_app(extract)) as c:
        r = c.post("/", content=b"x", headers={"content-type": "multipart/form-data"})
    assert r.status_code == 400


def test_malformed_multipart_body_is_a_400():
    async def extract(request):
        return {"n": len(await request.form())}

    with TestClient(echo_app(extract)) as c:
        r = c.post(
            "/",
            content=b"this is not multipart at all",
            headers={"content-type": "multipart/form-data; boundary=XYZ"},
        )
    assert r.status_code == 400


# -- state and attributes ----------------------------------------------------------


def test_state_set_in_middleware_is_read_in_the_view():
    app = HyperApp()

    async def mw(request, next_handler):
        request.state.user = "alice"
        return await next_handler(request)

    app.use(mw)

    @app.get("/")
    async def view(request):
        return request.state.user

    with TestClient(app) as c:
        assert c.get("/").text == "alice"


def test_state_is_fresh_for_each_request():
    app = HyperApp()

    @app.get("/")
    async def view(request):
        had = hasattr(request.state, "seen")
        request.state.seen = True
        return {"had": had}

    with TestClient(app) as c:
        assert c.get("/").json() == {"had": False}
        assert c.get("/").json() == {"had": False}


def test_reading_unset_state_is_an_attribute_error():
    async def extract(request):
        try:
            request.state.nothing
        except AttributeError as e:
            return str(e)
        return "no error"

    with TestClient(echo_app(extract)) as c:
        assert "nothing" in c.get("/").text
