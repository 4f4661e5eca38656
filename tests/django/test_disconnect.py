"""Django 5 cancels an async view when ASGI reports ``http.disconnect``: on
``hyper run`` that happens as soon as the client goes away."""

from __future__ import annotations

import socket
import time

from support.servers import serving


def test_django_cancels_the_view_when_the_client_goes_away(tmp_path):
    marker = tmp_path / "marker"
    with serving("hyper", "support.django_disconnect_app:application", env={"DISCONNECT_MARKER": str(marker)}) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as client:
            client.sendall(b"GET /slow HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
            time.sleep(0.5)  # the view is running
        deadline = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        # Checked while the server still runs: its shutdown would cancel the view too.
        assert marker.exists() and marker.read_text() == "cancelled"
