"""The servers of run.py and the workloads: how each server starts (one worker, one core:
each is told to use one process and, where it has them, one runtime thread) and what each
workload requests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
PY = sys.executable
HOST = "127.0.0.1"
REFERENCE_DIR = HERE / "reference"
# A directory of its own inside the cargo target directory (the workspace's builds never use it).
REFERENCE_TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "hyperdjango" / "target")) / "reference-target"

QUERIES = 20
#: workload -> the path and query wrk requests (TFB's test types; plaintext without pipelining).
WORKLOADS = {
    "plaintext": "plaintext",
    "json": "json",
    "db": "db",
    "queries": f"queries?queries={QUERIES}",
    "updates": f"updates?queries={QUERIES}",
    "fortunes": "fortunes",
}

NO_DATABASE = ("plaintext", "json")


@dataclass(frozen=True)
class Case:
    """A server of the comparison: its command ("{port}" is a free port; cwd is apps/)."""

    name: str
    label: str
    argv: tuple[str, ...]


def _granian_rsgi(target: str) -> tuple[str, ...]:
    # The setup of issue 19: one worker, one runtime thread, uvloop, HTTP/1, no access log.
    return (PY, "-m", "granian", "--interface", "rsgi", "--host", HOST, "--port", "{port}", "--workers", "1",
            "--runtime-threads", "1", "--loop", "uvloop", "--http", "1", "--no-ws", "--no-access-log",
            "--log-level", "warning", target)


def _uvicorn(target: str) -> tuple[str, ...]:
    return (PY, "-m", "uvicorn", target, "--host", HOST, "--port", "{port}", "--workers", "1", "--loop", "uvloop",
            "--http", "httptools", "--no-access-log", "--log-level", "warning")


REFERENCE = "granian-rsgi"
CASES = {case.name: case for case in (
    Case("hyperdjango", "hyperdjango (ORM + Rust templates)", (PY, "hyperdjango_app.py", "{port}", "1")),
    Case(REFERENCE, "Granian RSGI raw + asyncpg + Jinja2", _granian_rsgi("granian_rsgi_app:app")),
    Case("fastapi-uvicorn", "FastAPI on uvicorn + asyncpg + Jinja2", _uvicorn("fastapi_app:app")),
    Case("django-uvicorn", "Django 5.2 on uvicorn (ASGI, sync views)", _uvicorn("tfb_django.asgi:application")),
    Case("robyn", "Robyn + asyncpg + Jinja2", (PY, "robyn_app.py", "{port}")),
    Case("hyper-rust", "hyper + tokio-postgres (Rust, no Python)", (str(REFERENCE_TARGET / "release" / "te-reference"), "{port}")),
)}
#: The multi-worker comparison: hyperdjango's json with 1 and with 2 worker processes.
MULTI_WORKER = {workers: Case(f"hyperdjango-{workers}w", f"hyperdjango workers={workers}",
                              (PY, "hyperdjango_app.py", "{port}", str(workers))) for workers in (1, 2)}


def build_reference() -> None:
    """Builds the Rust reference server (release) with its own target directory: it is
    not a member of the project's workspace."""
    subprocess.run(["cargo", "build", "--release", "--quiet", "--manifest-path", str(REFERENCE_DIR / "Cargo.toml"),
                    "--target-dir", str(REFERENCE_TARGET)], check=True)
