"""A minimal WebSocket client on raw asyncio streams, cheap enough to hold
thousands of connections in one test process (no task or buffer beyond the
stream's own). Text, close, ping and pong frames; client frames are masked (RFC 6455)."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct

TEXT = 0x1
CLOSE = 0x8
PING = 0x9
PONG = 0xA


class WsClient:
    """One connection: ``await WsClient.connect(host, port, path)``, then
    ``await recv()`` → ``(opcode, payload)``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, host: str, port: int, path: str, receive_buffer: int | None = None) -> WsClient:
        """Opens and upgrades a connection. ``receive_buffer`` shrinks the socket's
        receive buffer (SO_RCVBUF), so that a client that stops reading stalls the
        server's writes soon."""
        sock = socket.socket()
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            # Loopback's 64 KiB segments would give the server's socket a send
            # buffer of a megabyte or more (ten segments, doubled): small ones keep it small.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
        except BaseException:
            sock.close()
            raise
        reader, writer = await asyncio.open_connection(sock=sock)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise ConnectionError(f"upgrade refused: {head.splitlines()[0]!r}")
        return cls(reader, writer)

    def stop_reading(self) -> None:
        """Reads nothing more from the socket (asyncio would otherwise read ahead
        into its own buffer) until :meth:`recv` is called: a slow consumer."""
        self.writer.transport.pause_reading()

    async def recv(self) -> tuple[int, bytes]:
        """The next text, binary or close frame's opcode and payload (the server
        sends unfragmented frames); pings are answered on the way."""
        if not self.writer.transport.is_reading():
            self.writer.transport.resume_reading()
        while True:
            first, second = await self.reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            opcode, payload = first & 0x0F, await self.reader.readexactly(length)
            if opcode == PING:
                self._send(PONG, payload)
            elif opcode != PONG:
                return opcode, payload

    def send_text(self, text: str) -> None:
        self._send(TEXT, text.encode())

    def close(self, code: int = 1000) -> None:
        """Sends a close frame and closes the socket."""
        try:
            self._send(CLOSE, struct.pack("!H", code))
        finally:
            self.writer.close()

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(head + mask + masked)


def close_code(payload: bytes) -> int:
    """The status code of a close frame's payload (1005: none given)."""
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
