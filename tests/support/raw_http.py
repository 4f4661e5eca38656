"""HTTP over a plain socket: for requests no well-behaved client would send."""

from __future__ import annotations

import socket


def raw_request(base_url: str, data: bytes, timeout: float = 5.0) -> bytes:
    """Sends ``data`` as is on a new connection and returns everything the
    server writes back until it closes the connection."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)
