"""The in-process queue under ``hyper run --workers N``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

APPS = Path(__file__).parent / "apps"


def test_in_process_periodic_tasks_run_in_one_server_process_only(tmp_path: Path):
    log = tmp_path / "ticks.log"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "hyperdjango", "run", "periodic_app:app", "--port", str(port), "--workers", "2"],
        cwd=APPS, env={**os.environ, "PERIODIC_LOG": str(log)}, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 5):
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    pids = {line.split()[0] for line in log.read_text().splitlines()}
    assert len(log.read_text().splitlines()) >= 5
    assert len(pids) == 1  # two workers serve, one schedules
