"""``hyper run --reload``: restart the server whenever a Python source changes."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterable

log = logging.getLogger("hyperdjango.reload")

#: How often the sources are checked, in seconds.
POLL_INTERVAL = 0.5


def snapshot(roots: Iterable[str]) -> dict[str, int]:
    """Modification times of every ``.py`` file below ``roots``."""
    times: dict[str, int] = {}
    for root in roots:
        for directory, subdirs, files in os.walk(root):
            subdirs[:] = [d for d in subdirs if not d.startswith(".") and d not in ("__pycache__", "target", "node_modules")]
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(directory, name)
                    try:
                        times[path] = os.stat(path).st_mtime_ns
                    except FileNotFoundError:
                        pass
    return times


def run_with_reload(argv: list[str], roots: list[str]) -> None:
    """Runs ``argv`` and restarts it when a source changes, until SIGINT/SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        seen = snapshot(roots)
        child = subprocess.Popen(argv)
        while not stopping and child.poll() is None:
            time.sleep(POLL_INTERVAL)
            if snapshot(roots) != seen:
                log.info("source changed; restarting")
                break
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        elif not stopping:
            # The server exited by itself (a syntax error, say): wait for a fix.
            while not stopping and snapshot(roots) == seen:
                time.sleep(POLL_INTERVAL)
