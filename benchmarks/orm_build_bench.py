"""The ORM's per-call cost without a database: building a QuerySet and getting its compiled SQL
and parameters (``QuerySet._compiled``), which is all the ORM adds to a raw ``db.query``.

The operations are orm_bench.py's plus ``all()``: ``get(pk=...)`` (built as ``get()`` builds
it), ``first()``, ``filter(...).order_by(...)[:10]`` and ``all()``. After the first call the
compiled SQL comes from the cache, so a call is: QuerySet methods + the cache key
(``Query.shape``) + the parameter list. Reported: microseconds per call, the best of
``--repeat`` runs of ``--number`` calls (the machine may be busy; the best run is the one
least disturbed).

    .venv/bin/python benchmarks/orm_build_bench.py [--repeat 30] [--number 2000]

Time on a busy machine is noise; instructions are not. ``--instructions`` runs each case
under valgrind's callgrind twice (``--calls`` and twice as many calls) and reports the
difference per call: the instructions one more call costs, whatever else the machine does.

    .venv/bin/python benchmarks/orm_build_bench.py --instructions [--calls 2000]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

from apps.orm_hyperdjango import Product  # orm_bench.py's models (benchmarks/ is on sys.path when run)
from hyperdjango.orm.backends import operations_for
from hyperdjango.orm.sql.compiler import compile_query


OPS = operations_for("postgresql")


def compiled(qs):
    c = compile_query(qs.query, "select", OPS)
    return c.sql, c.params(qs.query.params)


def get(i: int):
    qs = Product.objects.filter(pk=i)  # as QuerySet.get() builds it
    qs.query.set_ordering(())
    qs.query.set_limits(0, 2)
    return compiled(qs)


def first(i: int):
    return compiled(Product.objects.filter(category_id=i).order_by("pk")[:1])


def filter_slice(i: int):
    return compiled(Product.objects.filter(active=True, price__gte=Decimal(i)).order_by("price", "id")[:10])


def all_rows(i: int):
    return compiled(Product.objects.all())


CASES = {"get": get, "first": first, "filter_slice": filter_slice, "all": all_rows}


def best_per_call(fn, repeat: int, number: int) -> float:
    fn(1)  # compile once: the calls measured hit the cache, as a server's do
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for i in range(number):
            fn(i)
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e6


def instructions(case: str, calls: int) -> int:
    """Instructions valgrind counts for a process making ``calls`` calls of ``case``."""
    # A fixed hash seed, and bytecode already cached (the warm-up run): startup costs the same each time.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run([sys.executable, __file__, "--run", case, "--calls", "1"], env=env, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__, "--run", case, "--calls", str(calls)],
            capture_output=True, text=True, check=True, env=env,
        )
        return int(re.search(r"Collected : (\d+)", run.stderr).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--instructions", action="store_true", help="count instructions per call with callgrind")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--run", choices=CASES, help=argparse.SUPPRESS)  # one case's calls, under callgrind
    args = parser.parse_args()
    if args.run:
        fn = CASES[args.run]
        for i in range(args.calls):
            fn(i)
        return
    for name, fn in CASES.items():
        if args.instructions:
            per_call = (instructions(name, 2 * args.calls) - instructions(name, args.calls)) / args.calls
            print(f"{name:>13}: {per_call:9.0f} instructions per build+compile")
        else:
            print(f"{name:>13}: {best_per_call(fn, args.repeat, args.number):6.2f} µs per build+compile")


if __name__ == "__main__":
    main()
