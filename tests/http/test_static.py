"""Static files: content, content types, ETag/304, and what must stay hidden."""

from __future__ import annotations

import os

import pytest

from hyperdjango import HyperApp
from hyperdjango.testing import TestClient


@pytest.fixture
def site(tmp_path):
    """A static directory next to a secret file outside it."""
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "css" / "site.css").write_text("body{margin:0}")
    (root / "app.js").write_text("console.log(1)")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (root / "data.json").write_text('{"a":1}')
    (root / "notes.txt").write_text("thé")
    (root / "archive.zzunknown").write_bytes(b"\x00\x01")
    (root / "with space.txt").write_text("spaced")
    (tmp_path / "secret.txt").write_text("top secret")
    return root


@pytest.fixture
def client(site):
    app = HyperApp()
    app.mount_static("/static", site)
    with TestClient(app) as c:
        yield c


def test_static_file_content_is_served(client):
    r = client.get("/static/index.html")
    assert r.status_code == 200
    assert r.text == "<h1>home</h1>"


def test_static_file_in_a_subdirectory_is_served(client):
    assert client.get("/static/css/site.css").text == "body{margin:0}"


def test_static_binary_file_is_served_byte_for_byte(client, site):
    r = client.get("/static/logo.png")
    assert r.content == (site / "logo.png").read_bytes()
    assert r.headers["content-length"] == str((site / "logo.png").stat().st_size)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("css/site.css", "text/css; charset=utf-8"),
        ("logo.png", "image/png"),
        ("data.json", "application/json"),
        ("notes.txt", "text/plain; charset=utf-8"),
        ("archive.zzunknown", "application/octet-stream"),
    ],
)
def test_static_content_type_follows_the_extension(client, name, content_type):
    assert client.get(f"/static/{name}").headers["content-type"] == content_type


def test_static_javascript_has_a_javascript_content_type(client):
    content_type = client.get("/static/app.js").headers["content-type"]
    assert content_type.split(";")[0] in ("text/javascript", "application/javascript")


def test_static_file_name_with_an_encoded_space(client):
    assert client.get("/static/with%20space.txt").text == "spaced"


def test_static_response_has_an_etag(client):
    etag = client.get("/static/index.html").headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2


def test_static_etag_is_stable_for_an_unchanged_file(client):
    assert client.get("/static/index.html").headers["etag"] == client.get("/static/index.html").headers["etag"]


def test_static_if_none_match_with_the_etag_is_a_304(client):
    etag = client.get("/static/index.html").headers["etag"]
    r = client.get("/static/index.html", headers={"if-none-match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == etag


def test_static_304_keeps_last_modified(client):
    first = client.get("/static/index.html")
    r = client.get("/static/index.html", headers={"if-none-match": first.headers["etag"]})
    assert r.headers["last-modified"] == first.headers["last-modified"]


def test_static_weak_etag_in_if_none_match_is_a_304(client):
    etag = client.get("/static/index.html").headers["etag"]
    r = client.get("/static/index.html", headers={"if-none-match": f'"other", W/{etag}'})
    assert r.status_code == 304


def test_static_if_none_match_star_is_a_304(client):
    assert client.get("/static/index.html", headers={"if-none-match": "*"}).status_code == 304


def test_static_stale_etag_gets_the_full_file(client):
    r = client.get("/static/index.html", headers={"if-none-match": '"stale"'})
    assert r.status_code == 200
    assert r.text == "<h1>home</h1>"


def test_static_etag_changes_when_the_file_changes(client, site):
    path = site / "index.html"
    old = client.get("/static/index.html").headers["etag"]
    path.write_text("<h1>new home</h1>")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    r = client.get("/static/index.html", headers={"if-none-match": old})
    assert r.status_code == 200
    assert r.text == "<h1>new home</h1>"
    assert r.headers["etag"] != old


def test_static_head_has_the_headers_and_no_body(client, raw):
    response = raw(client.base_url, b"HEAD /static/index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"content-type: text/html; charset=utf-8" in head.lower()
    assert b"etag:" in head.lower()
    assert body == b""


def test_static_missing_file_is_a_404(client):
    assert client.get("/static/missing.css").status_code == 404


def test_static_directory_is_a_404(client):
    assert client.get("/static/css").status_code == 404


def test_static_path_traversal_with_dot_segments_is_a_404(client, raw):
    response = raw(client.base_url, b"GET /static/../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 404")
    assert b"top secret" not in response


def test_static_path_traversal_with_encoded_dots_is_a_404(client):
    r = client.get("/static/%2e%2e/secret.txt")
    assert r.status_code == 404
    assert "top secret" not in r.text


def test_static_path_traversal_with_encoded_slashes_is_a_404(client):
    r = client.get("/static/..%2Fsecret.txt")
    assert r.status_code == 404
    assert "top secret" not in r.text


def test_static_absolute_path_is_a_404(client, site):
    secret = site.parent / "secret.txt"
    r = client.get(f"/static/%2F{str(secret).lstrip('/')}")
    assert r.status_code == 404
    assert "top secret" not in r.text


def test_static_symlink_out_of_the_directory_is_a_404(client, site):
    (site / "link.txt").symlink_to(site.parent / "secret.txt")
    r = client.get("/static/link.txt")
    assert r.status_code == 404
    assert "top secret" not in r.text


def test_static_post_is_a_405(client):
    assert client.post("/static/index.html").status_code == 405


def test_static_url_for_builds_a_file_url(site):
    app = HyperApp()
    app.mount_static("/assets/", site, name="assets")
    assert app.url_for("assets", path="css/site.css") == "/assets/css/site.css"


# -- Rust-side answers: ranges, validators, precompressed siblings, hashed names -------


def test_static_range_is_a_206_with_content_range(client, site):
    r = client.get("/static/logo.png", headers={"range": "bytes=2-9"})
    assert r.status_code == 206
    assert r.content == (site / "logo.png").read_bytes()[2:10]
    assert r.headers["content-range"] == f"bytes 2-9/{(site / 'logo.png').stat().st_size}"
    assert r.headers["content-length"] == "8"


def test_static_suffix_range_gives_the_last_bytes(client):
    r = client.get("/static/index.html", headers={"range": "bytes=-5"})
    assert (r.status_code, r.text) == (206, "</h1>")


def test_static_unsatisfiable_range_is_a_416(client):
    r = client.get("/static/index.html", headers={"range": "bytes=999-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == "bytes */13"
    assert r.content == b""


def test_static_huge_range_numbers_are_a_416_not_a_500(client, raw):
    response = raw(
        client.base_url,
        b"GET /static/index.html HTTP/1.1\r\nHost: x\r\nRange: bytes=99999999999999999999999-\r\nConnection: close\r\n\r\n",
    )
    assert response.startswith(b"HTTP/1.1 416")


def test_static_if_range_with_a_stale_etag_gets_the_whole_file(client):
    r = client.get("/static/index.html", headers={"range": "bytes=0-3", "if-range": '"stale"'})
    assert (r.status_code, r.text) == (200, "<h1>home</h1>")


def test_static_if_modified_since_is_a_304(client):
    last_modified = client.get("/static/index.html").headers["last-modified"]
    assert client.get("/static/index.html", headers={"if-modified-since": last_modified}).status_code == 304
    old = "Mon, 01 Jan 1990 00:00:00 GMT"
    assert client.get("/static/index.html", headers={"if-modified-since": old}).status_code == 200


def test_static_precompressed_sibling_is_chosen_by_accept_encoding(client, site):
    import gzip

    (site / "big.css").write_text("body{}" * 100)
    (site / "big.css.gz").write_bytes(gzip.compress(b"body{}" * 100))
    (site / "big.css.br").write_bytes(b"brotli bytes")
    br = client.get("/static/big.css", headers={"accept-encoding": "gzip, br"})
    assert br.headers["content-encoding"] == "br" and br.headers["vary"] == "Accept-Encoding"
    gz = client.get("/static/big.css", headers={"accept-encoding": "gzip, br;q=0"})
    assert gz.headers["content-encoding"] == "gzip"
    assert gz.text == "body{}" * 100  # the client inflates it
    assert gz.headers["content-type"] == "text/css; charset=utf-8"
    plain = client.get("/static/big.css", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == "body{}" * 100
    assert len({br.headers["etag"], gz.headers["etag"], plain.headers["etag"]}) == 3


def test_static_encoded_traversal_through_a_raw_socket_is_a_404(client, raw):
    for target in (b"/static/%2e%2e/secret.txt", b"/static/..%2fsecret.txt", b"/static/css/..%2f..%2fsecret.txt", b"/static/%2e%2e%5csecret.txt"):
        response = raw(client.base_url, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert response.split(b"\r\n", 1)[0] in (b"HTTP/1.1 404 Not Found", b"HTTP/1.1 400 Bad Request"), target
        assert b"top secret" not in response


def test_collectstatic_writes_hashed_names_a_manifest_and_gz(site, tmp_path, monkeypatch, capsys):
    import json
    import sys
    import types

    from hyperdjango.cli import main

    monkeypatch.chdir(tmp_path)
    module = types.ModuleType("collect_site")
    module.app = HyperApp()
    module.app.static("/static", site, root=tmp_path / "collected")
    monkeypatch.setitem(sys.modules, "collect_site", module)
    main(["collectstatic", "collect_site:app"])
    out = tmp_path / "collected"
    manifest = json.loads((out / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/site.css"]
    assert hashed.startswith("css/site.") and hashed.endswith(".css") and len(hashed) == len("css/site..css") + 12
    assert (out / hashed).read_text() == "body{margin:0}"
    assert (out / (hashed + ".gz")).is_file() and (out / "css/site.css").is_file()
    assert not (out / "logo.png.gz").exists()
    assert "static files collected" in capsys.readouterr().out


def test_collected_files_are_served_by_hashed_url_and_immutable(site, tmp_path):
    from hyperdjango.staticfiles import collect

    collect([site], tmp_path / "collected")
    app = HyperApp()
    app.static("/static", site, root=tmp_path / "collected")
    url = app.static_url("css/site.css")
    assert url != "/static/css/site.css"
    with TestClient(app) as c:
        hashed = c.get(url)
        assert hashed.text == "body{margin:0}"
        assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert c.get("/static/css/site.css").headers["cache-control"] == "no-cache"
        assert c.get("/static/staticfiles.json").status_code == 404


def test_debug_serves_the_sources_even_after_collecting(site, tmp_path):
    from hyperdjango.staticfiles import collect

    collect([site], tmp_path / "collected")
    app = HyperApp(debug=True)
    app.static("/static", site, root=tmp_path / "collected")
    assert app.static_url("css/site.css") == "/static/css/site.css"


def test_app_package_static_folders_are_searched_after_the_directory(tmp_path, monkeypatch):
    import sys

    package = tmp_path / "pkg_with_static"
    (package / "static").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "static" / "pkg.js").write_text("pkg")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "pkg_with_static", raising=False)
    app = HyperApp()
    app.static("/static", tmp_path / "none", app_packages=["pkg_with_static"])
    with TestClient(app) as c:
        assert c.get("/static/pkg.js").text == "pkg"
