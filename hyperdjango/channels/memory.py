"""The in-memory channel layer: one process, no transport."""

from __future__ import annotations

from typing import Any

from .base import ChannelLayer


class InMemoryChannelLayer(ChannelLayer):
    """Channels, groups, presence and history inside one process (development,
    tests, a single worker). Use the PostgreSQL layer across processes.

    >>> import asyncio
    >>> async def main():
    ...     layer = InMemoryChannelLayer()
    ...     got = []
    ...     layer.channel("news").subscribe(got.append)
    ...     await layer.channel("news").publish({"text": "hi"})
    ...     await asyncio.sleep(0)
    ...     return got
    >>> asyncio.run(main())
    [{'text': 'hi'}]
    """

    async def _transmit(self, channel: str, message: Any) -> None:
        self._deliver(channel, message)

    def _transmit_presence(self, channel: str, action: str, user_id: str, metadata: dict[str, Any]) -> None:
        self._apply_presence(channel, action, user_id, metadata)

    def _transmit_group(self, group: str, channel: str, member: bool) -> None:
        self._apply_group(group, channel, member)
