"""Channel layers: publish/subscribe, groups, presence and history.

One interface (:class:`ChannelLayer`), three transports; swapping the layer
needs no handler change::

    layer = InMemoryChannelLayer()                       # one process
    layer = PgChannelLayer(database_url="postgres://localhost/mydb")
    layer = RedisChannelLayer("redis://localhost:6379/0")
    await layer.connect()
    channel = layer.channel("chat:room1")
    sub_id = channel.subscribe(print)                    # sync or async callback
    await channel.publish({"type": "message", "text": "hi"})

``base.py`` holds the interface and the process-local side, ``memory.py`` the
one-process layer, ``distributed.py`` what the cross-process layers share, and
``postgres.py`` (with ``pg_schema.py``) and ``redis.py`` their transports.
"""

from .base import Channel, ChannelLayer, Group
from .distributed import ChannelLayerUnavailable
from .memory import InMemoryChannelLayer
from .postgres import PgChannelLayer
from .redis import RedisChannelLayer

__all__ = ["Channel", "ChannelLayer", "ChannelLayerUnavailable", "Group", "InMemoryChannelLayer", "PgChannelLayer", "RedisChannelLayer"]
