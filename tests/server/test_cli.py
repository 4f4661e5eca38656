"""The ``hyper`` command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import APPS, free_port, wait_until_serving


def test_hyper_routes_lists_every_route():
    out = subprocess.run(
        [sys.executable, "-m", "hyperdjango", "routes", "workers_app:app"],
        cwd=APPS, capture_output=True, text=True, check=True,
    ).stdout
    assert "/pid" in out and "/slow" in out and "GET" in out


def test_hyper_run_with_a_bad_target_says_what_is_wrong():
    result = subprocess.run(
        [sys.executable, "-m", "hyperdjango", "run", "workers_app:nothing"],
        cwd=APPS, capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "is not a HyperApp" in result.stderr


def test_reload_restarts_when_a_source_changes(tmp_path: Path):
    source = tmp_path / "reloadable.py"
    source.write_text(
        "from hyperdjango import HyperApp\napp = HyperApp()\n"
        "@app.get('/version')\nasync def version(request):\n    return 'one'\n"
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hyperdjango", "run", "reloadable:app", "--port", str(port), "--reload"],
        cwd=tmp_path,
    )
    try:
        url = f"http://127.0.0.1:{port}/version"
        wait_until_serving(url, proc)
        assert httpx.get(url).text == "one"
        source.write_text(source.read_text().replace("'one'", "'two'"))
        deadline = time.monotonic() + 20
        text = None
        while time.monotonic() < deadline:
            try:
                text = httpx.get(url, timeout=1).text
            except httpx.TransportError:
                text = None
            if text == "two":
                break
            time.sleep(0.1)
        assert text == "two"
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0


def test_hyper_run_access_log_writes_a_json_line_per_request_with_its_request_id():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hyperdjango", "run", "workers_app:app", "--port", str(port), "--access-log", "json"],
        cwd=APPS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/pid", proc)
        response = httpx.get(f"http://127.0.0.1:{port}/pid?x=1", headers={"x-request-id": "req-42"})
        assert response.headers["x-request-id"] == "req-42"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    mine = [entry for entry in lines if entry["request_id"] == "req-42"]
    assert len(mine) == 1 and mine[0]["path"] == "/pid?x=1" and mine[0]["status"] == 200
