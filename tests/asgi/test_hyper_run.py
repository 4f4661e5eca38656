"""``hyper run module:attribute`` serves a HyperApp, an ASGI app or a WSGI app,
detected or named with ``--interface``, with workers and ``--root-path``."""

from __future__ import annotations

import subprocess
import sys

import httpx

from support.servers import TESTS, serving


def test_an_asgi_app_is_detected_and_served_by_several_workers():
    with serving("hyper", "support.asgi_apps:raw_asgi_app", "--workers", "2", "--root-path", "/app") as url:
        answers = {httpx.get(url + "/app/x", headers={"connection": "close"}).text for _ in range(40)}
    assert all(a.startswith("asgi ") and a.endswith(" /app") for a in answers)
    assert len(answers) == 2  # two processes shared the port


def test_a_wsgi_app_is_detected():
    with serving("hyper", "support.asgi_apps:raw_wsgi_app") as url:
        assert httpx.get(url + "/").text == "wsgi "


def test_the_interface_can_be_named():
    with serving("hyper", "support.asgi_apps:raw_wsgi_app", "--interface", "wsgi", "--root-path", "/w") as url:
        assert httpx.get(url + "/w/page").text == "wsgi /w"


def test_a_target_that_is_no_app_is_a_clear_error():
    done = subprocess.run(
        [sys.executable, "-m", "hyperdjango", "run", "support.asgi_apps:started"], cwd=TESTS, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": f"{TESTS}:{TESTS.parent}", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode != 0
    assert "is not a HyperApp, an ASGI app or a WSGI app" in done.stderr
    assert "it is list" in done.stderr


def test_max_body_size_can_be_set():
    with serving("hyper", "support.asgi_apps:raw_wsgi_app", "--max-body-size", "100") as url:
        assert httpx.post(url + "/", content=b"x" * 100).status_code == 200
        assert httpx.post(url + "/", content=b"x" * 101).status_code == 413
