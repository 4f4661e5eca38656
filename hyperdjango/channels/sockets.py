"""A channel's WebSocket subscribers, fed straight by the engine.

``channel.subscribe(ws.send_text)`` (or ``ws.send_json``, ``ws.send_bytes``)
needs no task and no queue of its own: sends never wait, so each published
message is encoded once and handed to the engine in one call for all of
those sockets (:func:`hyperdjango.websockets.broadcast`'s mechanism), in
publication order. A socket that has gone, or whose send queue overflowed
(closed with 1013 and counted by the server), stops being a subscriber, as
when a callback raises ``WebSocketDisconnect``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from .._core import ws_broadcast
from ..websockets import WebSocket

if TYPE_CHECKING:
    from .._core import WebSocketConnection
    from .base import ChannelLayer

log = logging.getLogger("hyperdjango.channels")

def _as_text(message: Any) -> str:
    if not isinstance(message, str):
        raise TypeError(f"send_text needs a str, got {type(message).__name__}")
    return message


def _as_json(message: Any) -> str:
    return orjson.dumps(message).decode("utf-8")


def _as_bytes(message: Any) -> bytes:
    if not isinstance(message, (bytes, bytearray, memoryview)):
        raise TypeError(f"send_bytes needs bytes, got {type(message).__name__}")
    return bytes(message)


#: The WebSocket send methods a subscription may be, and how each encodes a message.
_ENCODERS: dict[Callable[..., Any], Callable[[Any], str | bytes]] = {
    WebSocket.send_text: _as_text,
    WebSocket.send_json: _as_json,
    WebSocket.send_bytes: _as_bytes,
}


def socket_of(callback: Any) -> tuple[WebSocket, Callable[[Any], str | bytes]] | None:
    """``(ws, encoder)`` when ``callback`` is a WebSocket's own send method, else None."""
    ws = getattr(callback, "__self__", None)
    if not isinstance(ws, WebSocket):
        return None
    encoder = _ENCODERS.get(getattr(callback, "__func__", None))  # type: ignore[arg-type]
    return None if encoder is None else (ws, encoder)


class SocketSubscribers:
    """The direct WebSocket subscribers of one channel, grouped by encoding."""

    __slots__ = ("_groups", "_layer")

    def __init__(self, layer: ChannelLayer) -> None:
        self._layer = layer
        #: encoder -> {sub_id: ws}, and the engine connections in that order once known.
        self._groups: dict[Callable[[Any], str | bytes], tuple[dict[str, WebSocket], list[WebSocketConnection] | None]] = {}

    def add(self, sub_id: str, ws: WebSocket, encoder: Callable[[Any], str | bytes]) -> None:
        members, _ = self._groups.get(encoder, ({}, None))
        members[sub_id] = ws
        self._groups[encoder] = (members, None)

    def remove(self, sub_id: str) -> bool:
        for encoder, (members, _) in self._groups.items():
            if members.pop(sub_id, None) is not None:
                self._groups[encoder] = (members, None)
                return True
        return False

    def ids(self) -> list[str]:
        return [sub_id for members, _ in self._groups.values() for sub_id in members]

    def __len__(self) -> int:
        return sum(len(members) for members, _ in self._groups.values())

    def deliver(self, channel_name: str, message: Any) -> None:
        counters = self._layer._counters
        for encoder, (members, conns) in list(self._groups.items()):
            if not members:
                continue
            try:
                payload = encoder(message)
            except TypeError as exc:
                counters["callback_errors"] += len(members)
                log.error("channel %s: a message its WebSocket subscribers cannot take: %s", channel_name, exc)
                continue
            if conns is None:
                # Sending accepts a socket not accepted yet, as `ws.send_text` does.
                conns = [ws._connection() for ws in members.values()]
                self._groups[encoder] = (members, conns)
            failed = ws_broadcast(conns, payload)
            counters["delivered"] += len(conns) - len(failed)
            if failed:
                ids = list(members)
                for position, _code in failed:
                    counters["closed_subscribers"] += 1
                    self.remove(ids[position])
