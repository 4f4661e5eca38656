"""permessage-deflate (RFC 7692) against the real server: the `websockets` client
(which offers it by default) and, to see the bits on the wire, a raw socket."""

from __future__ import annotations

import base64
import os
import socket
import struct
import zlib

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from hyperdjango import HyperApp
from hyperdjango.testing import TestClient
from support.websocket_apps import add_echo


def make_app() -> HyperApp:
    app = HyperApp()

    add_echo(app)

    return app


@pytest.fixture(scope="module")
def client():
    with TestClient(make_app(), ws_compression=True, ws_max_message_size=256 * 1024) as client:
        yield client


def extensions(ws) -> str | None:
    return ws.conn.response.headers.get("Sec-WebSocket-Extensions")


def test_compression_is_off_by_default():
    with TestClient(make_app()) as client, client.websocket_connect("/ws/echo") as ws:
        assert extensions(ws) is None
        ws.send_text("x" * 1000)
        assert ws.receive_text() == "x" * 1000


def test_the_offer_is_accepted_without_server_context_takeover(client):
    with client.websocket_connect("/ws/echo") as ws:
        assert extensions(ws) == "permessage-deflate; server_no_context_takeover"


def test_a_large_compressible_message_echoes(client):
    text = "the quick brown fox jumps over the lazy dog; " * 5000  # 225 KB
    with client.websocket_connect("/ws/echo") as ws:
        for _ in range(3):  # the client keeps its context between messages
            ws.send_text(text)
            assert ws.receive_text() == text
        ws.send_bytes(bytes(200_000))
        assert ws.receive_bytes() == bytes(200_000)


def test_small_and_incompressible_messages_echo(client):
    noise = os.urandom(100_000)
    with client.websocket_connect("/ws/echo") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"
        ws.send_bytes(noise)
        assert ws.receive_bytes() == noise


def test_a_fragmented_compressed_message_is_reassembled(client):
    parts = ["first part " * 100, "second part " * 100, "third"]
    with client.websocket_connect("/ws/echo") as ws:
        ws.conn.send(parts)  # one message in three frames, compressed as one
        assert ws.receive_text() == "".join(parts)


def test_a_message_over_the_limit_after_inflation_closes_with_1009(client):
    with client.websocket_connect("/ws/echo") as ws:
        ws.send_bytes(bytes(1024 * 1024))  # 1 MiB of zeros: ~1 KiB compressed, 4x the limit inflated
        with pytest.raises(ConnectionClosed):
            ws.receive()
        assert ws.close_code == 1009


def test_an_offer_the_server_cannot_honour_is_declined(client):
    offer = ClientPerMessageDeflateFactory(server_max_window_bits=10)
    with client.websocket_connect("/ws/echo", compression=None, extensions=[offer]) as ws:
        assert extensions(ws) is None
        ws.send_text("plain " * 100)
        assert ws.receive_text() == "plain " * 100


def test_a_client_without_context_takeover_is_accepted(client):
    offer = ClientPerMessageDeflateFactory(client_no_context_takeover=True, client_max_window_bits=9)
    with client.websocket_connect("/ws/echo", compression=None, extensions=[offer]) as ws:
        assert extensions(ws).startswith("permessage-deflate")
        for n in range(3):
            ws.send_text(f"message {n} " * 200)
            assert ws.receive_text() == f"message {n} " * 200


# -- on the wire -----------------------------------------------------------------------


def raw_connect(client) -> socket.socket:
    host, port = client.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws/echo HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101") and b"permessage-deflate" in head.lower()
    return sock


def masked_frame(first_byte: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    length = struct.pack("!BH", 0x80 | 126, len(payload)) if len(payload) > 125 else bytes([0x80 | len(payload)])
    return bytes([first_byte]) + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            assert chunk, "the server hung up"
            data += chunk
        return data

    first, second = exactly(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", exactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", exactly(8))
    return first, exactly(length)


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


def inflate(data: bytes) -> bytes:
    return zlib.decompressobj(wbits=-15).decompress(data + b"\x00\x00\xff\xff")


def test_frames_on_the_wire_carry_rsv1_and_deflate_data(client):
    text = ("hello compressed world " * 200).encode()
    with raw_connect(client) as sock:
        sock.sendall(masked_frame(0x80 | 0x40 | 0x1, deflate(text)))  # FIN, RSV1, text
        first, payload = read_frame(sock)
        assert first == 0x80 | 0x40 | 0x1  # the echo is compressed too
        assert len(payload) < len(text) // 10
        assert inflate(payload) == text
        sock.sendall(masked_frame(0x80 | 0x1, b"short"))  # plain frames still work
        assert read_frame(sock) == (0x81, b"short")


def test_a_broken_compressed_message_fails_the_connection(client):
    with raw_connect(client) as sock:
        sock.sendall(masked_frame(0x80 | 0x40 | 0x2, b"\xff" * 20))  # not deflate data
        first, payload = read_frame(sock)
        assert first == 0x88  # close
        assert struct.unpack("!H", payload[:2])[0] == 1002
