"""The completion bridge of each event loop.

Rust work (database queries, ...) returns a ``RustFuture`` that is finished on
the loop it was started from: each loop gets one ``LoopBridge`` whose eventfd
the loop watches, so finished work wakes it at most once per batch.
"""

from __future__ import annotations

import asyncio
import weakref

from .._core import LoopBridge

_bridges: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopBridge] = weakref.WeakKeyDictionary()


def loop_bridge() -> LoopBridge:
    """The running loop's bridge, created and registered on first use."""
    loop = asyncio.get_running_loop()
    bridge = _bridges.get(loop)
    if bridge is None:
        bridge = LoopBridge(loop)
        loop.add_reader(bridge.fileno(), bridge.drain)
        _bridges[loop] = bridge
    return bridge
