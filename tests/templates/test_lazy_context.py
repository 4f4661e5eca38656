"""Context values a template may never read (the CSRF token, the request's view, a
processor's own) are wrapped in Lazy: computed only when the template reads them,
once per render, and an error only where they are read."""

from __future__ import annotations

import pytest

from hyperdjango.templates import Lazy, TemplateError, Templates


@pytest.fixture
def templates(tmp_path):
    (tmp_path / "base.html").write_text("[{% block body %}{% endblock %}]")
    (tmp_path / "page.html").write_text('{% extends "base.html" %}{% block body %}{{ weather }}/{{ weather|length }}{% endblock %}')
    (tmp_path / "other.html").write_text("{{ name }}")
    return Templates(tmp_path)


def counting(result):
    calls = []

    def compute():
        calls.append(1)
        return result

    return calls, Lazy(compute)


def test_a_lazy_value_is_computed_when_read_once_per_render(templates):
    calls, weather = counting("rain")
    assert templates.render_to_string("page.html", {"weather": weather}) == "[rain/4]"  # read twice, as a real str
    assert calls == [1]


def test_a_lazy_value_the_template_does_not_read_is_never_computed(templates):
    calls, weather = counting("rain")
    assert templates.render_to_string("other.html", {"name": "tea", "weather": weather}) == "tea"
    assert calls == []


def test_a_lazy_value_that_fails_is_an_error_only_where_it_is_read(templates):
    def broken():
        raise RuntimeError("no forecast")

    assert templates.render_to_string("other.html", {"name": "tea", "weather": Lazy(broken)}) == "tea"
    with pytest.raises(TemplateError, match="computing the context value weather raised RuntimeError: no forecast"):
        templates.render_to_string("page.html", {"weather": Lazy(broken)})


def test_a_lazy_value_below_the_top_is_computed_before_rendering(templates):
    calls, weather = counting("sun")
    assert templates.from_string("{{ today.weather }}", {"today": {"weather": weather}}) == "sun"
    assert calls == [1]


def test_objects_print_their_str_only_when_printed(templates):
    class Row:
        printed = 0

        def __init__(self, name):
            self.name = name

        def __str__(self):
            Row.printed += 1
            return f"row {self.name}"

    rows = [Row("a"), Row("b")]
    assert templates.from_string("{% for r in rows %}{{ r.name }}{% endfor %}", {"rows": rows}) == "ab"
    assert Row.printed == 0
    assert templates.from_string("{% for r in rows %}{{ r }};{% endfor %}", {"rows": rows}) == "row a;row b;"
    assert Row.printed == 2
