"""benchmarks/run.py's verification and statistics, without servers: what makes an answer
right, and how rounds become the ratios of the results table. The fortunes page is drawn
by the real template engines of the comparison (hyperdjango's, Jinja2, Django's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.techempower import data, report, stats, verify

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "benchmarks" / "apps" / "templates"
ROWS = sorted([*enumerate(data.FORTUNES, 1), (0, data.EXTRA_FORTUNE)], key=lambda row: row[1])
TABLE = {1: 10, 2: 20, 3: 30}


def worlds(*pairs: tuple[int, int]) -> bytes:
    return json.dumps([{"id": i, "randomNumber": n} for i, n in pairs]).encode()


def test_the_expected_fortunes_page_is_tfbs_page():
    page = data.expected_fortunes_page()
    assert page.startswith("<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th>")
    assert "<tr><td>11</td><td>&lt;script&gt;alert(&quot;This should not be displayed" in page
    assert page.endswith("<tr><td>12</td><td>フレームワークのベンチマーク</td></tr></table></body></html>")
    verify.check_fortunes(page.encode(), page)


def test_the_page_hyperdjangos_templates_draw_is_the_expected_page():
    from hyperdjango.templates import Templates

    page = Templates(TEMPLATES).render_to_string("fortunes.html", {"fortunes": [{"id": i, "message": m} for i, m in ROWS]})
    verify.check_fortunes(page.encode(), data.expected_fortunes_page())


def test_the_page_jinja2_draws_is_the_expected_page_with_its_quote_spelling():
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    page = env.get_template("fortunes.html").render(fortunes=[{"id": i, "message": m} for i, m in ROWS])
    assert "&#34;" in page and "&#39;" in page
    verify.check_fortunes(page.encode(), data.expected_fortunes_page())


DJANGO_RENDER = """
import json, sys
import django
from django.conf import settings
settings.configure(TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [sys.argv[1]]}])
django.setup()
from django.template.loader import render_to_string
sys.stdout.buffer.write(render_to_string("fortunes.html", {"fortunes": json.loads(sys.argv[2])}).encode())
"""


def test_the_page_djangos_templates_draw_is_the_expected_page():
    # In a process of its own: Django's settings are configured once per process.
    drawn = subprocess.run([sys.executable, "-c", DJANGO_RENDER, str(TEMPLATES / "django"), json.dumps(ROWS)],
                           capture_output=True, check=True)
    assert b"&quot;" in drawn.stdout and b"&#x27;" in drawn.stdout
    verify.check_fortunes(drawn.stdout, data.expected_fortunes_page())


@pytest.mark.parametrize("damage", [
    lambda page: page + "\n",
    lambda page: page.replace("&lt;script&gt;", "<script>"),
    lambda page: page.replace("<tr><td>0</td><td>Additional fortune added at request time.</td></tr>", ""),
    lambda page: page.replace("フレームワーク", "?"),
    lambda page: page.replace("&quot;", "&amp;quot;"),
])
def test_any_other_difference_in_the_fortunes_page_is_a_wrong_answer(damage):
    expected = data.expected_fortunes_page()
    with pytest.raises(verify.WrongAnswer, match="differs from the expected page"):
        verify.check_fortunes(damage(expected).encode(), expected)


def test_db_and_queries_answers_must_be_rows_as_stored():
    verify.check_db(b'{"id": 2, "randomNumber": 20}', TABLE)
    verify.check_queries(worlds((1, 10), (3, 30), (1, 10)), 3, TABLE)
    with pytest.raises(verify.WrongAnswer, match="row 2 holds randomNumber 20"):
        verify.check_db(b'{"id": 2, "randomNumber": 21}', TABLE)
    with pytest.raises(verify.WrongAnswer, match="a list of 2"):
        verify.check_queries(worlds((1, 10)), 2, TABLE)


@pytest.mark.parametrize("body", [
    b'{"id": 2, "randomNumber": 20, "extra": 1}',
    b'{"id": true, "randomNumber": 20}',
    b'{"id": 2, "randomNumber": "20"}',
    b'{"id": 0, "randomNumber": 20}',
    b'[{"id": 2, "randomNumber": 20}]',
    b"not json",
])
def test_a_world_object_has_exactly_an_integer_id_and_randomnumber_in_range(body):
    with pytest.raises(verify.WrongAnswer):
        verify.check_db(body, TABLE)


def test_updates_must_be_read_back_from_the_table():
    before = {1: 0, 2: 0, 3: 0}
    verify.check_updates(worlds((1, 5), (3, 7)), 2, before, {1: 5, 2: 0, 3: 7})
    # An id drawn twice holds either number it was given.
    verify.check_updates(worlds((1, 5), (1, 6)), 2, before, {1: 6, 2: 0, 3: 0})
    with pytest.raises(verify.WrongAnswer, match="row 3 holds 0 .* not persisted"):
        verify.check_updates(worlds((1, 5), (3, 7)), 2, before, {1: 5, 2: 0, 3: 0})
    with pytest.raises(verify.WrongAnswer, match=r"rows \[2\] changed"):
        verify.check_updates(worlds((1, 5), (3, 7)), 2, before, {1: 5, 2: 9, 3: 7})


def test_plaintext_json_and_status_checks():
    verify.check_plaintext(b"Hello, World!")
    verify.check_json(b'{"message":"Hello, World!"}')
    verify.check_status("json", 200, "application/json; charset=utf-8", "application/json")
    with pytest.raises(verify.WrongAnswer, match="content-type"):
        verify.check_status("json", 200, "text/plain", "application/json")
    with pytest.raises(verify.WrongAnswer, match="status 500"):
        verify.check_status("db", 500, "application/json", "application/json")
    with pytest.raises(verify.WrongAnswer):
        verify.check_plaintext(b"Hello, World!\n")


def test_the_ratio_is_the_median_of_the_rounds_where_both_were_measured():
    found = stats.ratio([200.0, None, 300.0, 240.0], [100.0, 100.0, 100.0, 0.0])
    assert found == stats.Ratio(median=2.5, low=2.0, high=3.0, rounds=2)
    assert str(found) == "2.50x (2.00–3.00)"
    assert str(stats.ratio([150.0], [100.0])) == "1.50x"
    assert stats.ratio([None], [100.0]) is None
    assert stats.median_rps([None, 3.0, 1.0, 2.0]) == 2.0


def test_the_table_gives_the_references_req_s_and_every_other_case_as_a_multiple(tmp_path):
    rps = {"json": {"ref": [100.0, 200.0], "fast": [150.0, 500.0], "broken": [None, None]}}
    lines = report.table(rps, ["fast", "ref", "broken"], {"fast": "fast", "ref": "ref", "broken": "broken"}, "ref")
    assert lines[2] == "| json | 2.00x (1.50–2.50) | 150 req/s | — |"
    page = tmp_path / "page.md"
    page.write_text(f"before\n{report.START}\nold\n{report.END}\nafter\n")
    report.write_page_section(lines, page)
    assert page.read_text() == f"before\n{report.START}\n" + "\n".join(lines) + f"\n{report.END}\nafter\n"
    page.write_text("no markers")
    with pytest.raises(RuntimeError, match="lacks the markers"):
        report.write_page_section(lines, page)


def test_the_benchmarks_page_has_the_markers_run_py_writes_between():
    text = report.PAGE.read_text()
    assert text.index(report.START) < text.index(report.END)
