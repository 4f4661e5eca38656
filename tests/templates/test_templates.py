"""Templates from Python: the context crossing into Rust, views rendering pages,
the context processors, Python filters/tests/globals, errors, reload and streaming."""

from __future__ import annotations

import dataclasses
import datetime
import os
import threading
import time
from decimal import Decimal

import pytest
from markupsafe import Markup

from hyperdjango import HyperApp, Response
from hyperdjango.templates import TemplateError, Templates, render
from hyperdjango.testing import TestClient
from support.raw_http import raw_request


@pytest.fixture
def folder(tmp_path):
    def write(name, source):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        return path

    write.path = tmp_path
    return write


def test_plain_values_dicts_and_lists_cross_into_the_template(folder):
    folder("a.txt", "{{ n + 1 }} {{ f }} {{ b }} {{ none }} {{ d.k }} {{ l[1] }} {{ t|length }} {{ big }}")
    out = Templates(folder.path).render_to_string(
        "a.txt", {"n": 41, "f": 1.5, "b": True, "none": None, "d": {"k": "v"}, "l": [1, 2], "t": (1, 2, 3), "big": 2**70}
    )
    assert out == "42 1.5 True None v 2 3 1180591620717411303424"


def test_dataclasses_datetimes_and_decimals(folder):
    @dataclasses.dataclass
    class Product:
        name: str
        price: Decimal
        added: datetime.date

    folder("p.txt", "{{ p.name }} {{ p.price }} {{ p.added }} {{ p.added|date('j M Y') }} {{ when.hour }}")
    out = Templates(folder.path).render_to_string(
        "p.txt",
        {"p": Product("Tea", Decimal("4.50"), datetime.date(2026, 2, 3)), "when": datetime.datetime(2026, 1, 1, 9, 30)},
    )
    assert out == "Tea 4.50 2026-02-03 3 Feb 2026 9"


def test_html_is_escaped_and_markup_is_not(folder):
    folder("a.html", "{{ x }} {{ m }} {{ x|safe }}")
    out = Templates(folder.path).render_to_string("a.html", {"x": "<b>", "m": Markup("<i>ok</i>")})
    assert out == "&lt;b&gt; <i>ok</i> <b>"


def test_python_filters_tests_and_globals(folder):
    templates = Templates(folder.path)

    @templates.filter()
    def shout(value, times=1):
        return value.upper() + "!" * times

    @templates.test()
    def even(value):
        return value % 2 == 0

    templates.add_global("site", "Shop")
    templates.add_global("double", lambda n: n * 2)
    folder("a.txt", "{{ 'hi'|shout(times=2) }} {{ 4 is even }} {{ 3 is even }} {{ site }} {{ double(21) }}")
    assert templates.render_to_string("a.txt") == "HI!! True False Shop 42"


def test_a_python_filter_that_raises_is_a_template_error_naming_it(folder):
    templates = Templates(folder.path)

    @templates.filter()
    def broken(value):
        raise ValueError("no")

    folder("a.txt", "{{ 1|broken }}")
    with pytest.raises(TemplateError, match=r"broken\(\) raised ValueError: no"):
        templates.render_to_string("a.txt")


def test_a_syntax_error_names_the_template_line_and_column(folder):
    folder("bad.html", "<p>\n{% if x %}\n{{ x }\n{% endif %}")
    with pytest.raises(TemplateError) as info:
        Templates(folder.path).render_to_string("bad.html", {"x": 1})
    error = info.value
    assert (error.template, error.line, error.kind) == ("bad.html", 3, "syntax error")
    assert error.column is not None
    assert (3, "{{ x }") in error.source_lines
    assert "bad.html, line 3" in str(error)


def test_strict_undefined_names_the_variable_place(folder):
    folder("a.html", "ok\n{{ missing }}")
    assert Templates(folder.path).render_to_string("a.html") == "ok\n"
    with pytest.raises(TemplateError) as info:
        Templates(folder.path, strict_undefined=True).render_to_string("a.html")
    assert (info.value.line, info.value.column, info.value.kind) == (2, 4, "undefined value")


def test_a_missing_template_is_a_clear_error(folder):
    with pytest.raises(TemplateError, match="template not found"):
        Templates(folder.path).render_to_string("nope.html")


def test_an_awaitable_in_the_context_is_refused_before_rendering(folder):
    folder("a.html", "{{ rows }}")

    class Lazy:
        def __await__(self):
            yield

    with pytest.raises(TypeError, match="await it before rendering"):
        Templates(folder.path).render_to_string("a.html", {"rows": Lazy()})


def test_reload_picks_up_a_changed_file_and_the_cache_does_not(folder):
    path = folder("a.txt", "one")
    cached, reloading = Templates(folder.path), Templates(folder.path, reload=True)
    assert cached.render_to_string("a.txt") == reloading.render_to_string("a.txt") == "one"
    path.write_text("two")
    later = time.time() + 5
    os.utime(path, (later, later))
    assert cached.render_to_string("a.txt") == "one"
    assert reloading.render_to_string("a.txt") == "two"


def test_app_templates_reload_in_debug(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert HyperApp(debug=True).templates.reload
    assert not HyperApp().templates.reload


def test_folders_and_app_packages_are_searched_in_order(folder, tmp_path):
    folder("first/x.txt", "first")
    folder("second/x.txt", "second")
    folder("second/y.txt", "second y")
    templates = Templates(tmp_path / "first", [tmp_path / "second"], app_packages=["hyperdjango"])
    assert templates.render_to_string("x.txt") == "first"
    assert templates.render_to_string("y.txt") == "second y"
    assert templates.dirs[2].name == "templates" and templates.dirs[2].parent.name == "hyperdjango"


def test_renders_in_threads_run_at_the_same_time(folder):
    # A Python filter that waits for the other render proves no lock serialises renders.
    templates = Templates(folder.path)
    barrier = threading.Barrier(2, timeout=5)

    @templates.filter()
    def meet(value):
        barrier.wait()
        return value

    folder("a.txt", "{{ 'x'|meet }}")
    results = []
    threads = [threading.Thread(target=lambda: results.append(templates.render_to_string("a.txt"))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == ["x", "x"]


@pytest.fixture
def site(folder, tmp_path):
    folder("base.html", "<title>{% block title %}Shop{% endblock %}</title>{% block body %}{% endblock %}")
    folder(
        "shop/list.html",
        "{% extends 'base.html' %}{% block body %}{% for p in products %}"
        "<a href='{{ url_for('product', id=p.id) }}'>{{ p.name }}</a>{% endfor %}"
        "<link href='{{ static('app.css') }}'>{{ request.path }} {{ request.query.q }}{% endblock %}",
    )
    folder("big.html", "{% for i in range(n) %}<tr><td>{{ i }}</td></tr>{% endfor %}")
    app = HyperApp()
    app.templates = Templates(tmp_path)

    @app.get("/products")
    async def products(request):
        return await render(request, "shop/list.html", {"products": [{"id": 1, "name": "<Tea>"}]}, status=203)

    @app.get("/products/{id:int}")
    async def product(request):
        return Response.template(request, "base.html", {})

    @app.get("/big")
    async def big(request):
        return app.templates.stream(request, "big.html", {"n": 20000}, chunk_size=1024)

    @app.get("/broken")
    async def broken(request):
        return await render(request, "nope.html")

    with TestClient(app) as client:
        yield client


def test_render_answers_html_with_the_request_context(site):
    r = site.get("/products?q=green")
    assert r.status_code == 203
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text == (
        "<title>Shop</title><a href='/products/1'>&lt;Tea&gt;</a>"
        "<link href='/static/app.css'>/products green"
    )


def test_response_template_renders_too(site):
    assert site.get("/products/1").text == "<title>Shop</title>"


def test_the_stream_form_sends_the_whole_page(site):
    r = site.get("/big")
    assert r.status_code == 200
    assert r.headers.get("transfer-encoding") == "chunked"
    assert r.text == "".join(f"<tr><td>{i}</td></tr>" for i in range(20000))


def test_a_template_error_in_a_view_is_a_500(site):
    assert site.get("/broken").status_code == 500


def test_a_stream_that_fails_midway_cuts_the_connection(folder):
    folder("late.html", "{% for i in range(3000) %}row {{ i }}\n{% endfor %}{{ missing.attribute }}")
    app = HyperApp()
    app.templates = Templates(folder.path)

    @app.get("/late")
    async def late(request):
        return app.templates.stream(request, "late.html", chunk_size=256)

    with TestClient(app) as client:
        response = raw_request(client.base_url, b"GET /late HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 200")
    assert b"row 2000" in response  # the chunks rendered before the error went out
    assert not response.endswith(b"0\r\n\r\n")  # no last chunk: the client sees a broken body


def test_streams_beyond_the_limit_are_refused_with_503_and_counted(folder):
    import gc

    from hyperdjango import _core

    folder("big.html", "{% for i in range(100000) %}<tr><td>{{ i }}</td></tr>{% endfor %}")
    templates = Templates(folder.path)
    limit = _core.TemplateEngine.stream_stats()["max"]
    # Unread streams: each render thread fills its few chunks and waits for a reader.
    held = [templates.engine.stream("big.html", {}, 1024) for _ in range(limit)]
    app = HyperApp()
    app.templates = templates

    @app.get("/big")
    async def big(request):
        return app.templates.stream(request, "big.html", {})

    refused_before = _core.TemplateEngine.stream_stats()["refused"]
    with TestClient(app) as client:
        r = client.get("/big")
        assert (r.status_code, r.headers["retry-after"]) == (503, "1")
        assert _core.TemplateEngine.stream_stats()["refused"] == refused_before + 1
        del held
        gc.collect()
        deadline = time.monotonic() + 10
        while _core.TemplateEngine.stream_stats()["running"] and time.monotonic() < deadline:
            time.sleep(0.01)  # the threads see their readers gone and stop
        assert client.get("/big").status_code == 200


def test_class_attributes_a_class_declares_reach_the_template(folder):
    from hyperdjango.auth.models import AnonymousUser, User

    folder("u.txt", "{{ u.is_authenticated }} {{ u.is_anonymous }} {{ u.username }}|{% if u.is_authenticated %}in{% else %}out{% endif %}")
    templates = Templates(folder.path, strict_undefined=True)
    assert templates.render_to_string("u.txt", {"u": User(username="ann")}) == "True False ann|in"
    assert templates.render_to_string("u.txt", {"u": AnonymousUser()}) == "False True |out"

    class Undeclared:
        flag = True  # a class attribute not named in __template_attrs__ stays private

    folder("p.txt", "{{ o.flag }}")
    with pytest.raises(TemplateError):
        templates.render_to_string("p.txt", {"o": Undeclared()})
