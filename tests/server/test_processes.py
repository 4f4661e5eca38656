"""Worker processes, supervision and graceful shutdown, with real processes."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx


def pids_seen(url: str, attempts: int = 200) -> set[int]:
    pids = set()
    for _ in range(attempts):
        # A new connection each time, so the kernel may pick another worker.
        pids.add(httpx.get(url + "/pid", headers={"connection": "close"}).json()["pid"])
        if len(pids) >= 2:
            break
    return pids


def test_two_workers_serve_one_port(hyper_server):
    server = hyper_server("workers_app:app", "--workers", "2")
    assert len(pids_seen(server.url)) == 2
    assert server.stop() == 0


def test_a_killed_worker_is_replaced(hyper_server):
    server = hyper_server("workers_app:app", "--workers", "2")
    before = pids_seen(server.url)
    victim = before.pop()
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = pids_seen(server.url)
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.1)
    assert victim not in now and len(now) == 2
    assert server.stop() == 0


def test_sigterm_finishes_the_in_flight_request_then_exits_0(hyper_server, tmp_path):
    marker = tmp_path / "marker"
    server = hyper_server("workers_app:app", env={"HYPER_TEST_MARKER": str(marker)})
    result = {}

    def slow_request():
        result["response"] = httpx.get(server.url + "/slow?seconds=1.5", timeout=10)

    client = threading.Thread(target=slow_request)
    client.start()
    time.sleep(0.5)  # the request is in flight
    server.proc.send_signal(signal.SIGTERM)
    client.join(timeout=10)
    assert result["response"].status_code == 200
    assert result["response"].json()["slept"] is True
    assert server.proc.wait(timeout=10) == 0
    assert marker.read_text().startswith("shutdown ")


def test_no_new_connections_are_accepted_during_shutdown(hyper_server):
    server = hyper_server("workers_app:app")
    client = threading.Thread(target=lambda: httpx.get(server.url + "/slow?seconds=1.5", timeout=10))
    client.start()
    time.sleep(0.5)
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    try:
        httpx.get(server.url + "/pid", timeout=2)
        refused = False
    except httpx.TransportError:
        refused = True
    client.join()
    assert refused
    assert server.proc.wait(timeout=10) == 0


def test_supervisor_sigterm_stops_every_worker_with_exit_0(hyper_server, tmp_path):
    marker = tmp_path / "marker"
    server = hyper_server("workers_app:app", "--workers", "2", env={"HYPER_TEST_MARKER": str(marker)})
    pids_seen(server.url)
    assert server.stop() == 0
    assert len(marker.read_text().splitlines()) == 2
