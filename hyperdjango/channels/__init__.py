"""Channel layers: publish/subscribe, groups, presence and history.

One interface (:class:`ChannelLayer`), several transports; swapping the
layer needs no handler change::

    layer = InMemoryChannelLayer()          # one process
    channel = layer.channel("chat:room1")
    sub_id = channel.subscribe(print)       # sync or async callback
    await channel.publish({"type": "message", "text": "hi"})

Only the in-memory layer exists so far; the PostgreSQL (LISTEN/NOTIFY) and
Redis layers will implement the same :class:`ChannelLayer` transport hooks.
"""

from .base import Channel, ChannelLayer, Group
from .memory import InMemoryChannelLayer

__all__ = ["Channel", "ChannelLayer", "Group", "InMemoryChannelLayer"]
