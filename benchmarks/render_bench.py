#!/usr/bin/env python3
"""Render time of a 500-row table page: hyperdjango's templates (minijinja, in Rust)
next to Jinja2 (compiled and cached, autoescape on) and Django's template engine, in
one run and one process. The three templates print the same HTML (checked first).

    .venv/bin/python benchmarks/render_bench.py             # 500 rows, best of 7 × 1 s
    .venv/bin/python benchmarks/render_bench.py --rows 50 --rounds 3 --seconds 0.2

hyperdjango's time includes converting the context (500 dicts) into the engine, as a
view pays it. Run on a quiet machine; the issue's target is ≥ 2x Jinja2.
Needs the bench extras (``pip install -e '.[bench]'``: jinja2, django).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from decimal import Decimal
from pathlib import Path

JINJA = """<!doctype html>
<html><head><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1>
<table>
<thead><tr><th>#</th><th>Name</th><th>Price</th><th>Stock</th><th></th></tr></thead>
<tbody>
{%- for row in rows %}
<tr class="{{ loop.cycle('odd', 'even') }}"><td>{{ row.id }}</td><td><a href="/p/{{ row.id }}">{{ row.name }}</a></td><td>{{ row.price }}</td><td>{{ row.stock }}</td><td>{% if row.stock > 0 %}in stock{% else %}sold out{% endif %}</td></tr>
{%- endfor %}
</tbody>
</table>
</body></html>
"""

DJANGO = """<!doctype html>
<html><head><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1>
<table>
<thead><tr><th>#</th><th>Name</th><th>Price</th><th>Stock</th><th></th></tr></thead>
<tbody>{% for row in rows %}
<tr class="{% cycle 'odd' 'even' %}"><td>{{ row.id }}</td><td><a href="/p/{{ row.id }}">{{ row.name }}</a></td><td>{{ row.price }}</td><td>{{ row.stock }}</td><td>{% if row.stock > 0 %}in stock{% else %}sold out{% endif %}</td></tr>{% endfor %}
</tbody>
</table>
</body></html>
"""


def context(rows: int) -> dict:
    return {
        "title": "Products & prices",
        "rows": [
            {"id": i, "name": f"Tea <{i}> & co", "price": str(Decimal(i) / 4), "stock": i % 7}
            for i in range(1, rows + 1)
        ],
    }


def renderers(folder: Path):
    (folder / "table.html").write_text(JINJA)
    (folder / "django").mkdir()
    (folder / "django" / "table.html").write_text(DJANGO)

    from hyperdjango.templates import Templates

    hd = Templates(folder)

    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=True, auto_reload=False)
    jinja_template = env.get_template("table.html")

    import django
    from django.conf import settings

    settings.configure(
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [folder / "django"],
                    "OPTIONS": {"loaders": [("django.template.loaders.cached.Loader",
                                             ["django.template.loaders.filesystem.Loader"])]}}],
    )
    django.setup()
    from django.template import engines

    django_template = engines["django"].get_template("table.html")
    return {
        "hyperdjango": lambda ctx: hd.render_to_string("table.html", ctx),
        "jinja2": jinja_template.render,
        "django": django_template.render,
    }


def normalised(html: str) -> str:
    # Jinja2 writes ' as &#39; and Django as &#x27;; whitespace differs by template syntax.
    return "".join(html.replace("&#x27;", "&#39;").split())


def best_per_render(render, ctx: dict, rounds: int, seconds: float) -> float:
    best = float("inf")
    for _ in range(rounds):
        n, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            render(ctx)
            n += 1
        best = min(best, elapsed / n)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7, help="best of this many rounds")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one round")
    args = parser.parse_args()
    ctx = context(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        engines = renderers(Path(tmp))
        outputs = {name: normalised(render(ctx)) for name, render in engines.items()}
        if len(set(outputs.values())) != 1:
            raise SystemExit("the engines disagree on the page: " + ", ".join(f"{k}={len(v)}" for k, v in outputs.items()))
        times = {name: best_per_render(render, ctx, args.rounds, args.seconds) for name, render in engines.items()}
    print(f"# {args.rows}-row table, best of {args.rounds} × {args.seconds} s; Python {platform.python_version()}, {platform.machine()}")
    base = times["hyperdjango"]
    for name, seconds in times.items():
        print(f"{name:<12} {seconds * 1e6:10.1f} µs/render   {seconds / base:5.2f}x hyperdjango's time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
