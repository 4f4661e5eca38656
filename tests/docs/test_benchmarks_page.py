"""docs/benchmarks.md shows the session-3 table of benchmarks/README.md and a chart drawn from
that table by benchmarks/chart.py; the committed chart must match the table."""

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_chart():
    spec = importlib.util.spec_from_file_location("benchmark_chart", ROOT / "benchmarks" / "chart.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up while being made
    spec.loader.exec_module(module)
    return module


def test_the_committed_chart_is_drawn_from_the_current_table():
    checked = subprocess.run([sys.executable, "benchmarks/chart.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_the_chart_has_a_bar_per_speed_up_and_leaves_costs_out():
    chart = load_chart()
    groups = chart.groups((ROOT / "benchmarks" / "README.md").read_text())
    bars = {(group.title, label): value for group in groups for label, value in group.bars}
    assert bars[("typed POST, nested body + response model — vs FastAPI on uvicorn / on Granian", "on Granian")] == 5.05
    assert bars[("Django polls app, json/db/fortunes, WSGI — vs Granian WSGI", "fortunes")] == 0.97
    assert bars[("HTTP json, 64 conns, 3 rounds (median of per-round ratios) — vs Granian RSGI raw", "")] == 0.85
    titles = {group.title for group in groups}
    assert not any("its own raw db.query" in title or "a bare view" in title for title in titles)
    assert chart.svg(groups).count('height="12" fill=') == len(bars)


def test_the_page_includes_the_table_and_the_chart(site):
    page = (site / "benchmarks.html").read_text()
    assert '<img alt="hyperdjango against its peers' in page and 'src="benchmarks-session3.svg"' in page
    assert (site / "benchmarks-session3.svg").read_bytes().startswith(b"<svg")
    assert "<td>Granian RSGI raw</td>" in page
    assert "benchmarks/results/session3-http-quiet.txt" in page
