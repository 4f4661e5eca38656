#!/usr/bin/env python3
"""A Django 5.2 app (the polls project + /json, /db, /fortunes and the admin's
changelist) on ``hyper run`` (ASGI and WSGI) next to Granian (ASGI, WSGI),
uvicorn and gunicorn, one worker each, in one run; and a raw ASGI hello-world
on ``hyper run`` next to Granian.

    .venv/bin/python benchmarks/django_bench.py                    # every case, 10 s per endpoint
    .venv/bin/python benchmarks/django_bench.py -d 2 -w 1 --cases hyper-asgi,granian-asgi

Servers and wrk are pinned as in http_bench.py (whose machinery this reuses);
the report gives req/s per case and endpoint and, for each hyper row, the
ratio to Granian on the same interface (the target is at least 1.2x).
Measure on a quiet machine: a busy one says nothing about ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import http_bench  # noqa: E402  (Server, measure_clean, pinning, machine lines)

PY = sys.executable
APPS = HERE / "apps"
DJANGO_PATHS = ("json", "db", "fortunes", "admin/polls/question/")
HELLO_PATHS = ("json", "plaintext")


def _granian(interface: str, target: str) -> list[str]:
    return [PY, "-m", "granian", "--interface", interface, "--host", http_bench.HOST, "--port", "{port}",
            "--workers", "1", "--runtime-threads", "1", "--loop", "uvloop", "--http", "1", "--no-ws",
            "--log-level", "warning", target]


def _hyper(target: str, *extra: str) -> list[str]:
    return [PY, "-m", "hyperdjango", "run", target, "--host", http_bench.HOST, "--port", "{port}", *extra]


#: name -> (command, endpoints, the case it is compared with).
CASES: dict[str, tuple[list[str], tuple[str, ...], str | None]] = {
    "hyper-asgi": (_hyper("djbench_serve:asgi_app", "--interface", "asgi"), DJANGO_PATHS, "granian-asgi"),
    "granian-asgi": (_granian("asgi", "djbench_serve:asgi_app"), DJANGO_PATHS, None),
    "uvicorn": ([PY, "-m", "uvicorn", "djbench_serve:asgi_app", "--host", http_bench.HOST, "--port", "{port}",
                 "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
                 "--lifespan", "off"], DJANGO_PATHS, None),
    "hyper-wsgi": (_hyper("djbench_serve:wsgi_app", "--interface", "wsgi"), DJANGO_PATHS, "granian-wsgi"),
    "granian-wsgi": (_granian("wsgi", "djbench_serve:wsgi_app"), DJANGO_PATHS, None),
    "gunicorn": ([PY, "-m", "gunicorn", "djbench_serve:wsgi_app", "--bind", f"{http_bench.HOST}:{{port}}",
                  "--workers", "1", "--threads", "32", "--log-level", "warning"], DJANGO_PATHS, None),
    "hyper-raw-asgi": (_hyper("granian_asgi_app:app", "--interface", "asgi"), HELLO_PATHS, "granian-raw-asgi"),
    "granian-raw-asgi": (_granian("asgi", "granian_asgi_app:app"), HELLO_PATHS, None),
}


def prepare_database(env: dict[str, str]) -> str:
    """Migrates a fresh SQLite file, adds 100 questions and a logged-in admin; returns its session cookie."""
    script = (
        "import djbench, django; django.setup()\n"
        "from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
        "from django.contrib.auth.models import User; from django.contrib.sessions.backends.db import SessionStore\n"
        "from django.utils import timezone; from polls.models import Question\n"
        "Question.objects.bulk_create(Question(question_text=f'Question <{i}>', pub_date=timezone.now()) for i in range(100))\n"
        "user = User.objects.create_superuser('admin', 'a@example.com', 'benchmark-password')\n"
        "s = SessionStore(); s['_auth_user_id'] = str(user.pk); s['_auth_user_backend'] = 'django.contrib.auth.backends.ModelBackend'\n"
        "s['_auth_user_hash'] = user.get_session_auth_hash(); s.create(); print(s.session_key)\n"
    )
    done = subprocess.run([PY, "-c", script], cwd=APPS, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def django_environment(work: Path) -> str:
    """Points this process (and the servers it starts) at a fresh database in ``work``;
    returns the admin's ``Cookie`` header."""
    env = {**os.environ, "DJPOLLS_DB": str(work / "db.sqlite3"), "DJANGO_SETTINGS_MODULE": "djbench",
           "PYTHONPATH": os.pathsep.join([str(APPS), os.environ.get("PYTHONPATH", "")])}
    os.environ.update(env)  # the servers inherit it
    return f"Cookie: sessionid={prepare_database(env)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", "--duration", type=int, default=10, help="seconds measured per endpoint (10)")
    parser.add_argument("-w", "--warmup", type=int, default=2, help="seconds of warm-up per endpoint (2)")
    parser.add_argument("-c", "--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("-t", "--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument("--max-other", type=float, default=0.25, metavar="SHARE", help="see http_bench.py (0.25)")
    parser.add_argument("--retries", type=int, default=2, help="see http_bench.py (2)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, from --list (all)")
    http_bench.pinning_arguments(parser, client="wrk", step="endpoint")
    parser.add_argument("-v", "--verbose", action="store_true", help="print wrk's full output")
    args = parser.parse_args()
    args.repeat, args.pick = 1, "median"
    if args.list:
        for name, (_argv, paths, versus) in CASES.items():
            print(f"{name:<17} {' '.join(paths):<40} {'vs ' + versus if versus else ''}")
        return 0
    cases = http_bench.chosen_cases(parser, args.cases, CASES)
    if not shutil.which("wrk"):
        print("wrk (the load generator) is not installed (apt-get install wrk)", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="django-bench-"))
    args.headers = [django_environment(work)]
    pins = http_bench.cpu_pins(args)
    server_pin, client_pin = pins
    for line in http_bench.machine_lines(args, pins):
        print(line)
    print()
    rps: dict[tuple[str, str], float] = {}
    try:
        for case in cases:
            argv, paths, _ = CASES[case]
            if case == "gunicorn" and importlib.util.find_spec("gunicorn") is None:
                print(f"{case}: skipped (pip install gunicorn)")
                continue
            print(f"{case}: {' '.join(argv[1:4])} ...", flush=True)
            server = http_bench.Server(case, argv, server_pin, work)
            try:
                server.wait_ready(path=f"/{paths[0]}")
                for path in paths:
                    result = http_bench.measure_clean(server, path, args, client_pin)
                    rps[case, path] = result.rps
                    print(f"  /{path:<24} {result.rps:>9,.0f} req/s  p99 {result.latency_p99_ms:.2f} ms  errors {result.errors}", flush=True)
            finally:
                server.stop()
    finally:
        http_bench.stop_all()
    print("\nRatios (hyper req/s / the compared server's, same run; target >= 1.2x):")
    for case in cases:
        _, paths, versus = CASES[case]
        for path in paths if versus else ():
            if (case, path) in rps and (versus, path) in rps and rps[versus, path]:
                print(f"  {case} vs {versus} /{path}: {rps[case, path] / rps[versus, path]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
